"""The Slack stand-in itself: one object, one HTTP port, one lock over all its state. See the
package docstring for what it plays."""

from __future__ import annotations

import copy
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

from triage_sandbox.slack_standin.app_requests import AppRequests
from triage_sandbox.slack_standin.model import (
    ApiCall,
    Channel,
    Delivery,
    ResponsePost,
    SlackError,
    User,
    Usergroup,
)
from triage_sandbox.slack_standin.response_url import ResponseUrls
from triage_sandbox.slack_standin.server import Handler, Server
from triage_sandbox.slack_standin.socket_mode import SocketMode
from triage_sandbox.slack_standin.webapi import WebApi
from triage_sandbox.slack_standin.workspace import Workspace


class SlackStandIn(AppRequests, SocketMode):
    """Local Slack: a Web API server plus signed Slack -> app requests, or Socket Mode envelopes.

    ``app_token`` is the app-level token (``xapp-...``) ``apps.connections.open`` accepts.
    ``channels`` maps channel ids to a name (bot is a member) or a :class:`Channel`;
    ``users`` maps user ids to a name or a :class:`User`; ``usergroups`` maps ids to a
    :class:`Usergroup`. The bot itself is ``bot_user_id`` and always exists as a user.
    """

    def __init__(
        self,
        signing_secret: str,
        bot_token: str = "xoxb-test",
        *,
        channels: Mapping[str, str | Channel] | None = None,
        users: Mapping[str, str | User] | None = None,
        usergroups: Mapping[str, Usergroup] | None = None,
        team_id: str = "T0TEAM",
        team_domain: str = "triage-sandbox",
        app_id: str = "A0APP",
        bot_id: str = "B0BOT",
        bot_user_id: str = "U0BOT",
        bot_name: str = "triage-bot",
        verification_token: str = "verification-token",
        channel_rate_limit: bool = False,
        trigger_ttl: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_url: str | None = None,
        app_token: str = "xapp-1-A0APP-1-test",
    ) -> None:
        if not app_token.startswith("xapp-"):
            raise ValueError(f"an app-level token starts with 'xapp-', not {app_token[:5]!r}")
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = app_id
        self.bot_id = bot_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.verification_token = verification_token
        self._host = host
        self._port = port
        self._bot_url: str | None = None
        self.bot_url = bot_url
        self._lock = threading.RLock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.workspace = Workspace(
            channels=channels,
            users=users,
            usergroups=usergroups,
            team_id=team_id,
            team_domain=team_domain,
            app_id=app_id,
            bot_id=bot_id,
            bot_user_id=bot_user_id,
            bot_name=bot_name,
            trigger_ttl=trigger_ttl,
            channel_rate_limit=channel_rate_limit,
        )
        self._api = WebApi(self.workspace, bot_token, app_token)
        self._response_urls = ResponseUrls(self.workspace, lambda: self.base_url)
        self._deliveries: list[Delivery] = []
        self._init_sockets()

    def _reset_state(self) -> None:
        self.workspace.reset()
        self._api.reset()
        self._response_urls.reset()
        self._deliveries = []
        self._reset_socket_log()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Start serving on a free port; returns the base URL (``http://127.0.0.1:PORT``)."""
        with self._lock:
            if self._server is not None:
                return self.base_url
            server = Server((self._host, self._port), Handler)
            server.standin = self
            self._server = server
            self.workspace.socket_base = self._start_sockets()
            self.workspace.upload_base = self.base_url
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="slack-standin",
                daemon=True,
            )
            self._thread.start()
            return self.base_url

    def stop(self) -> None:
        """Close Socket Mode connections (close frame 1001, as a server going away), then stop
        serving."""
        with self._lock:
            self.workspace.socket_base = None  # an auto-reconnecting client must not come back
            server, thread = self._server, self._thread
            self._server = self._thread = None
        self._stop_sockets()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``slack_sdk.WebClient``."""
        return f"{self.base_url}/api/"

    @property
    def ui_url(self) -> str:
        """The browsable sandbox (channels, the bot's messages, buttons, slash commands)."""
        return f"{self.base_url}/"

    @property
    def bot_url(self) -> str | None:
        """Where the sandbox UI sends its signed clicks, selects and slash commands (the app's
        request URL, e.g. ``http://127.0.0.1:8000/slack/events``); ``None`` until set."""
        return self._bot_url

    @bot_url.setter
    def bot_url(self, url: str | None) -> None:
        if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"bot_url must be an http(s) URL, not {url!r}")
        self._bot_url = url

    # ------------------------------------------------------------------ configuration
    def add_channel(self, channel_id: str, channel: str | Channel) -> None:
        with self._lock:
            self.workspace.channels[channel_id] = (
                Channel(channel) if isinstance(channel, str) else channel
            )

    def set_member(self, channel: str, is_member: bool) -> None:
        with self._lock:
            self.workspace.channels[
                self.workspace.channel_id(channel, by_name=True)
            ].is_member = is_member

    def set_channel_rate_limit(
        self, enabled: bool = True, *, per_second: float = 1.0, burst: int = 1
    ) -> None:
        """Limit ``chat.postMessage`` per channel like Slack (about 1/s): beyond ``burst``,
        answer 429 with ``Retry-After``."""
        with self._lock:
            self.workspace.set_channel_rate_limit(enabled, per_second, burst)

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``"*"``: any method) with a fault:
        HTTP 429 + ``Retry-After`` + ``{"ok": false, "error": "ratelimited"}`` (the default),
        HTTP ``status`` (5xx), or HTTP 200 ``{"ok": false, "error": error}`` when only
        ``error`` is given. Faults queue up in order."""
        with self._lock:
            self._api.inject(
                method, status=status, retry_after=retry_after, error=error, times=times
            )

    def reset(self) -> None:
        """Forget calls, messages, views, responses and faults; channels as configured."""
        with self._lock:
            self._reset_state()

    # ------------------------------------------------------------------ inspection
    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._api.calls)

    def calls_for(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._api.calls if c.method == method]

    @property
    def warnings(self) -> list[str]:
        """Every call warning as ``"method: warning"``; tests assert this is empty."""
        with self._lock:
            return [f"{c.method}: {w}" for c in self._api.calls for w in c.warnings]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel (id, ``#name`` or user id for the DM), oldest first,
        as they are now (after edits and deletes), each with ``replies`` (its thread)."""
        with self._lock:
            try:
                cid = self.workspace.channel_id(channel, by_name=True, open_dm=False)
            except SlackError:
                return []
            return self.workspace.thread_listing(cid)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            try:
                cid = self.workspace.channel_id(channel, by_name=True, open_dm=False)
            except SlackError:
                return None
            msg = self.workspace.messages.get(cid, {}).get(ts)
            return copy.deepcopy(msg) if msg is not None else None

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self.workspace.ephemerals
                if (channel is None or e["channel"] == channel)
                and (user is None or e["user"] == user)
            ]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            view = self.workspace.home_views.get(user_id)
            return copy.deepcopy(view) if view else None

    @property
    def modals(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(v) for v in self.workspace.modals.values()]

    @property
    def responses(self) -> list[ResponsePost]:
        with self._lock:
            return list(self._response_urls.posts)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def channel(self, channel: str) -> Channel:
        with self._lock:
            return replace(
                self.workspace.channels[self.workspace.channel_id(channel, by_name=True)]
            )

    @property
    def users(self) -> dict[str, User]:
        """User id -> :class:`User`, the bot included."""
        with self._lock:
            return dict(self.workspace.users)

    def ui_snapshot(self, history: int = 40) -> dict[str, Any]:
        """Everything the sandbox UI shows, copied under the lock: channels, users, each
        channel's messages (with threads), ephemerals, and the last ``history`` Web API calls
        and deliveries to the app."""
        with self._lock:
            return {
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "bot_user_id": self.bot_user_id,
                "bot_name": self.bot_name,
                "bot_url": self._bot_url,
                "channels": {cid: replace(ch) for cid, ch in self.workspace.channels.items()},
                "users": dict(self.workspace.users),
                "messages": {cid: self.messages(cid) for cid in self.workspace.channels},
                "ephemerals": copy.deepcopy(self.workspace.ephemerals),
                "calls": self._api.calls[-history:],
                "deliveries": self._deliveries[-history:],
            }

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02
    ) -> bool:
        """Poll ``predicate`` until it is truthy (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # ------------------------------------------------------------------ the HTTP endpoints
    def handle_api(
        self, method: str, verb: str, headers: Mapping[str, str], query: str, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        with self._lock:
            return self._api.handle(method, verb, headers, query, body)

    def handle_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        """``POST /upload/v1/<file id>``: the bytes of a file announced with
        files.getUploadURLExternal (raw, as slack_sdk sends them)."""
        with self._lock:
            f = self.workspace.files.get(file_id)
            if f is None or f.get("completed"):
                return 404, "unknown or already completed upload"
            f["data"] = body
            return 200, f"OK - {len(body)}"

    def handle_response_url(
        self, url_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str]:
        with self._lock:
            return self._response_urls.handle(url_id, headers, body)
