"""Data the pipeline passes between its stages.

ErrorEvent, HttpInfo and Fingerprint are built once per log entry on the hot path, so they are
plain slotted dataclasses: a frozen dataclass's __init__ costs 4 us more per instance (16
fields, measured), about a tenth of parsing plus fingerprinting. Treat them as immutable."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot import slack_ids


@dataclass(slots=True)
class HttpInfo:
    method: str
    url: str
    status: int
    latency: str | None = None


@dataclass(slots=True)
class ErrorEvent:
    """One error-level LogEntry, reduced to what grouping, routing and rendering need."""

    insert_id: str
    timestamp: float  # epoch seconds (UTC)
    severity: str  # Cloud Logging severity name, e.g. "ERROR"
    service: str  # owning service: Cloud Run service, k8s namespace/container, function, job ...
    resource_type: str  # e.g. "cloud_run_revision"
    project_id: str = ""
    revision: str | None = None  # Cloud Run revision, pod's deployment, function version ...
    version: str | None = None  # serviceContext.version (Error Reporting) when present
    log_name: str = ""
    message: str = ""  # the error text (first line / message field), untrusted
    stack: str | None = None  # the full stack trace text when there is one, untrusted
    http: HttpInfo | None = None
    trace: str | None = None  # "projects/P/traces/ID"
    error_group_id: str | None = None  # errorGroups[0].id (Error Reporting)
    labels: dict[str, str] = field(default_factory=dict)  # resource + entry labels, flattened
    report_location: dict[str, object] | None = None  # ReportedErrorEvent context.reportLocation


@dataclass(frozen=True, slots=True)
class Rejected:
    """An entry that could not be turned into an ErrorEvent; counted and dead-lettered."""

    reason: str
    raw: str  # a (truncated) copy of the input for inspection
    insert_id: str | None = None


@dataclass(slots=True)
class Fingerprint:
    """The grouping decision for one event. `id` is the group id (stable, versioned)."""

    id: str  # e.g. "fp1-3f2a9c0d1e4b5a67"
    version: str  # "fp1"
    title: str  # human alert title, e.g. "KeyError: 'total_amount' in extract (ocr/extract.py)"
    culprit: str = ""  # "module.function" of the top in-app frame, when known
    frames: tuple[str, ...] = ()  # top in-app frames, rendered for the alert ("file in func")
    components: tuple[tuple[str, str], ...] = ()  # what was hashed, in order: (name, value)


# ---- the alert group and its lifecycle ---------------------------------------------------------
# StrEnums: each member IS its string value, which is what Redis stores and the Lua scripts
# compare with, so Python code names the member and Lua gets the value.


class GroupState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"


class Transition(StrEnum):
    """A state change (transition.lua); WAKE is the notifier's, when a timed snooze ran out."""

    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    SNOOZE_FOR = "snooze_for"
    SNOOZE_COUNT = "snooze_count"
    UNSNOOZE = "unsnooze"
    ASSIGN = "assign"
    WAKE = "wake"


class NoticeKind(StrEnum):
    """A thread reply queued on a group (its notices list), posted by the notifier."""

    REGRESSION = "regression"
    NEW_REVISION = "new_revision"
    SPIKE = "spike"
    ESCALATION = "escalation"
    UNSNOOZED = "unsnoozed"


