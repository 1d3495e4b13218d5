"""What the Slack stand-in records and answers with: workspace objects, recorded calls and
requests, Slack's documented limits, and the error a Web API method raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Signing = Literal["valid", "bad_signature", "stale", "unsigned"]
"""How a Slack -> app request is signed: correctly, with a wrong secret, with a timestamp more
than five minutes old (correctly signed for it), or without the signature headers."""

Surface = Literal["message", "home", "modal"]

# Slack's documented limits (api.slack.com/reference/block-kit and chat.postMessage).
MAX_BLOCKS = {"message": 50, "home": 100, "modal": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_CHANNEL_NAME = 80  # conversations.create
MAX_TOPIC = 250  # conversations.setTopic / setPurpose
MAX_INVITES = 1000  # conversations.invite users per call
# Per-method rate tiers (requests per minute) of the methods that have a low one, enforced
# when rate limits are on (api.slack.com/apis/rate-limits: Tier 2 = 20+/min, Tier 3 = 50+/min).
METHOD_TIERS = {
    "conversations.create": 20,
    "conversations.setTopic": 20,
    "conversations.setPurpose": 20,
    "pins.add": 20,
    "conversations.invite": 50,
}
MAX_MARKDOWN_TEXT = 12_000
STALE_AFTER_SECONDS = 5 * 60
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
ACK_DEADLINE_SECONDS = 3.0
SOCKET_TICKET_TTL_SECONDS = 30.0


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
    creator: str = ""
    topic: str = ""
    purpose: str = ""
    # Users invited with conversations.invite (besides the bot); a tuple, so a copy of the
    # channel (dataclasses.replace) never shares it.
    members: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()  # ts of the pinned messages, in the order they were pinned


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


class SlackError(Exception):
    """Raised inside the stand-in to answer ``ok: false``; ``extra`` joins the body."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra
