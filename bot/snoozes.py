"""Snoozes and resolves like the references (pure): scoped snoozes, "until escalating",
auto-resolve and ack reminders, as the batch script and the transitions need them.

* A scoped snooze ("env=staging", "revision=api-00042-abc", any label "key=value") quiets
  only the entries that carry that value; an entry without it wakes the group (Sentry's
  "ignore per environment"). Each batch passes the script the distinct scopes of a group's
  entries (`scopes_of`), so the script decides without another round trip.
* "Until escalating" (Sentry's archive): wakes when the entries since the snooze (within the
  last hour) reach `factor` x the entries of the hour before the snooze (at least 1).
* Auto-resolve: a group with no entry for `auto_resolve_after` resolves itself (the
  notifier's sweep), with a timeline entry; a later entry is a regression.
* "Resolve in next release": resolved until a revision not seen before the resolve throws it.
* Ack reminders: an acknowledged group that keeps firing reminds its acknowledger in the
  thread after `ack_timeout`, then at most once per `ack_timeout`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.models import ErrorEvent

SEP = "\x1f"  # between the key=value items of a scope string (never in a label, stripped)
ESCALATING_FACTOR = 5  # `snooze <id> escalating`: 5x the rate before the snooze
_SCOPE = re.compile(r"^([A-Za-z0-9_.\-/]{1,63})=([^\s\x1f=]{1,200})$")


@dataclass(frozen=True, slots=True)
class GroupLifecycle:
    """What a group's routes say about its lifecycle (0: off)."""

    auto_resolve_after: float = 0.0
    ack_timeout: float = 0.0


def parse_scope(text: str) -> str | None:
    """'env=staging' -> 'env=staging'; None when it is not key=value."""
    m = _SCOPE.match(text.strip())
    return f"{m.group(1)}={m.group(2)}" if m else None


def _clean(v: str) -> str:
    return v.replace(SEP, "")


def scope_string(ev: ErrorEvent) -> str:
    """Every value an entry can be scoped by, as "\\x1frevision=R\\x1fkey=value\\x1f..."."""
    items = [f"revision={_clean(ev.revision)}"] if ev.revision else []
    items += [f"{_clean(k)}={_clean(v)}" for k, v in ev.labels.items()]
    return SEP + SEP.join(items) + SEP


def scopes_of(events: Iterable[ErrorEvent]) -> list[str]:
    """The distinct scope strings of a group's entries in a batch (usually one)."""
    return list(dict.fromkeys(scope_string(e) for e in events))


def escalating_arg(factor: float, minute_counts: list[int], now: float) -> dict[str, float]:
    """The transition's argument for "until escalating": the hour before the snooze (per-minute
    counts, oldest first, the current minute last) and the current minute's count so far."""
    return {
        "factor": factor,
        "before": max(1, sum(minute_counts)),
        "minute": int(now // 60),
        "base": minute_counts[-1] if minute_counts else 0,
    }
