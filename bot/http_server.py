"""The HTTP server: waitress, in-process beside the pullers and the notifier.

waitress reads requests on one I/O thread and hands only complete requests to a bounded pool
of worker threads, so an idle or slow connection holds no worker, and a slow body cannot hold
one either. Its limits bound what a request may cost before the app sees a byte: header size,
body size (per path: Slack's payloads are small, a Pub/Sub push may carry 10 MB), number of
connections and an inactivity timeout. (gunicorn forks workers, which does not fit a process
whose pullers and notifier run in threads; wsgiref had a thread per connection, no cap and no
timeout.)

In front of Bolt, `guard_slack` refuses a request whose signature is missing, stale or wrong
with one WARNING line and a 401, before anything parses its body: Bolt parses the body before
it checks the signature and answered malformed unsigned requests with a 500 and a traceback.
Bolt still checks the signature itself; this check adds to it. Bodies are never logged.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import create_server
from waitress.utilities import RequestEntityTooLarge

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Slack's requests (slash commands, block actions carrying one of our messages, view
# submissions of our modals) are a few KB, at most a few hundred; 512 KB is far above them.
MAX_SLACK_BODY = 512 * 1024
# A Pub/Sub push carries up to 10 MB of message data, base64-encoded (x4/3) in a JSON envelope.
MAX_PUSH_BODY = 14 * 1024 * 1024
PUSH_PATH = "/pubsub/push"
SIGNATURE_WINDOW_S = 300  # Slack's five minutes


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one process serves at once. connection_limit x MAX_SLACK_BODY bounds the memory
    request bodies can take (256 MB with these defaults; bodies over 512 KB spool to a file)."""

    threads: int = 8  # worker threads running the app (Bolt acks within 3 s)
    connection_limit: int = 500  # open connections; idle ones cost a socket, not a thread
    channel_timeout: int = 10  # seconds a connection may sit without sending a byte
    max_header: int = 64 * 1024
    push: bool = False  # push mode: /pubsub/push may carry MAX_PUSH_BODY


def _parser_class(limits: HttpLimits) -> type[HTTPRequestParser]:
    class Parser(HTTPRequestParser):
        """waitress's parser with a per-path body limit, applied as soon as the headers are
        in (a declared Content-Length) and while a chunked body arrives."""

        def received(self, data: bytes) -> int:
            consumed: int = super().received(data)
            if getattr(self, "error", None) is None and self.headers_finished:
                size = max(self.content_length, self.body_bytes_received)
                limit = MAX_PUSH_BODY if limits.push and self.path == PUSH_PATH else MAX_SLACK_BODY
                if size > limit:
                    self.error = RequestEntityTooLarge(f"body over {limit} bytes")
                    self.completed = True
            return consumed

    return Parser


class HttpServer:
    """A running waitress server; shutdown() stops it and closes its connections."""

    def __init__(self, app: WSGIApp, host: str, port: int, limits: HttpLimits) -> None:
        channel = type("Channel", (HTTPChannel,), {"parser_class": _parser_class(limits)})
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=limits.threads,
            connection_limit=limits.connection_limit,
            channel_timeout=limits.channel_timeout,
            cleanup_interval=max(1, limits.channel_timeout // 2),
            max_request_header_size=limits.max_header,
            max_request_body_size=MAX_PUSH_BODY if limits.push else MAX_SLACK_BODY,
            expose_tracebacks=False,
            ident="triage-bot",
        )
        self._server.channel_class = channel
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the map is closed under it at shutdown
            self._server.run()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Close the listening socket and every connection in the I/O thread (asyncore is not
        thread-safe), which ends its loop; then stop the workers."""
        server = self._server

        def close_all() -> None:
            for channel in list(server._map.values()):  # the server, connections, the trigger
                channel.close()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:  # the trigger is closed: the I/O loop has ended, nothing runs under us
            close_all()
        self._thread.join(timeout)
        server.task_dispatcher.shutdown(timeout=timeout)


def _refuse(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))])
    return [text.encode()]


def guard_slack(app: WSGIApp, signing_secret: str) -> WSGIApp:
    """Refuse (401, one WARNING line) a Slack request that is not signed with the signing
    secret within five minutes, before its body is parsed; pass the rest on, body intact."""
    verifier = SignatureVerifier(signing_secret)

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, "400 Bad Request", "bad Content-Length")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            reason = "missing or malformed X-Slack-Request-Timestamp"
        elif abs(time.time() - int(stamp)) > SIGNATURE_WINDOW_S:
            reason = "stale X-Slack-Request-Timestamp (over 5 minutes)"
        elif not verifier.is_valid(body, stamp, signature):
            reason = "bad X-Slack-Signature"
        else:
            environ["wsgi.input"] = io.BytesIO(body)
            return app(environ, start_response)
        log.warning(
            "refused an unsigned request to %s from %s: %s",
            environ.get("PATH_INFO", "")[:100],
            environ.get("REMOTE_ADDR", "?"),
            reason,
        )
        return _refuse(start_response, "401 Unauthorized", "request not signed by Slack")

    return guarded
