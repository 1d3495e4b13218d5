"""A declared incident: its states, severities, timeline events and channel name. Pure."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


DEFAULT_SEVERITY = Severity.SEV3


class EventKind(StrEnum):
    DECLARED = "declared"
    STATUS = "status"
    SEVERITY = "severity"
    LEAD = "lead"
    LINKED = "linked"
    # something happened to a linked group (detail: group, what = acknowledged | resolved |
    # reopened | snoozed | regression | escalation | spike | new_revision)
    GROUP = "group"
    GROUPS_RESOLVED = "groups_resolved"
    POSTMORTEM = "postmortem"


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    actor: str  # a Slack user id, or "" for the bot itself
    kind: EventKind
    detail: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"at": self.at, "actor": self.actor, "kind": str(self.kind), "detail": self.detail},
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @staticmethod
    def from_json(raw: str | bytes) -> Event | None:
        try:
            d = json.loads(raw)
            return Event(float(d["at"]), str(d["actor"]), EventKind(d["kind"]), dict(d["detail"]))
        except (ValueError, KeyError, TypeError):
            return None  # an entry this version cannot read: skipped, never fatal


@dataclass(frozen=True, slots=True)
class Incident:
    id: str  # the channel name, e.g. "inc-20261202-billing-db" (unique: collision-safe)
    title: str  # untrusted (typed by a person or taken from an error): escape when shown
    channel: str  # the incident channel's id ("" until it is created)
    declared_by: str
    declared_at: float
    status: Status = Status.INVESTIGATING
    severity: Severity = DEFAULT_SEVERITY
    lead: str = ""  # the incident commander's user id
    groups: tuple[str, ...] = ()  # linked group ids, in the order they were linked
    source: str = ""  # "CHANNEL/TS" of the message it was declared from
    summary_ref: str = ""  # "CHANNEL/TS" of the pinned summary

    def to_fields(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "channel": self.channel,
            "declared_by": self.declared_by,
            "declared_at": repr(self.declared_at),
            "status": str(self.status),
            "severity": str(self.severity),
            "lead": self.lead,
            "groups": "\n".join(self.groups),
            "source": self.source,
            "summary_ref": self.summary_ref,
        }

    @staticmethod
    def from_fields(f: dict[str, str]) -> Incident:
        return Incident(
            id=f["id"],
            title=f.get("title", ""),
            channel=f.get("channel", ""),
            declared_by=f.get("declared_by", ""),
            declared_at=float(f.get("declared_at") or 0),
            status=Status(f.get("status") or Status.INVESTIGATING),
            severity=Severity(f.get("severity") or DEFAULT_SEVERITY),
            lead=f.get("lead", ""),
            groups=tuple(g for g in f.get("groups", "").split("\n") if g),
            source=f.get("source", ""),
            summary_ref=f.get("summary_ref", ""),
        )

    def with_group(self, gid: str) -> Incident:
        return self if gid in self.groups else replace(self, groups=(*self.groups, gid))


# Slack channel names: lowercase letters, digits, hyphens and underscores, at most 80 chars.
MAX_CHANNEL_NAME = 80
MAX_SLUG = 40
MAX_TITLE = 150
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(title: str) -> str:
    """ "Cloud SQL billing-db refuses connections!" -> "cloud-sql-billing-db-refuses"; accents
    dropped (é -> e); a title with no Latin letters or digits (日本語) gives "incident"."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = [w for w in _NOT_SLUG.split(ascii_) if w]
    out = ""
    for w in words:
        nxt = f"{out}-{w}" if out else w
        if len(nxt) > MAX_SLUG:
            break
        out = nxt
    return out or (words[0][:MAX_SLUG] if words else "incident")


def channel_name(title: str, now: float, attempt: int = 1) -> str:
    """`inc-<yyyymmdd>-<slug>`; attempt 2, 3, ... (after name_taken) appends "-2", "-3"."""
    day = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
    name = f"inc-{day}-{slug(title)}"
    if attempt > 1:
        name = f"{name}-{attempt}"
    return name[:MAX_CHANNEL_NAME]


def parse_status(word: str) -> Status | None:
    w = word.strip().lower()
    for s in Status:
        if s.value == w or (len(w) >= 3 and s.value.startswith(w)):
            return s
    return None


def parse_severity(word: str) -> Severity | None:
    w = word.strip().upper().removeprefix("SEV")
    return Severity(f"SEV{w}") if w in ("1", "2", "3", "4") else None


def timeline_sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.at)


def counts_of(groups: list[Any]) -> dict[str, int]:
    """group id -> count, for the summary's live counts (groups are store Groups)."""
    return {g.id: g.count for g in groups if g is not None}
