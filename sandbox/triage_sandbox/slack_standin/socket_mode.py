"""Socket Mode: ``apps.connections.open`` hands out ``ws://HOST:PORT/socket/<ticket>`` (a port of
its own, served by the ``websockets`` library). The endpoint greets with ``hello``, pushes
envelopes (slash commands, interactions, events) as Slack does, and records the app's acks and
its pongs to ``socket_ping``."""

from __future__ import annotations

import http
import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from triage_sandbox.slack_standin.model import SOCKET_TICKET_TTL_SECONDS, SocketAck, SocketEnvelope
from triage_sandbox.slack_standin.response_url import ResponseUrls
from triage_sandbox.slack_standin.workspace import Workspace

MAX_MESSAGE = 16 * 1024 * 1024


class SocketMode:
    """The Socket Mode half of :class:`~triage_sandbox.slack_standin.SlackStandIn`. Open
    connections survive ``reset()``; they end with ``stop()`` or the client."""

    workspace: Workspace
    app_id: str
    _host: str
    _lock: threading.RLock
    _response_urls: ResponseUrls

    def _init_sockets(self) -> None:
        self._sockets: dict[str, ServerConnection] = {}
        self._socket_server: Server | None = None
        self._socket_thread: threading.Thread | None = None
        self._reset_socket_log()

    def _reset_socket_log(self) -> None:
        self._envelopes: dict[str, tuple[SocketEnvelope, float]] = {}
        self._socket_acks: list[SocketAck] = []
        self._pings: list[tuple[str, bytes, threading.Event]] = []

    # ------------------------------------------------------------------ serving
    def _start_sockets(self) -> str:
        """Listen for Socket Mode connections; returns the URL tickets are appended to."""
        server = serve(
            self._run_socket,
            self._host,
            0,
            process_request=self._check_ticket,
            max_size=MAX_MESSAGE,
            ping_interval=None,  # the app's client pings; pings from here are socket_ping's
            server_header="SlackStandIn/1.0",
        )
        self._socket_server = server
        self._socket_thread = threading.Thread(
            target=server.serve_forever, name="slack-standin-socket", daemon=True
        )
        self._socket_thread.start()
        return f"ws://{self._host}:{server.socket.getsockname()[1]}/socket/"

    def _stop_sockets(self) -> None:
        """Close every connection with 1001 (going away) and stop listening."""
        server, thread = self._socket_server, self._socket_thread
        self._socket_server = self._socket_thread = None
        if server is not None:
            server.shutdown(code=1001, reason="going away")
        if thread is not None:
            thread.join(timeout=5)

    def _check_ticket(self, conn: ServerConnection, request: Request) -> Response | None:
        """Refuse a bad handshake as the library does, then a ticket that is unknown, expired
        or used; the handshake is checked first so that a refused one keeps its ticket."""
        response = conn.protocol.accept(request)
        if response.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return response
        ticket = request.path.partition("?")[0].removeprefix("/socket/")
        with self._lock:
            issued = self.workspace.socket_tickets.pop(ticket, None)
            ok = (
                self.workspace.socket_base is not None
                and issued is not None
                and time.monotonic() - issued < SOCKET_TICKET_TTL_SECONDS
            )
        if not ok:
            return conn.respond(http.HTTPStatus.UNAUTHORIZED, "invalid or expired ticket\n")
        return response

    def _run_socket(self, conn: ServerConnection) -> None:
        """One connection, on its own thread: ``hello``, then acks until it closes (the library
        answers pings and the close handshake)."""
        conn_id = f"WS{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._sockets[conn_id] = conn
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-standin",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        try:
            conn.send(json.dumps(hello))
            for message in conn:
                if isinstance(message, bytes):
                    conn.close(1003, "binary frames are not accepted")
                    break
                self._on_socket_text(conn_id, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._sockets.pop(conn_id, None)

    # ------------------------------------------------------------------ inspection and pushes
    @property
    def socket_connections(self) -> list[str]:
        """Ids of the open Socket Mode connections, oldest first."""
        with self._lock:
            return list(self._sockets)

    @property
    def socket_envelopes(self) -> list[SocketEnvelope]:
        """Every envelope pushed to the app, oldest first."""
        with self._lock:
            return [envelope for envelope, _ in self._envelopes.values()]

    @property
    def socket_acks(self) -> list[SocketAck]:
        """Every ack the app sent, in arrival order (``wait_for`` on it)."""
        with self._lock:
            return list(self._socket_acks)

    def socket_ack(self, envelope_id: str) -> SocketAck | None:
        """The app's first ack of ``envelope_id``; ``None`` while it has not acked."""
        with self._lock:
            return next((a for a in self._socket_acks if a.envelope_id == envelope_id), None)

    def socket_slash_command(
        self,
        text: str = "top",
        user_id: str = "U1",
        channel_id: str = "C0ALERTS",
        *,
        command: str = "/triage",
        connection: str | None = None,
    ) -> str:
        """Push a slash command (``type: slash_commands``) over Socket Mode; returns the
        envelope id. A payload in the ack is treated as an HTTP ack body is."""
        payload = self._slash_payload(command, text, user_id, channel_id)
        return self._send_envelope("slash_commands", payload, True, connection)

    def socket_click_button(
        self,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        user_id: str = "U1",
        *,
        connection: str | None = None,
    ) -> str:
        """Click a button as :meth:`click_button` does, over Socket Mode (``type:
        interactive``, the ``block_actions`` payload); returns the envelope id."""
        cid, msg, block_id, action = self._button_action(channel, ts, action_id, value)
        payload = self._block_action_payload(cid, msg, block_id, action, user_id)
        return self._send_envelope("interactive", payload, False, connection)

    def socket_event(self, event: dict[str, Any], *, connection: str | None = None) -> str:
        """Push an Events API event (``type: events_api``, the ``event_callback`` payload of
        :meth:`send_event`); returns the envelope id."""
        kind, payload = self._event_payload(event)
        if kind != "event":
            raise ValueError("url_verification does not exist in Socket Mode")
        return self._send_envelope("events_api", payload, False, connection)

    def socket_disconnect(
        self, reason: str = "refresh_requested", *, connection: str | None = None
    ) -> None:
        """Send Slack's ``disconnect`` message (a client then opens a new connection and drops
        this one)."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-standin"},
        }
        _, conn = self._pick_socket(connection)
        conn.send(json.dumps(message))

    @property
    def socket_pongs(self) -> list[tuple[str, bytes]]:
        """(connection, payload) of every pong the app sent in answer to ``socket_ping``."""
        with self._lock:
            return [(conn_id, data) for conn_id, data, pong in self._pings if pong.is_set()]

    def socket_ping(self, payload: bytes = b"", *, connection: str | None = None) -> None:
        """Send a ping frame; the app's pong shows in ``socket_pongs``."""
        conn_id, conn = self._pick_socket(connection)
        pong = conn.ping(payload)
        with self._lock:
            self._pings.append((conn_id, payload, pong))

    def close_sockets(self, code: int = 1000, reason: str = "") -> None:
        """Close every Socket Mode connection (the close handshake, or the TCP connection when
        the client does not answer in time)."""
        with self._lock:
            conns = list(self._sockets.values())
        for conn in conns:
            conn.close(code, reason)

    def _pick_socket(self, connection: str | None) -> tuple[str, ServerConnection]:
        with self._lock:
            if connection is not None:
                if connection not in self._sockets:
                    raise LookupError(f"no open Socket Mode connection {connection!r}")
                return connection, self._sockets[connection]
            if not self._sockets:
                raise LookupError("no Socket Mode connection: the app has not connected")
            return list(self._sockets.items())[-1]

    def _send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts_response_payload: bool,
        connection: str | None,
    ) -> str:
        conn_id, conn = self._pick_socket(connection)
        envelope_id = str(uuid.uuid4())
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            message.update(retry_attempt=0, retry_reason="")
        with self._lock:
            record = SocketEnvelope(
                envelope_id, kind, payload, conn_id, accepts_response_payload, time.time()
            )
            self._envelopes[envelope_id] = (record, time.monotonic())
        try:
            conn.send(json.dumps(message))
        except ConnectionClosed as e:
            raise ConnectionError(f"Socket Mode connection {conn_id} is closed") from e
        return envelope_id

    def _on_socket_text(self, conn_id: str, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return  # Slack ignores what it cannot parse
        if not isinstance(message, dict) or not message.get("envelope_id"):
            return
        envelope_id = str(message["envelope_id"])
        payload = message.get("payload")
        with self._lock:
            found = self._envelopes.get(envelope_id)
            envelope = found[0] if found else None
            seconds = time.monotonic() - found[1] if found else 0.0
            self._socket_acks.append(
                SocketAck(
                    envelope_id,
                    envelope.type if envelope else "",
                    payload if isinstance(payload, dict) else None,
                    seconds,
                    conn_id,
                )
            )
            first = sum(a.envelope_id == envelope_id for a in self._socket_acks) == 1
        if (
            first
            and envelope is not None
            and envelope.accepts_response_payload
            and isinstance(payload, dict)
            and payload
        ):
            # Like an HTTP slash command's ack body: an ephemeral or in-channel response.
            with self._lock:
                self._response_urls.record_ack(
                    envelope.payload["response_url"], json.dumps(payload)
                )
