"""When to notify (pure): the Alertmanager-style windows and the escalation schedule.

* `group_wait` (default 0 s): a new group's first message waits this long, so the first
  occurrences of a burst land in one message with a meaningful count.
* `update_interval` (default 30 s): count changes update a message at most once per interval
  (coalesced in the Redis outbox); human actions show at once.
* `escalate_after` (default 15 min, per route target): an open group nobody acknowledged gets a
  thread reply mentioning the target's on-call handle; repeated every `repeat_interval`
  (default 4 h) while it stays open and unacknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Destination, Timings


def escalation_wait(
    targets: Sequence[Destination], windows: Timings, *, first: bool
) -> float | None:
    """Seconds until the next escalation over the targets that have an on-call handle (the
    soonest wins), or None when none escalates. A target's own setting overrides the default;
    0 switches it off for that target."""
    waits = []
    for tg in targets:
        if not (tg.oncall or tg.rotation):
            continue
        own = tg.escalate_after_s if first else tg.repeat_interval_s
        wait = (
            own
            if own is not None
            else (windows.escalate_after if first else windows.repeat_interval)
        )
        if wait > 0:
            waits.append(wait)
    return min(waits) if waits else None


def escalation_mentions(people: Sequence[str], fallback: str, *, first: bool) -> tuple[str, str]:
    """(whom an escalation mentions, the fallback it adds): the person on call; from the first
    repeat on, then the team's `oncall` handle too. Nobody on call: the fallback alone."""
    if not people:
        return fallback, ""
    who = " ".join(f"<@{u}>" for u in people)
    return who, ("" if first or fallback == who else fallback)


def unacked_minutes(created: float, regressed_at: float, now: float) -> int:
    """Minutes the current episode has been open: since creation or the last regression."""
    return max(0, int((now - max(created, regressed_at)) // 60))