DIGEST_PREFIX = "dg:"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a group is shown in one channel: its own message ("CHANNEL/TS", the channel may
    differ from the destination's after a fallback) or an entry in digest number `digest`
    ("dg:N")."""

    channel: str = ""
    ts: str = ""
    digest: int = 0

    @property
    def in_digest(self) -> bool:
        return self.digest > 0

    @classmethod
    def parse(cls, value: str, channel: str) -> MessageRef:
        """A stored reference; `channel` is the destination (for a bare ts, as once stored)."""
        if value.startswith(DIGEST_PREFIX):
            return cls(channel=channel, digest=int(value.removeprefix(DIGEST_PREFIX)))
        ch, sep, ts = value.partition("/")
        return cls(ch, ts) if sep else cls(channel, value)

    @classmethod
    def in_digest_n(cls, channel: str, n: int) -> MessageRef:
        return cls(channel=channel, digest=n)

    def encode(self) -> str:
        return f"{DIGEST_PREFIX}{self.digest}" if self.digest else f"{self.channel}/{self.ts}"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a group's alert goes and how it is shown there: a routed team's channel (with its
    on-call and escalation timing), a subscribed channel, or the default channel.
    escalate_after_s / repeat_interval_s: None means the Timings default, 0 means never."""

    channel: str
    team: str = ""
    oncall: tuple[str, ...] = ()  # "@handle", "<!subteam^S…>" or user ids "U…", as configured
    rotation: bool = False  # the team has a rotation (bot.oncall): mention who is on call
    escalate_after_s: float | None = None
    repeat_interval_s: float | None = None
    locale: str = "en"
    timezone: str = "UTC"
    route_index: int | None = None  # index in `routes`, -1 the default route, None no route

    @property
    def mention(self) -> str:
        """The on-call as Slack mention text. User ids become <@U…>; <!subteam^…> is kept; a
        bare @handle stays text (Slack pings a user group only by its <!subteam^ID>)."""
        out = []
        for h in self.oncall:
            out.append(f"<@{h}>" if slack_ids.is_user(h) else h)
        return " ".join(out)

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"channel": self.channel}
        for name, default in _DEST_DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                d[name] = list(value) if isinstance(value, tuple) else value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Destination:
        kw = {k: d[k] for k in _DEST_DEFAULTS if k in d}
        if "oncall" in kw:
            kw["oncall"] = tuple(kw["oncall"])
        return cls(channel=str(d["channel"]), **kw)


_DEST_DEFAULTS: dict[str, object] = {
    "team": "",
    "oncall": (),
    "rotation": False,
    "escalate_after_s": None,
    "repeat_interval_s": None,
    "locale": "en",
    "timezone": "UTC",
    "route_index": None,
}


# Group hash fields of the routing decision, written when an episode starts (record_batch.lua,
# from the pipeline's payload) and when a group not yet shown is routed again after a reload.
DEST_FIELD = "dest"  # JSON list of Destination dicts
DEST_VERSION_FIELD = "dest_cfg"  # which config decided (bot.routing.router.Router.version)
ROUTE_INPUT_FIELD = "route_in"  # JSON of the event fields routes match on; dropped once shown
ROUTE_WHY_FIELD = "route_why"  # which route and owner rule decided, a line each (/triage show)


def encode_destinations(dests: Sequence[Destination]) -> str:
    return json.dumps([d.to_dict() for d in dests], separators=(",", ":"))


def decode_destinations(text: str) -> list[Destination]:
    return [Destination.from_dict(d) for d in json.loads(text)]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel following services (`/triage subscribe`)."""

    pattern: str  # service name or glob, e.g. "payments-*"
    channel: str
    severity: str = "ERROR"  # this severity and above
    by: str = ""
    at: float = 0.0


@dataclass(slots=True)
class Group:
    """An alert group as stored; `fields` keeps everything else the hash holds."""

    id: str
    title: str
    service: str
    state: str  # a GroupState value
    count: int
    first: float
    last: float
    ver: int
    sample: str = ""
    frames: tuple[str, ...] = ()
    messages: dict[str, str] = field(default_factory=dict)  # channel -> MessageRef.encode()
    notices: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    def ref(self, channel: str) -> MessageRef | None:
        stored = self.messages.get(channel)
        return None if stored is None else MessageRef.parse(stored, channel)


@dataclass(frozen=True, slots=True)
class Timings:
    """Every timing the pipeline applies, as one value: ingest (group_wait, update_interval),
    the notifier (update_interval, digests) and escalation read the same object, and a config
    reload swaps it whole. From the config's `defaults:`, else the environment."""

    update_interval: float = 30.0  # at most one message update per group per interval
    group_wait: float = 0.0  # wait before the first post of a new group
    digest_threshold: int = 10  # more new groups than this per channel within the window
    digest_window: float = 60.0
    digest_max_size: int = 40  # entries per digest message
    escalate_after: float = 15 * 60.0  # mention on-call when nobody acknowledged
    repeat_interval: float = 4 * 3600.0  # repeat the escalation while still unacknowledged
