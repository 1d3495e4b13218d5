"""A local stand-in for Slack, for tests and `make demo` (Slack itself is not reachable).

It plays both sides of the wire:

* the Web API at ``http://127.0.0.1:PORT/api/<method>``: point ``slack_sdk.WebClient(base_url=
  standin.api_url)`` at it. Every call is checked against Slack's published Web API description
  (the methods the bot may use, extracted into ``slack_methods.json``), answered with realistic
  state (channels, threads, edits, views, reactions) and recorded;
* Slack -> app requests, signed with the signing secret exactly as Slack signs them: slash
  commands, ``block_actions`` payloads built from the stored message, and Events API envelopes;
  plus the ``response_url`` endpoint (``/response/<id>``) that Bolt's ``respond()`` posts to;
* a browsable sandbox at ``http://HOST:PORT/`` (``ui_url``; :mod:`triage_sandbox.ui`): channels and
  the bot's messages rendered as Slack would, whose buttons, selects and slash-command box make
  the stand-in send the app (``bot_url``) the same signed requests. ``SlackStandIn(...,
  port=3000, bot_url="http://127.0.0.1:8000/slack/events")`` serves it on a fixed port;
* Socket Mode: ``apps.connections.open`` (app-level token ``app_token``) hands out a
  ``ws://HOST:PORT/socket/<ticket>`` URL served by a minimal RFC 6455 endpoint on the same port.
  It greets with ``hello``; ``socket_slash_command``, ``socket_click_button`` and
  ``socket_event`` push envelopes as Slack does, and the app's acks are recorded
  (``socket_acks``, ``socket_ack(envelope_id)``).

Faults for tests: ``inject()`` queues HTTP 429 (with ``Retry-After``), 5xx or ``ok: false``
answers, and a per-channel ``chat.postMessage`` rate limit (1/s like Slack) can be switched on.

Only the standard library is used. All state sits behind one lock, so the server threads, the
test thread and the bot's threads can all use one instance.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import io
import itertools
import json
import math
import re
import secrets
import socket
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from triage_sandbox import ui

METHODS_FILE = Path(__file__).with_name("slack_methods.json")

Signing = Literal["valid", "bad_signature", "stale", "unsigned"]
"""How a Slack -> app request is signed: correctly, with a wrong secret, with a timestamp more
than five minutes old (correctly signed for it), or without the signature headers."""

Surface = Literal["message", "home", "modal"]

# Slack's documented limits (api.slack.com/reference/block-kit and chat.postMessage).
MAX_BLOCKS = {"message": 50, "home": 100, "modal": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_MARKDOWN_TEXT = 12_000
STALE_AFTER_SECONDS = 5 * 60
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
ACK_DEADLINE_SECONDS = 3.0
SOCKET_TICKET_TTL_SECONDS = 30.0
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

# Arguments whose value is JSON when form-encoded.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
# Methods whose missing required argument Slack reports with a specific error.
_MISSING_ARG_ERRORS = {
    "channel": "channel_not_found",
    "user": "user_not_found",
    "timestamp": "no_item_specified",
    "name": "invalid_name",
    "ts": "message_not_found",
    "message_ts": "message_not_found",
}
_CHANNEL_TYPES = ("public_channel", "private_channel", "mpim", "im")
_STATEFUL_ELEMENTS = {
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_users_select": ("selected_users", "initial_users"),
    "checkboxes": ("selected_options", "initial_options"),
    "radio_buttons": ("selected_option", "initial_option"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "plain_text_input": ("value", "initial_value"),
}


# --------------------------------------------------------------------------- data


@dataclass
class Channel:
    """A conversation. ``is_member`` says whether the bot is in it."""

    name: str
    is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None  # the other party of an IM
    created: int = 1_700_000_000


@dataclass(frozen=True)
class User:
    name: str
    real_name: str = ""
    is_bot: bool = False
    tz: str = "Europe/London"
    email: str = ""


@dataclass(frozen=True)
class Usergroup:
    handle: str
    name: str = ""
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the stand-in saw it. ``args`` are decoded (JSON arguments parsed),
    without the token; ``warnings`` lists arguments Slack's description does not know and other
    things Slack accepts silently but that are probably mistakes."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any] | str
    time: float
    warnings: tuple[str, ...] = ()
    http_verb: str = "POST"
    injected: bool = False

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        if isinstance(self.response, dict):
            return self.response.get("error")
        return None


@dataclass(frozen=True)
class ResponsePost:
    """A post to a ``response_url`` (or a slash command's synchronous ack body, ``via="ack"``).
    ``effect`` is what Slack did: ``ephemeral``, ``posted``, ``replaced``, ``deleted`` or the
    error it answered."""

    url_id: str
    via: Literal["response_url", "ack"]
    source: str  # "command" | "block_actions"
    channel: str
    user: str
    message_ts: str | None
    payload: dict[str, Any]
    status: int
    effect: str
    time: float


@dataclass(frozen=True)
class Delivery:
    """A Slack -> app request the stand-in sent, and the app's answer."""

    kind: str  # "command" | "block_actions" | "event" | "url_verification"
    url: str
    signing: Signing
    payload: dict[str, Any]
    status: int
    body: str
    seconds: float

    @property
    def acked_in_time(self) -> bool:
        """Slack gives up (``operation_timeout``) when the app does not answer within 3 s."""
        return self.status == 200 and self.seconds < ACK_DEADLINE_SECONDS


@dataclass(frozen=True)
class SocketEnvelope:
    """An envelope the stand-in pushed over a Socket Mode connection."""

    envelope_id: str
    type: str  # "slash_commands" | "interactive" | "events_api"
    payload: dict[str, Any]
    connection: str
    accepts_response_payload: bool
    time: float


@dataclass(frozen=True)
class SocketAck:
    """The app's acknowledgement of an envelope: ``{"envelope_id": ..., "payload": ...}``.
    ``seconds`` runs from sending the envelope to receiving the ack."""

    envelope_id: str
    type: str  # the envelope's type ("" when the envelope id is unknown)
    payload: dict[str, Any] | None
    seconds: float
    connection: str

    @property
    def acked_in_time(self) -> bool:
        """Slack expects the ack within 3 s, as over HTTP."""
        return self.seconds < ACK_DEADLINE_SECONDS


@dataclass
class _Fault:
    status: int
    retry_after: int
    error: str | None
    remaining: int


@dataclass
class _ResponseUrl:
    source: str
    channel: str
    user: str
    message_ts: str | None
    is_ephemeral: bool
    created: float
    uses: int = 0


class SlackError(Exception):
    """Raised inside the stand-in to answer ``ok: false``; ``extra`` joins the body."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# --------------------------------------------------------------------------- method spec


@dataclass(frozen=True)
class MethodSpec:
    http_verb: str
    required: frozenset[str]
    optional: frozenset[str]

    @property
    def known(self) -> frozenset[str]:
        return self.required | self.optional


# Methods that take an app-level token (xapp-...), not the bot token.
_APP_LEVEL_METHODS = {
    "apps.connections.open": MethodSpec("POST", frozenset(), frozenset()),
}


def load_method_specs(path: Path = METHODS_FILE) -> dict[str, MethodSpec]:
    """Method -> accepted arguments, from the extract of Slack's OpenAPI description."""
    data = json.loads(path.read_text(encoding="utf-8"))
    everywhere = frozenset(data.get("global_optional", ()))
    return {
        name: MethodSpec(
            http_verb=m["http_verb"],
            required=frozenset(m["required"]),
            optional=frozenset(m["optional"]) | frozenset(m["supplement"]) | everywhere,
        )
        for name, m in data["methods"].items()
    }


# --------------------------------------------------------------------------- Block Kit


def block_kit_errors(blocks: Any, surface: Surface = "message") -> list[str]:
    """Slack-style errors (``"must be less than 3001 characters [json-pointer:/blocks/0/text/
    text]"``) for a list of blocks; empty when Slack would accept them. Pure."""
    v = _BlockValidator(surface)
    v.blocks(blocks, "/blocks")
    return v.errors


class _BlockValidator:
    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.errors: list[str] = []

    def err(self, msg: str, ptr: str) -> None:
        self.errors.append(f"{msg} [json-pointer:{ptr}]")

    def max_len(self, value: Any, limit: int, ptr: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.err("missing required field", ptr)
            return
        if not isinstance(value, str):
            self.err("must be a string", ptr)
        elif len(value) > limit:
            self.err(f"must be less than {limit + 1} characters", ptr)

    def text(
        self,
        obj: Any,
        limit: int,
        ptr: str,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.err("missing required field", ptr)
            return
        if not isinstance(obj, dict):
            self.err("must be an object", ptr)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.err("must be a valid enum value", f"{ptr}/type")
        value = obj.get("text")
        if not isinstance(value, str):
            self.err("missing required field", f"{ptr}/text")
        elif not value:
            self.err("must be more than 0 characters", f"{ptr}/text")
        else:
            self.max_len(value, limit, f"{ptr}/text")

    def list_of(self, value: Any, ptr: str, lo: int, hi: int) -> list[Any]:
        if not isinstance(value, list):
            self.err("must be an array", ptr)
            return []
        if len(value) < lo:
            self.err(f"must provide at least {lo} items", ptr)
        if len(value) > hi:
            self.err(f"must provide no more than {hi} items", ptr)
        return value

    def blocks(self, blocks: Any, ptr: str) -> None:
        items = self.list_of(blocks, ptr, 0, MAX_BLOCKS[self.surface])
        seen: set[str] = set()
        for i, block in enumerate(items):
            bptr = f"{ptr}/{i}"
            if not isinstance(block, dict):
                self.err("must be an object", bptr)
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.max_len(block_id, 255, f"{bptr}/block_id")
                if block_id in seen:
                    self.err(f"duplicate block_id {block_id!r}", f"{bptr}/block_id")
                seen.add(block_id)
            check = getattr(self, f"block_{block.get('type')}", None)
            if check is None:
                self.err("must be a valid enum value", f"{bptr}/type")
            else:
                check(block, bptr)

    # blocks ---------------------------------------------------------------
    def block_section(self, b: dict[str, Any], p: str) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.err("must provide either text or fields", p)
        self.text(b.get("text"), 3000, f"{p}/text", required=False)
        if b.get("fields") is not None:
            for i, f in enumerate(self.list_of(b["fields"], f"{p}/fields", 1, 10)):
                self.text(f, 2000, f"{p}/fields/{i}")
        if b.get("accessory") is not None:
            self.element(b["accessory"], f"{p}/accessory", set())

    def block_header(self, b: dict[str, Any], p: str) -> None:
        self.text(b.get("text"), 150, f"{p}/text", plain_only=True)

    def block_divider(self, b: dict[str, Any], p: str) -> None:
        return

    def block_image(self, b: dict[str, Any], p: str) -> None:
        if b.get("slack_file") is None:
            self.max_len(b.get("image_url"), 3000, f"{p}/image_url", required=True)
        self.max_len(b.get("alt_text"), 2000, f"{p}/alt_text", required=True)
        self.text(b.get("title"), 2000, f"{p}/title", plain_only=True, required=False)

    def block_context(self, b: dict[str, Any], p: str) -> None:
        for i, e in enumerate(self.list_of(b.get("elements"), f"{p}/elements", 1, 10)):
            ep = f"{p}/elements/{i}"
            if isinstance(e, dict) and e.get("type") == "image":
                self.element_image(e, ep, set())
            else:
                self.text(e, 3000, ep)

    def block_actions(self, b: dict[str, Any], p: str) -> None:
        ids: set[str] = set()
        for i, e in enumerate(self.list_of(b.get("elements"), f"{p}/elements", 1, 25)):
            self.element(e, f"{p}/elements/{i}", ids)

    def block_input(self, b: dict[str, Any], p: str) -> None:
        self.text(b.get("label"), 2000, f"{p}/label", plain_only=True)
        self.text(b.get("hint"), 2000, f"{p}/hint", plain_only=True, required=False)
        if b.get("element") is None:
            self.err("missing required field", f"{p}/element")
        else:
            self.element(b["element"], f"{p}/element", set())

    def block_rich_text(self, b: dict[str, Any], p: str) -> None:
        self.list_of(b.get("elements"), f"{p}/elements", 1, 10_000)

    def block_markdown(self, b: dict[str, Any], p: str) -> None:
        self.max_len(b.get("text"), MAX_MARKDOWN_TEXT, f"{p}/text", required=True)

    def block_file(self, b: dict[str, Any], p: str) -> None:
        self.max_len(b.get("external_id"), 255, f"{p}/external_id", required=True)

    def block_video(self, b: dict[str, Any], p: str) -> None:
        for key in ("video_url", "thumbnail_url", "alt_text"):
            self.max_len(b.get(key), 3000, f"{p}/{key}", required=True)
        self.text(b.get("title"), 200, f"{p}/title", plain_only=True)

    # elements -------------------------------------------------------------
    def element(self, e: Any, p: str, action_ids: set[str]) -> None:
        if not isinstance(e, dict):
            self.err("must be an object", p)
            return
        action_id = e.get("action_id")
        if action_id is not None:
            self.max_len(action_id, 255, f"{p}/action_id")
            if action_id in action_ids:
                self.err(f"duplicate action_id {action_id!r}", f"{p}/action_id")
            action_ids.add(action_id)
        kind = str(e.get("type"))
        check = getattr(self, f"element_{kind}", None)
        if check is None and kind.endswith("_select"):
            check = self.element_select
        if check is None:
            self.err("must be a valid enum value", f"{p}/type")
            return
        check(e, p, action_ids)
        if e.get("confirm") is not None:
            self.confirm(e["confirm"], f"{p}/confirm")

    def element_button(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("text"), 75, f"{p}/text", plain_only=True)
        self.max_len(e.get("value"), 2000, f"{p}/value")
        self.max_len(e.get("url"), 3000, f"{p}/url")
        self.max_len(e.get("accessibility_label"), 75, f"{p}/accessibility_label")
        if e.get("style") not in (None, "primary", "danger"):
            self.err("must be a valid enum value", f"{p}/style")

    def element_image(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        if e.get("slack_file") is None:
            self.max_len(e.get("image_url"), 3000, f"{p}/image_url", required=True)
        self.max_len(e.get("alt_text"), 2000, f"{p}/alt_text", required=True)

    def options(self, opts: Any, p: str, hi: int) -> list[dict[str, Any]]:
        valid = []
        for i, o in enumerate(self.list_of(opts, p, 1, hi)):
            op = f"{p}/{i}"
            if not isinstance(o, dict):
                self.err("must be an object", op)
                continue
            self.text(o.get("text"), 75, f"{op}/text")
            self.max_len(o.get("value"), 150, f"{op}/value", required=True)
            self.text(o.get("description"), 75, f"{op}/description", required=False)
            valid.append(o)
        return valid

    def element_select(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)
        kind = e["type"]
        if kind in ("static_select", "multi_static_select"):
            if e.get("options") is not None:
                self.options(e["options"], f"{p}/options", 100)
            elif e.get("option_groups") is not None:
                groups = self.list_of(e["option_groups"], f"{p}/option_groups", 1, 100)
                for i, g in enumerate(groups):
                    gp = f"{p}/option_groups/{i}"
                    if isinstance(g, dict):
                        self.text(g.get("label"), 75, f"{gp}/label", plain_only=True)
                        self.options(g.get("options"), f"{gp}/options", 100)
            else:
                self.err("must provide either options or option_groups", p)

    def element_overflow(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.options(e.get("options"), f"{p}/options", 5)

    def element_checkboxes(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.options(e.get("options"), f"{p}/options", 10)

    element_radio_buttons = element_checkboxes

    def element_datepicker(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)

    element_timepicker = element_datepicker

    def element_plain_text_input(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)
        self.max_len(e.get("initial_value"), 3000, f"{p}/initial_value")

    def confirm(self, c: Any, p: str) -> None:
        if not isinstance(c, dict):
            self.err("must be an object", p)
            return
        self.text(c.get("title"), 100, f"{p}/title", plain_only=True)
        self.text(c.get("text"), 300, f"{p}/text")
        self.text(c.get("confirm"), 30, f"{p}/confirm", plain_only=True)
        self.text(c.get("deny"), 30, f"{p}/deny", plain_only=True)


def view_errors(view: Any, surface: Literal["home", "modal"]) -> list[str]:
    """Slack-style errors for a ``views.publish`` / ``views.open`` view. Pure."""
    v = _BlockValidator(surface)
    if not isinstance(view, dict):
        v.err("must be an object", "/view")
        return v.errors
    if view.get("type") != surface:
        v.err("must be a valid enum value", "/view/type")
    if surface == "modal":
        v.text(view.get("title"), 24, "/view/title", plain_only=True)
        v.text(view.get("submit"), 24, "/view/submit", plain_only=True, required=False)
        v.text(view.get("close"), 24, "/view/close", plain_only=True, required=False)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and view.get("submit") is None:
            v.err("submit is required when an input block is within the blocks", "/view")
    v.max_len(view.get("callback_id"), 255, "/view/callback_id")
    v.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    v.max_len(view.get("external_id"), 255, "/view/external_id")
    v.blocks(view.get("blocks"), "/view/blocks")
    return v.errors


# --------------------------------------------------------------------------- helpers


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _elements(blocks: Iterable[Any]) -> Iterable[tuple[str | None, dict[str, Any]]]:
    """(block_id, element) for every interactive element in a list of blocks."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block.get("block_id")
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory"):
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element"):
            candidates = [block["element"]]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id"):
                yield block_id, element


def _all_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def sign_request(secret: str, timestamp: int, body: str) -> str:
    """Slack's request signature: ``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the stand-in


class SlackStandIn:
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
        self.trigger_ttl = trigger_ttl
        self._host = host
        self._port = port
        self._bot_url: str | None = None
        self.bot_url = bot_url
        # apps.connections.open is not in the bot's extract: it takes an app-level token.
        self._specs = {**load_method_specs(), **_APP_LEVEL_METHODS}
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Open Socket Mode connections survive reset(); they end with stop() or the client.
        self._sockets: dict[str, _WebSocket] = {}
        self._socket_threads: list[threading.Thread] = []
        self._accepting_sockets = False

        if channels is None:
            channels = {"C0ALERTS": "alerts", "C0GENERAL": Channel("general", is_member=False)}
        self._initial_channels = {
            cid: (Channel(c) if isinstance(c, str) else replace(c)) for cid, c in channels.items()
        }
        if users is None:
            users = {"U1": "alice", "U2": "bob"}
        self._users: dict[str, User] = {
            uid: (User(u, real_name=u.title()) if isinstance(u, str) else u)
            for uid, u in users.items()
        }
        self._users.setdefault(bot_user_id, User(bot_name, real_name=bot_name, is_bot=True))
        self._usergroups = dict(usergroups or {})
        self._rate_per_second = 1.0
        self._rate_burst = 1
        self.channel_rate_limit = channel_rate_limit
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._init_state()

    def _init_state(self) -> None:
        self._channels: dict[str, Channel] = {
            cid: replace(c) for cid, c in self._initial_channels.items()
        }
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._calls: list[ApiCall] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._home_views: dict[str, dict[str, Any]] = {}
        self._modals: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, tuple[float, bool]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: list[ResponsePost] = []
        self._deliveries: list[Delivery] = []
        self._socket_tickets: dict[str, float] = {}
        self._envelopes: dict[str, tuple[SocketEnvelope, float]] = {}
        self._socket_acks: list[SocketAck] = []
        self._socket_messages: list[tuple[str, str]] = []
        self._pongs: list[tuple[str, bytes]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Start serving on a free port; returns the base URL (``http://127.0.0.1:PORT``)."""
        with self._lock:
            if self._server is not None:
                return self.base_url
            server = _Server((self._host, self._port), _Handler)
            server.standin = self
            self._server = server
            self._accepting_sockets = True
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
            self._accepting_sockets = False  # an auto-reconnecting client must not come back
        self.close_sockets(1001, "going away")
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            workers, self._socket_threads = self._socket_threads, []
        for worker in workers:
            worker.join(timeout=5)
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
            self._channels[channel_id] = Channel(channel) if isinstance(channel, str) else channel

    def set_member(self, channel: str, is_member: bool) -> None:
        with self._lock:
            self._channels[self._channel_id(channel, by_name=True)].is_member = is_member

    def set_channel_rate_limit(
        self, enabled: bool = True, *, per_second: float = 1.0, burst: int = 1
    ) -> None:
        """Limit ``chat.postMessage`` per channel like Slack (about 1/s): beyond ``burst``,
        answer 429 with ``Retry-After``."""
        with self._lock:
            self.channel_rate_limit = enabled
            self._rate_per_second = per_second
            self._rate_burst = burst
            self._buckets.clear()

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
        if method != "*" and method not in self._specs:
            raise ValueError(f"unknown Slack method {method!r}")
        if status is None:
            status = 200 if error else 429
        if status == 200 and not error:
            raise ValueError("an HTTP 200 fault needs an error")
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, retry_after, error, times))

    def reset(self) -> None:
        """Forget calls, messages, views, responses and faults; channels as configured."""
        with self._lock:
            self._init_state()

    # ------------------------------------------------------------------ inspection
    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_for(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    @property
    def warnings(self) -> list[str]:
        """Every call warning as ``"method: warning"``; tests assert this is empty."""
        with self._lock:
            return [f"{c.method}: {w}" for c in self._calls for w in c.warnings]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel (id, ``#name`` or user id for the DM), oldest first,
        as they are now (after edits and deletes), each with ``replies`` (its thread)."""
        with self._lock:
            try:
                cid = self._channel_id(channel, by_name=True, open_dm=False)
            except SlackError:
                return []
            store = self._messages.get(cid, {})
            out = []
            for ts in sorted(store, key=float):
                msg = store[ts]
                parent = msg.get("thread_ts")
                if parent in (None, ts) or msg.get("subtype") == "thread_broadcast":
                    item = copy.deepcopy(msg)
                    item["replies"] = [
                        copy.deepcopy(r)
                        for t, r in sorted(store.items(), key=lambda kv: float(kv[0]))
                        if r.get("thread_ts") == ts and t != ts
                    ]
                    out.append(item)
            return out

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            try:
                cid = self._channel_id(channel, by_name=True, open_dm=False)
            except SlackError:
                return None
            msg = self._messages.get(cid, {}).get(ts)
            return copy.deepcopy(msg) if msg is not None else None

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (channel is None or e["channel"] == channel)
                and (user is None or e["user"] == user)
            ]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            view = self._home_views.get(user_id)
            return copy.deepcopy(view) if view else None

    @property
    def modals(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(v) for v in self._modals.values()]

    @property
    def responses(self) -> list[ResponsePost]:
        with self._lock:
            return list(self._responses)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def channel(self, channel: str) -> Channel:
        with self._lock:
            return replace(self._channels[self._channel_id(channel, by_name=True)])

    @property
    def users(self) -> dict[str, User]:
        """User id -> :class:`User`, the bot included."""
        with self._lock:
            return dict(self._users)

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
                "channels": {cid: replace(ch) for cid, ch in self._channels.items()},
                "users": dict(self._users),
                "messages": {cid: self.messages(cid) for cid in self._channels},
                "ephemerals": copy.deepcopy(self._ephemerals),
                "calls": self._calls[-history:],
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

    # ------------------------------------------------------------------ ids
    def _next_ts(self) -> str:
        us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _new_trigger(self) -> str:
        trigger = f"{int(time.time() * 1000)}.{next(self._ids)}.{secrets.token_hex(16)}"
        self._triggers[trigger] = (time.monotonic(), False)
        return trigger

    def _new_response_url(
        self, source: str, channel: str, user: str, message_ts: str | None, is_ephemeral: bool
    ) -> str:
        url_id = f"{self.team_id}/{next(self._ids)}/{secrets.token_hex(12)}"
        self._response_urls[url_id] = _ResponseUrl(
            source, channel, user, message_ts, is_ephemeral, time.monotonic()
        )
        return f"{self.base_url}/response/{url_id}"

    # ------------------------------------------------------------------ Web API dispatch
    def handle_api(
        self, method: str, verb: str, headers: Mapping[str, str], query: str, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        with self._lock:
            args: dict[str, Any] = {}
            warnings: list[str] = []
            extra_headers: dict[str, str] = {}
            response: dict[str, Any] | str | None = None
            status, injected = 200, False
            try:
                args, token = self._decode_args(headers, query, body)
                if method not in self._specs:
                    raise SlackError("unknown_method", req_method=method)
                if not token:
                    raise SlackError("not_authed")
                expected = self.app_token if method in _APP_LEVEL_METHODS else self.bot_token
                if token != expected:
                    # Slack tells a valid token of the wrong kind from an unknown one.
                    known = token in (self.app_token, self.bot_token)
                    raise SlackError("not_allowed_token_type" if known else "invalid_auth")
                fault = self._take_fault(method)
                if fault is not None:
                    injected = True
                    status, extra_headers, response = fault
                else:
                    args = self._parse_json_args(method, args)
                    warnings = self._check_spec(method, args)
                    handler = getattr(self, "_api_" + method.replace(".", "_"))
                    response = {"ok": True, **handler(args, warnings)}
            except SlackError as e:
                status = e.status
                if e.status == 429:
                    extra_headers = {"Retry-After": str(e.extra.get("retry_after", 1))}
                    response = {"ok": False, "error": "ratelimited"}
                else:
                    response = {"ok": False, "error": e.error, **e.extra}
            assert response is not None
            self._calls.append(
                ApiCall(
                    method=method,
                    args=args,
                    status=status,
                    response=copy.deepcopy(response),
                    time=time.time(),
                    warnings=tuple(warnings),
                    http_verb=verb,
                    injected=injected,
                )
            )
            return status, extra_headers, response

    def _decode_args(
        self, headers: Mapping[str, str], query: str, body: bytes
    ) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body_token: str | None = args.pop("token", None)
        if body:
            if ctype == "application/json":
                try:
                    decoded = json.loads(body)
                except ValueError as e:
                    raise SlackError("invalid_json") from e
                if not isinstance(decoded, dict):
                    raise SlackError("invalid_json")
                # Slack ignores a token inside a JSON body: it must be in Authorization.
                decoded.pop("token", None)
                args.update(decoded)
            elif ctype in ("application/x-www-form-urlencoded", ""):
                form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                body_token = form.pop("token", None) or body_token
                args.update(form)
            else:
                raise SlackError("invalid_form_data")
        auth = headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        return args, token or body_token

    def _parse_json_args(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for key in _JSON_ARGS:
            value = out.get(key)
            if isinstance(value, str):
                if key == "blocks" and value == "":
                    continue
                try:
                    out[key] = json.loads(value)
                except ValueError as e:
                    error = {
                        "blocks": "invalid_blocks_format",
                        "attachments": "invalid_attachments",
                        "metadata": "invalid_metadata_format",
                    }.get(key, "invalid_arguments")
                    raise SlackError(error) from e
        if (
            "blocks" in out
            and out["blocks"] not in ("", None)
            and not isinstance(out["blocks"], list)
        ):
            raise SlackError("invalid_blocks_format")
        return out

    def _check_spec(self, method: str, args: dict[str, Any]) -> list[str]:
        spec = self._specs[method]
        warnings = [
            f"argument {k!r} is not in Slack's description of {method}"
            for k in sorted(args)
            if k not in spec.known
        ]
        for name in sorted(spec.required):
            if args.get(name) in (None, ""):
                error = _MISSING_ARG_ERRORS.get(name)
                if error:
                    raise SlackError(error)
                raise SlackError(
                    "invalid_arguments",
                    response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
                )
        return warnings

    def _take_fault(self, method: str) -> tuple[int, dict[str, str], dict[str, Any] | str] | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if not queue:
                continue
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            if fault.status == 429:
                return (
                    429,
                    {"Retry-After": str(fault.retry_after)},
                    {
                        "ok": False,
                        "error": "ratelimited",
                    },
                )
            if fault.status >= 500:
                return fault.status, {}, HTTPStatus(fault.status).phrase
            return fault.status, {}, {"ok": False, "error": fault.error or "invalid_request"}
        return None

    def _rate_limit(self, channel: str) -> None:
        if not self.channel_rate_limit:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(channel, (float(self._rate_burst), now))
        tokens = min(float(self._rate_burst), tokens + (now - last) * self._rate_per_second)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self._rate_per_second
            self._buckets[channel] = (tokens, now)
            raise SlackError("ratelimited", status=429, retry_after=max(1, math.ceil(wait)))
        self._buckets[channel] = (tokens - 1.0, now)

    # ------------------------------------------------------------------ state helpers
    def _channel_id(self, ref: Any, *, by_name: bool = False, open_dm: bool = True) -> str:
        if not isinstance(ref, str) or not ref:
            raise SlackError("channel_not_found")
        if ref in self._channels:
            return ref
        if by_name:
            name = ref[1:] if ref.startswith("#") else ref
            for cid, ch in self._channels.items():
                if ch.name == name and not ch.is_im:
                    return cid
            if ref in self._users:
                return self._dm_channel(ref, create=open_dm)
        raise SlackError("channel_not_found")

    def _dm_channel(self, user_id: str, *, create: bool) -> str:
        for cid, ch in self._channels.items():
            if ch.is_im and ch.user == user_id:
                return cid
        if not create:
            raise SlackError("channel_not_found")
        cid = "D" + user_id.removeprefix("U").removeprefix("W") + "DM"
        self._channels[cid] = Channel(cid, is_im=True, is_private=True, user=user_id)
        return cid

    def _postable(self, ref: Any) -> str:
        cid = self._channel_id(ref, by_name=True)
        ch = self._channels[cid]
        if ch.is_archived:
            raise SlackError("is_archived")
        if not ch.is_member and not ch.is_im:
            raise SlackError("not_in_channel")
        return cid

    def _find_message(self, cid: str, ts: Any) -> dict[str, Any]:
        msg = self._messages.get(cid, {}).get(ts) if isinstance(ts, str) else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        return msg

    def _check_content(self, args: Mapping[str, Any], surface: Surface = "message") -> None:
        text, blocks = args.get("text"), args.get("blocks")
        markdown_text = args.get("markdown_text")
        if markdown_text and (text or blocks):
            raise SlackError("markdown_text_conflict")
        if not (text or blocks or args.get("attachments") or markdown_text):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if isinstance(markdown_text, str) and len(markdown_text) > MAX_MARKDOWN_TEXT:
            raise SlackError("msg_too_long")
        if blocks not in (None, ""):
            errors = block_kit_errors(blocks, surface)
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )

    def _bot_message(self, args: Mapping[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text") or args.get("markdown_text") or "",
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "team_id": self.team_id,
                "deleted": False,
            },
        }
        if args.get("blocks"):
            msg["blocks"] = copy.deepcopy(args["blocks"])
        if args.get("attachments"):
            msg["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata"):
            msg["metadata"] = copy.deepcopy(args["metadata"])
        return msg

    def _store_message(
        self,
        cid: str,
        msg: dict[str, Any],
        thread_ts: str | None,
        broadcast: bool,
        warnings: list[str],
    ) -> dict[str, Any]:
        store = self._messages.setdefault(cid, {})
        if thread_ts:
            parent = store.get(thread_ts)
            if parent is None:
                warnings.append(
                    f"thread_ts {thread_ts!r} matches no message in {cid}; "
                    "Slack posts the message at top level"
                )
            else:
                root_ts = parent.get("thread_ts") or thread_ts
                root = store[root_ts]
                msg["thread_ts"] = root_ts
                msg["parent_user_id"] = root.get("user")
                if broadcast:
                    msg["subtype"] = "thread_broadcast"
                root["thread_ts"] = root_ts
                root["reply_count"] = root.get("reply_count", 0) + 1
                users = root.setdefault("reply_users", [])
                if msg["user"] not in users:
                    users.append(msg["user"])
                root["reply_users_count"] = len(users)
                root["latest_reply"] = msg["ts"]
        store[msg["ts"]] = msg
        return msg

    def _channel_object(self, cid: str, *, num_members: bool = False) -> dict[str, Any]:
        ch = self._channels[cid]
        obj: dict[str, Any] = {
            "id": cid,
            "created": ch.created,
            "is_archived": ch.is_archived,
            "is_im": ch.is_im,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "updated": ch.created * 1000,
        }
        if ch.is_im:
            obj.update(user=ch.user, is_user_deleted=False, priority=0)
            return obj
        obj.update(
            name=ch.name,
            name_normalized=ch.name,
            is_channel=not ch.is_private,
            is_group=ch.is_private,
            is_mpim=False,
            is_private=ch.is_private,
            is_general=ch.name == "general",
            is_shared=False,
            is_ext_shared=False,
            is_member=ch.is_member,
            creator=next(iter(self._users)),
            unlinked=0,
            topic={"value": "", "creator": "", "last_set": 0},
            purpose={"value": "", "creator": "", "last_set": 0},
            previous_names=[],
        )
        if num_members:
            obj["num_members"] = len(self._users)
        return obj

    def _user_object(self, uid: str) -> dict[str, Any]:
        u = self._users[uid]
        profile: dict[str, Any] = {
            "real_name": u.real_name or u.name,
            "display_name": u.name,
            "real_name_normalized": u.real_name or u.name,
            "display_name_normalized": u.name,
            "team": self.team_id,
            "image_48": f"https://example.invalid/{uid}_48.png",
        }
        if u.email:
            profile["email"] = u.email
        if u.is_bot:
            profile["bot_id"] = self.bot_id
        return {
            "id": uid,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": False,
            "real_name": u.real_name or u.name,
            "tz": u.tz,
            "tz_label": u.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }

    def _paginate(self, items: list[Any], args: Mapping[str, Any], key: str) -> dict[str, Any]:
        try:
            limit = int(args.get("limit") or 100)
        except ValueError as e:
            raise SlackError("invalid_limit") from e
        limit = max(1, min(limit, 1000))
        cursor = args.get("cursor") or ""
        start = 0
        if cursor:
            match = re.fullmatch(r"next:(\d+)", cursor)
            if match is None:
                raise SlackError("invalid_cursor")
            start = int(match.group(1))
        page = items[start : start + limit]
        nxt = f"next:{start + limit}" if start + limit < len(items) else ""
        return {key: page, "response_metadata": {"next_cursor": nxt}}

    # ------------------------------------------------------------------ Web API methods
    def _api_auth_test(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_apps_connections_open(
        self, args: dict[str, Any], warnings: list[str]
    ) -> dict[str, Any]:
        if self._server is None or not self._accepting_sockets:
            raise SlackError("internal_error", status=500)
        ticket = secrets.token_hex(16)
        self._socket_tickets[ticket] = time.monotonic()
        return {"url": f"ws://{self._host}:{self._server.server_port}/socket/{ticket}"}

    def _api_chat_postMessage(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._postable(args["channel"])
        self._check_content(args)
        self._rate_limit(cid)
        msg = self._bot_message(args, self._next_ts())
        msg = self._store_message(
            cid, msg, args.get("thread_ts") or None, _flag(args.get("reply_broadcast")), warnings
        )
        return {"channel": cid, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _api_chat_update(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args["channel"])
        msg = self._find_message(cid, args["ts"])
        if msg.get("bot_id") != self.bot_id:
            raise SlackError("cant_update_message")
        merged = {
            "text": args.get("text", msg.get("text")),
            "blocks": args["blocks"] if "blocks" in args else msg.get("blocks"),
            "attachments": args.get("attachments", msg.get("attachments")),
            "markdown_text": args.get("markdown_text"),
        }
        if merged["markdown_text"]:
            merged["text"] = merged["blocks"] = None
        self._check_content(merged)
        msg["text"] = merged["text"] or merged["markdown_text"] or ""
        if merged["blocks"]:
            msg["blocks"] = copy.deepcopy(merged["blocks"])
        else:
            msg.pop("blocks", None)
        if args.get("attachments") is not None:
            msg["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata"):
            msg["metadata"] = copy.deepcopy(args["metadata"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        out = {k: v for k, v in msg.items() if k not in ("reply_users", "bot_profile")}
        return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": out}

    def _api_chat_postEphemeral(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._postable(args["channel"])
        user = args["user"]
        if user not in self._users:
            raise SlackError("user_not_found")
        ch = self._channels[cid]
        if ch.is_im and ch.user != user:
            raise SlackError("user_not_in_channel")
        self._check_content(args)
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": cid,
                "user": user,
                "ts": ts,
                "text": args.get("text") or "",
                "blocks": copy.deepcopy(args.get("blocks") or []),
                "thread_ts": args.get("thread_ts"),
                "source": "chat.postEphemeral",
            }
        )
        return {"message_ts": ts}

    def _api_chat_getPermalink(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args["channel"])
        msg = self._find_message(cid, args["message_ts"])
        link = f"https://{self.team_domain}.slack.com/archives/{cid}/p{msg['ts'].replace('.', '')}"
        if msg.get("thread_ts") not in (None, msg["ts"]):
            link += f"?thread_ts={msg['thread_ts']}&cid={cid}"
        return {"channel": cid, "permalink": link}

    def _api_chat_delete(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args.get("channel"))
        msg = self._find_message(cid, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise SlackError("cant_delete_message")
        self._delete(cid, msg)
        return {"channel": cid, "ts": msg["ts"]}

    def _delete(self, cid: str, msg: dict[str, Any]) -> None:
        store = self._messages[cid]
        if msg.get("reply_count"):
            # A parent with replies stays as a tombstone, as in Slack.
            for key in ("blocks", "attachments", "bot_id", "app_id", "bot_profile", "edited"):
                msg.pop(key, None)
            msg.update(subtype="tombstone", text="This message was deleted.", user="USLACKBOT")
            return
        del store[msg["ts"]]
        parent_ts = msg.get("thread_ts")
        if parent_ts and parent_ts != msg["ts"] and parent_ts in store:
            root = store[parent_ts]
            root["reply_count"] = max(0, root.get("reply_count", 1) - 1)
            if root["reply_count"] == 0 and root.get("subtype") == "tombstone":
                del store[parent_ts]

    def _api_conversations_info(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args.get("channel"))
        return {
            "channel": self._channel_object(cid, num_members=_flag(args.get("include_num_members")))
        }

    def _api_conversations_join(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args.get("channel"))
        ch = self._channels[cid]
        if ch.is_im or ch.is_private:
            raise SlackError("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise SlackError("is_archived")
        out: dict[str, Any] = {}
        if ch.is_member:
            out = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        ch.is_member = True
        return {"channel": self._channel_object(cid), **out}

    def _api_conversations_list(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        types = [t.strip() for t in str(args.get("types") or "public_channel").split(",")]
        if any(t not in _CHANNEL_TYPES for t in types):
            raise SlackError("invalid_types")
        exclude_archived = _flag(args.get("exclude_archived"))
        items = []
        for cid, ch in self._channels.items():
            kind = "im" if ch.is_im else "private_channel" if ch.is_private else "public_channel"
            if kind not in types or (exclude_archived and ch.is_archived):
                continue
            if kind == "private_channel" and not ch.is_member:
                continue  # a bot only sees the private channels it is in
            items.append(self._channel_object(cid))
        return self._paginate(items, args, "channels")

    def _api_users_info(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        uid = args.get("user")
        if uid not in self._users:
            raise SlackError("user_not_found")
        return {"user": self._user_object(uid)}

    def _api_users_list(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        members = [self._user_object(uid) for uid in self._users]
        return {"cache_ts": int(time.time()), **self._paginate(members, args, "members")}

    def _api_usergroups_list(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        groups = []
        for gid, g in self._usergroups.items():
            item: dict[str, Any] = {
                "id": gid,
                "team_id": self.team_id,
                "is_usergroup": True,
                "is_subteam": True,
                "name": g.name or g.handle,
                "description": "",
                "handle": g.handle,
                "is_external": False,
                "date_create": 1_700_000_000,
                "date_update": 1_700_000_000,
                "date_delete": 0,
                "auto_type": None,
                "created_by": next(iter(self._users)),
                "prefs": {"channels": [], "groups": []},
            }
            if _flag(args.get("include_users")):
                item["users"] = list(g.users)
            if _flag(args.get("include_count")):
                item["user_count"] = len(g.users)
            groups.append(item)
        return {"usergroups": groups}

    def _view_object(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        out = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": copy.deepcopy(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": _flag(view.get("clear_on_close")),
            "notify_on_close": _flag(view.get("notify_on_close")),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                out[key] = copy.deepcopy(view[key])
        return out

    def _check_view(self, view: Any, surface: Literal["home", "modal"]) -> None:
        errors = view_errors(view, surface)
        if errors:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )

    def _api_views_publish(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        user_id = args["user_id"]
        if user_id not in self._users:
            raise SlackError("user_not_found")
        self._check_view(args["view"], "home")
        current = self._home_views.get(user_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current else self._new_id("V")
        view = self._view_object(args["view"], view_id)
        self._home_views[user_id] = view
        return {"view": copy.deepcopy(view)}

    def _api_views_open(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if trigger not in self._triggers:
            raise SlackError("invalid_trigger_id")
        created, used = self._triggers[trigger]
        if used:
            raise SlackError("trigger_exchanged")
        if time.monotonic() - created > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        self._check_view(args["view"], "modal")
        self._triggers[trigger] = (created, True)
        view_id = self._new_id("V")
        view = self._view_object(args["view"], view_id)
        self._modals[view_id] = view
        return {"view": copy.deepcopy(view)}

    def _api_reactions_add(self, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        cid = self._channel_id(args["channel"])
        msg = self._find_message(cid, args["timestamp"])
        name = str(args["name"]).strip(":")
        if not re.fullmatch(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?", name):
            raise SlackError("invalid_name")
        reactions = msg.setdefault("reactions", [])
        for r in reactions:
            if r["name"] == name:
                if self.bot_user_id in r["users"]:
                    raise SlackError("already_reacted")
                r["users"].append(self.bot_user_id)
                r["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return {}

    # ------------------------------------------------------------------ response_url
    def handle_response_url(
        self, url_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str]:
        with self._lock:
            ctx = self._response_urls.get(url_id)
            try:
                payload = self._decode_response_body(headers, body)
            except SlackError as e:
                return 400, e.error
            if ctx is None:
                return 404, "no_service"
            ctx.uses += 1
            if time.monotonic() - ctx.created > RESPONSE_URL_TTL_SECONDS:
                status, effect = 404, "expired_url"
            elif ctx.uses > RESPONSE_URL_USES:
                status, effect = 404, "used_url"
            else:
                status, effect = self._apply_response(ctx, payload)
            self._responses.append(
                ResponsePost(
                    url_id=url_id,
                    via="response_url",
                    source=ctx.source,
                    channel=ctx.channel,
                    user=ctx.user,
                    message_ts=ctx.message_ts,
                    payload=payload,
                    status=status,
                    effect=effect,
                    time=time.time(),
                )
            )
            return status, "ok" if status == 200 else effect

    @staticmethod
    def _decode_response_body(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                payload = json.loads(body or b"{}")
            else:
                form = dict(urllib.parse.parse_qsl(body.decode()))
                payload = json.loads(form.get("payload", "{}"))
        except ValueError as e:
            raise SlackError("invalid_payload") from e
        if not isinstance(payload, dict):
            raise SlackError("invalid_payload")
        return payload

    def _apply_response(self, ctx: _ResponseUrl, payload: dict[str, Any]) -> tuple[int, str]:
        """What Slack does with a response_url post (or a slash command's ack body)."""
        if _flag(payload.get("delete_original")):
            if ctx.message_ts and not ctx.is_ephemeral:
                msg = self._messages.get(ctx.channel, {}).get(ctx.message_ts)
                if msg is None:
                    return 404, "message_not_found"
                self._delete(ctx.channel, msg)
                return 200, "deleted"
            return 200, "deleted_ephemeral"
        try:
            self._check_content(payload)
        except SlackError as e:
            return 400, e.error
        if _flag(payload.get("replace_original")) and ctx.message_ts and not ctx.is_ephemeral:
            msg = self._messages.get(ctx.channel, {}).get(ctx.message_ts)
            if msg is None:
                return 404, "message_not_found"
            msg["text"] = payload.get("text") or ""
            if payload.get("blocks"):
                msg["blocks"] = copy.deepcopy(payload["blocks"])
            else:
                msg.pop("blocks", None)
            msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
            return 200, "replaced"
        if payload.get("response_type") == "in_channel":
            if ctx.channel not in self._channels:
                return 404, "channel_not_found"
            msg = self._bot_message(payload, self._next_ts())
            self._store_message(ctx.channel, msg, payload.get("thread_ts"), False, [])
            return 200, "posted"
        self._ephemerals.append(
            {
                "channel": ctx.channel,
                "user": ctx.user,
                "ts": self._next_ts(),
                "text": payload.get("text") or "",
                "blocks": copy.deepcopy(payload.get("blocks") or []),
                "thread_ts": payload.get("thread_ts"),
                "source": "response_url",
            }
        )
        return 200, "ephemeral"

    # ------------------------------------------------------------------ Slack -> app
    def _user_payload(self, user_id: str) -> dict[str, Any]:
        name = self._users[user_id].name if user_id in self._users else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _channel_name(self, cid: str) -> str:
        ch = self._channels.get(cid)
        if ch is None:
            return "unknown"
        if ch.is_im:
            return "directmessage"
        return "privategroup" if ch.is_private else ch.name

    def _deliver(
        self,
        bot_url: str,
        kind: str,
        payload: dict[str, Any],
        body: str,
        content_type: str,
        signing: Signing,
        timeout: float,
    ) -> tuple[int, str]:
        timestamp = int(time.time())
        if signing == "stale":
            timestamp -= STALE_AFTER_SECONDS + 60
        secret = self.signing_secret if signing != "bad_signature" else "not-" + self.signing_secret
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
        }
        if signing != "unsigned":
            headers["X-Slack-Request-Timestamp"] = str(timestamp)
            headers["X-Slack-Signature"] = sign_request(secret, timestamp, body)
        request = urllib.request.Request(
            bot_url, data=body.encode(), headers=headers, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        seconds = time.monotonic() - started
        with self._lock:
            self._deliveries.append(
                Delivery(kind, bot_url, signing, payload, status, text, seconds)
            )
        return status, text

    def send_slash_command(
        self,
        bot_url: str,
        command: str = "/triage",
        text: str = "top",
        user_id: str = "U1",
        channel_id: str = "C0ALERTS",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """POST a slash command to the app, form-encoded and signed like Slack. A JSON ack body
        is treated as Slack treats it (an ephemeral or in-channel response)."""
        payload = self._slash_payload(command, text, user_id, channel_id)
        response_url = payload["response_url"]
        body = urllib.parse.urlencode(payload)
        status, answer = self._deliver(
            bot_url,
            "command",
            payload,
            body,
            "application/x-www-form-urlencoded",
            signing,
            timeout,
        )
        if status == 200 and answer.strip():
            self._record_ack(response_url, answer)
        return status, answer

    def _slash_payload(
        self, command: str, text: str, user_id: str, channel_id: str
    ) -> dict[str, str]:
        """A slash command's fields, as Slack form-encodes them (and puts them in an envelope's
        ``payload`` in Socket Mode)."""
        with self._lock:
            return {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel_id,
                "channel_name": self._channel_name(channel_id),
                "user_id": user_id,
                "user_name": self._user_payload(user_id)["username"],
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": self._new_response_url("command", channel_id, user_id, None, True),
                "trigger_id": self._new_trigger(),
            }

    def _record_ack(self, response_url: str, answer: str) -> None:
        url_id = response_url.split("/response/", 1)[1]
        with self._lock:
            ctx = self._response_urls[url_id]
            # A JSON body is a message; plain text is shown as an ephemeral text (as Slack does).
            try:
                ack = json.loads(answer) if answer.lstrip().startswith("{") else {"text": answer}
            except ValueError:
                ack = {"text": answer}
            if not isinstance(ack, dict) or not (ack.get("text") or ack.get("blocks")):
                return
            status, effect = self._apply_response(ctx, ack)
            self._responses.append(
                ResponsePost(
                    url_id,
                    "ack",
                    ctx.source,
                    ctx.channel,
                    ctx.user,
                    None,
                    ack,
                    status,
                    effect,
                    time.time(),
                )
            )

    def _element_in_message(
        self, channel: str, ts: str, action_id: str, kinds: tuple[str, ...]
    ) -> tuple[str, dict[str, Any], str | None, dict[str, Any]]:
        with self._lock:
            cid = self._channel_id(channel, by_name=True, open_dm=False)
            msg = self._messages.get(cid, {}).get(ts)
            if msg is None:
                raise LookupError(f"no message {ts} in {channel}")
            for block_id, element in _elements(msg.get("blocks") or []):
                if element.get("action_id") == action_id:
                    if element.get("type") not in kinds:
                        raise ValueError(
                            f"{action_id!r} is a {element.get('type')}, not one of {kinds}"
                        )
                    return cid, copy.deepcopy(msg), block_id, copy.deepcopy(element)
        raise LookupError(f"no element with action_id {action_id!r} in message {ts}")

    def _send_block_action(
        self,
        bot_url: str,
        cid: str,
        msg: dict[str, Any],
        block_id: str | None,
        action: dict[str, Any],
        user_id: str,
        signing: Signing,
        timeout: float,
    ) -> tuple[int, str]:
        payload = self._block_action_payload(cid, msg, block_id, action, user_id)
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._deliver(
            bot_url,
            "block_actions",
            payload,
            body,
            "application/x-www-form-urlencoded",
            signing,
            timeout,
        )

    def _block_action_payload(
        self,
        cid: str,
        msg: dict[str, Any],
        block_id: str | None,
        action: dict[str, Any],
        user_id: str,
    ) -> dict[str, Any]:
        with self._lock:
            ts = msg["ts"]
            container: dict[str, Any] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": cid,
                "is_ephemeral": False,
            }
            if msg.get("thread_ts") not in (None, ts):
                container["thread_ts"] = msg["thread_ts"]
            state: dict[str, dict[str, Any]] = {}
            for bid, element in _elements(msg.get("blocks") or []):
                fields = _STATEFUL_ELEMENTS.get(str(element.get("type")))
                if fields is None or bid is None:
                    continue
                selected, initial = fields
                state.setdefault(bid, {})[element["action_id"]] = {
                    "type": element["type"],
                    selected: element.get(initial),
                }
            if block_id is not None and action["type"] in _STATEFUL_ELEMENTS:
                selected = _STATEFUL_ELEMENTS[action["type"]][0]
                state.setdefault(block_id, {})[action["action_id"]] = {
                    "type": action["type"],
                    selected: action.get(selected),
                }
            public_msg = {k: v for k, v in msg.items() if k != "replies"}
            return {
                "type": "block_actions",
                "user": self._user_payload(user_id),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": container,
                "trigger_id": self._new_trigger(),
                "team": {"id": self.team_id, "domain": self.team_domain},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": cid, "name": self._channel_name(cid)},
                "message": public_msg,
                "state": {"values": state},
                "response_url": self._new_response_url("block_actions", cid, user_id, ts, False),
                "actions": [action],
            }

    def _action_base(self, element: dict[str, Any], block_id: str | None) -> dict[str, Any]:
        return {
            "action_id": element["action_id"],
            "block_id": block_id,
            "type": element["type"],
            "action_ts": f"{time.time():.6f}",
        }

    def click_button(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Click the button ``action_id`` of the stored message ``ts`` (the ``block_actions``
        payload carries the message as it is now). ``value`` defaults to the button's."""
        cid, msg, block_id, action = self._button_action(channel, ts, action_id, value)
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def _button_action(
        self, channel: str, ts: str, action_id: str, value: str | None
    ) -> tuple[str, dict[str, Any], str | None, dict[str, Any]]:
        cid, msg, block_id, element = self._element_in_message(channel, ts, action_id, ("button",))
        action = self._action_base(element, block_id)
        action["text"] = element.get("text")
        if element.get("style"):
            action["style"] = element["style"]
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        return cid, msg, block_id, action

    def select_option(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Pick the option whose value is ``value`` in a static_select / overflow /
        radio_buttons element."""
        kinds = ("static_select", "overflow", "radio_buttons")
        cid, msg, block_id, element = self._element_in_message(channel, ts, action_id, kinds)
        options = [o for o in _all_options(element) if o.get("value") == value]
        if not options:
            raise ValueError(f"{action_id!r} has no option with value {value!r}")
        action = self._action_base(element, block_id)
        action["selected_option"] = options[0]
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def select_user(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        selected_user: str,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Pick ``selected_user`` in a users_select element."""
        cid, msg, block_id, element = self._element_in_message(
            channel, ts, action_id, ("users_select",)
        )
        action = self._action_base(element, block_id)
        action["selected_user"] = selected_user
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def send_event(
        self,
        bot_url: str,
        event: dict[str, Any],
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """POST an Events API request. ``{"type": "url_verification", "challenge": ...}`` goes
        as is; any other event is wrapped in Slack's ``event_callback`` envelope (an
        ``app_home_opened`` event gets its ``channel`` and current ``view`` filled in)."""
        kind, payload = self._event_payload(event)
        return self._deliver(
            bot_url, kind, payload, json.dumps(payload), "application/json", signing, timeout
        )

    def _event_payload(self, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        with self._lock:
            now = time.time()
            if event.get("type") == "url_verification":
                payload: dict[str, Any] = {
                    "token": self.verification_token,
                    "challenge": event.get("challenge") or secrets.token_urlsafe(24),
                    "type": "url_verification",
                }
                kind = "url_verification"
            else:
                inner = copy.deepcopy(event)
                inner.setdefault("event_ts", f"{now:.6f}")
                if inner.get("type") == "app_home_opened":
                    user = inner.get("user", "U1")
                    inner.setdefault("user", user)
                    inner.setdefault("tab", "home")
                    inner.setdefault("channel", self._dm_channel(user, create=True))
                    if user in self._home_views and "view" not in inner:
                        inner["view"] = copy.deepcopy(self._home_views[user])
                payload = {
                    "token": self.verification_token,
                    "team_id": self.team_id,
                    "context_team_id": self.team_id,
                    "api_app_id": self.app_id,
                    "event": inner,
                    "type": "event_callback",
                    "event_id": "Ev" + secrets.token_hex(5).upper(),
                    "event_time": int(now),
                    "authorizations": [
                        {
                            "enterprise_id": None,
                            "team_id": self.team_id,
                            "user_id": self.bot_user_id,
                            "is_bot": True,
                            "is_enterprise_install": False,
                        }
                    ],
                    "is_ext_shared_channel": False,
                    "event_context": "4-" + secrets.token_urlsafe(16),
                }
                kind = "event"
            return kind, payload

    def open_app_home(
        self, bot_url: str, user_id: str = "U1", *, signing: Signing = "valid"
    ) -> tuple[int, str]:
        """Send ``app_home_opened`` for ``user_id`` (the Home tab)."""
        return self.send_event(
            bot_url, {"type": "app_home_opened", "user": user_id, "tab": "home"}, signing=signing
        )

    # ------------------------------------------------------------------ Socket Mode
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

    @property
    def socket_pongs(self) -> list[tuple[str, bytes]]:
        """(connection, payload) of every pong the app sent."""
        with self._lock:
            return list(self._pongs)

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

    def socket_ping(self, payload: bytes = b"", *, connection: str | None = None) -> None:
        """Send a ping frame; the app's pong shows in ``socket_pongs``."""
        self._pick_socket(connection).send(_WebSocket.PING, payload)

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
        self._pick_socket(connection).send_text(json.dumps(message))

    def close_sockets(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """Close every Socket Mode connection: a close frame, then, if the client has not gone
        within ``timeout`` seconds, the TCP connection."""
        with self._lock:
            sockets = list(self._sockets.values())
        for ws in sockets:
            ws.close(code, reason)
        deadline = time.monotonic() + timeout
        for ws in sockets:
            if ws.thread is not None:
                ws.thread.join(timeout=max(0.0, deadline - time.monotonic()))
            ws.shutdown()

    def _pick_socket(self, connection: str | None) -> _WebSocket:
        with self._lock:
            if connection is not None:
                if connection not in self._sockets:
                    raise LookupError(f"no open Socket Mode connection {connection!r}")
                return self._sockets[connection]
            if not self._sockets:
                raise LookupError("no Socket Mode connection: the app has not connected")
            return list(self._sockets.values())[-1]

    def _send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts_response_payload: bool,
        connection: str | None,
    ) -> str:
        ws = self._pick_socket(connection)
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
                envelope_id, kind, payload, ws.id, accepts_response_payload, time.time()
            )
            self._envelopes[envelope_id] = (record, time.monotonic())
        if not ws.send_text(json.dumps(message)):
            raise ConnectionError(f"Socket Mode connection {ws.id} is closed")
        return envelope_id

    def take_socket_ticket(self, ticket: str) -> bool:
        """Whether ``ticket`` (from ``apps.connections.open``) may connect; each is used once."""
        with self._lock:
            issued = self._socket_tickets.pop(ticket, None)
            return (
                self._accepting_sockets
                and issued is not None
                and time.monotonic() - issued < SOCKET_TICKET_TTL_SECONDS
            )

    def run_socket(self, ws: _WebSocket) -> None:
        """Serve one Socket Mode connection until it closes (on the server's handler thread):
        ``hello``, then answer pings, record pongs and acks, and answer a close."""
        ws.thread = threading.current_thread()
        with self._lock:
            self._sockets[ws.id] = ws
            self._socket_threads = [t for t in self._socket_threads if t.is_alive()]
            self._socket_threads.append(ws.thread)
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
            ws.send_text(json.dumps(hello))
            while True:
                message = ws.receive()
                if message is None:
                    break
                opcode, data = message
                if opcode == _WebSocket.PING:
                    ws.send(_WebSocket.PONG, data)
                elif opcode == _WebSocket.PONG:
                    with self._lock:
                        self._pongs.append((ws.id, data))
                elif opcode == _WebSocket.CLOSE:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000
                    ws.close(code)  # echo it, unless this was the answer to ours
                    break
                elif opcode == _WebSocket.TEXT:
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise _ProtocolError(1007, "invalid UTF-8") from e
                    self._on_socket_text(ws, text)
                else:
                    raise _ProtocolError(1003, "binary frames are not accepted")
        except _ProtocolError as e:
            ws.close(e.code, e.reason)
        finally:
            ws.shutdown()
            with self._lock:
                self._sockets.pop(ws.id, None)

    def _on_socket_text(self, ws: _WebSocket, text: str) -> None:
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
                    ws.id,
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
            self._record_ack(envelope.payload["response_url"], json.dumps(payload))


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: SlackStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SlackStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/socket/"):
            self._websocket()
        else:
            self._handle("GET")

    def _websocket(self) -> None:
        """The RFC 6455 opening handshake, then the connection belongs to the stand-in."""
        standin = self.server.standin
        ticket = self.path[len("/socket/") :].partition("?")[0]
        key = self.headers.get("Sec-WebSocket-Key") or ""
        problem = _handshake_problem(
            self.headers.get("Upgrade") or "",
            self.headers.get("Connection") or "",
            self.headers.get("Sec-WebSocket-Version") or "",
            key,
        )
        if problem:
            self._send(400, problem, "text/plain", {"Sec-WebSocket-Version": "13"})
            return
        if not standin.take_socket_ticket(ticket):
            self._send(401, "invalid or expired ticket", "text/plain", {})
            return
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        self.close_connection = True
        self.connection.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        standin.run_socket(_WebSocket(f"WS{secrets.token_hex(4)}", self.connection, self.rfile))

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, verb: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        # Header lookups in the stand-in use canonical names.
        canonical = {k.title(): v for k, v in headers.items()}
        standin = self.server.standin
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            status, extra, response = standin.handle_api(method, verb, canonical, query, body)
            if isinstance(response, dict):
                self._send(status, json.dumps(response), "application/json; charset=utf-8", extra)
            else:
                self._send(status, response, "text/plain; charset=utf-8", extra)
        elif path.startswith("/response/") and verb == "POST":
            status, text = standin.handle_response_url(path[len("/response/") :], canonical, body)
            self._send(status, text, "text/html", {})
        elif ui.handles(path):
            answer = ui.handle(standin, verb, path, query, canonical, body)
            self._send(answer.status, answer.body, answer.content_type, answer.headers)
        else:
            self._send(404, "not found", "text/plain", {})

    def _send(self, status: int, text: str | bytes, ctype: str, headers: Mapping[str, str]) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------- websocket


def _handshake_problem(upgrade: str, connection: str, version: str, key: str) -> str | None:
    """Why an opening handshake is refused (RFC 6455, 4.2.1), or ``None``."""
    if upgrade.strip().lower() != "websocket":
        return "Upgrade: websocket expected"
    if "upgrade" not in [t.strip().lower() for t in connection.split(",")]:
        return "Connection: Upgrade expected"
    if version.strip() != "13":
        return "Sec-WebSocket-Version: 13 expected"
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return "Sec-WebSocket-Key must be 16 random bytes, base64-encoded"
    except ValueError:
        return "Sec-WebSocket-Key is not base64"
    return None


class _ProtocolError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _WebSocket:
    """The server end of one websocket: unmasked frames out, masked frames in (RFC 6455, 5)."""

    CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
    MAX_MESSAGE = 16 * 1024 * 1024

    def __init__(self, conn_id: str, sock: socket.socket, rfile: io.BufferedIOBase) -> None:
        self.id = conn_id
        self._sock = sock
        self._rfile = rfile
        self._send_lock = threading.Lock()
        self._fragments: list[bytes] = []
        self._first_opcode: int | None = None
        self.close_sent = False
        self.thread: threading.Thread | None = None

    # sending ---------------------------------------------------------------
    def send(self, opcode: int, data: bytes) -> bool:
        """Send one frame; False when the connection is closing or gone."""
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._send_lock:
            if self.close_sent:
                return False
            try:
                self._sock.sendall(header + data)
            except OSError:
                return False
            if opcode == self.CLOSE:
                self.close_sent = True
        return True

    def send_text(self, text: str) -> bool:
        return self.send(self.TEXT, text.encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once); the reader ends when the client answers or goes."""
        self.send(self.CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:123])

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    # receiving -------------------------------------------------------------
    def _read(self, n: int) -> bytes | None:
        try:
            data = self._rfile.read(n)
        except (OSError, ValueError):
            return None
        return data if len(data) == n else None

    def _frame(self) -> tuple[bool, int, bytes] | None:
        head = self._read(2)
        if head is None:
            return None
        b1, b2 = head
        fin, opcode, length = bool(b1 & 0x80), b1 & 0x0F, b2 & 0x7F
        if b1 & 0x70:
            raise _ProtocolError(1002, "reserved bits set without an extension")
        if not b2 & 0x80:
            raise _ProtocolError(1002, "client frames must be masked")
        if length >= 126:
            ext = self._read(2 if length == 126 else 8)
            if ext is None:
                return None
            length = struct.unpack("!H" if length == 126 else "!Q", ext)[0]
        if opcode >= 0x8 and (length > 125 or not fin):
            raise _ProtocolError(1002, "control frames are at most 125 bytes, unfragmented")
        if length > self.MAX_MESSAGE:
            raise _ProtocolError(1009, "message too big")
        mask = self._read(4)
        data = self._read(length) if length else b""
        if mask is None or data is None:
            return None
        if length:
            key = (mask * (length // 4 + 1))[:length]
            data = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(
                length, "big"
            )
        return fin, opcode, data

    def receive(self) -> tuple[int, bytes] | None:
        """The next whole message or control frame (control frames may arrive between the
        fragments of a message); ``None`` when the connection is gone."""
        while True:
            frame = self._frame()
            if frame is None:
                return None
            fin, opcode, data = frame
            if opcode in (self.CLOSE, self.PING, self.PONG):
                return opcode, data
            if opcode == self.CONTINUATION:
                if self._first_opcode is None:
                    raise _ProtocolError(1002, "continuation frame without a message")
            elif opcode in (self.TEXT, self.BINARY):
                if self._first_opcode is not None:
                    raise _ProtocolError(1002, "new message inside a fragmented one")
                self._first_opcode = opcode
            else:
                raise _ProtocolError(1002, f"unknown opcode {opcode:#x}")
            self._fragments.append(data)
            if sum(len(f) for f in self._fragments) > self.MAX_MESSAGE:
                raise _ProtocolError(1009, "message too big")
            if fin:
                first, message = self._first_opcode, b"".join(self._fragments)
                self._first_opcode, self._fragments = None, []
                return first, message
