"""Who is on call (pure): a team's rotation, overrides taken from Slack, a Slack user group.

A rotation hands over at a weekday and time in the team's time zone, every `length` (a week by
default), to the next of its members. The schedule is computed in the zone's wall-clock time,
so a Monday 09:00 handoff in Europe/Berlin stays at 09:00 across daylight saving (that week's
shift is an hour shorter or longer). Shift 0 (members[0]) is the first handoff on or after
`start`; a shift length of seconds or minutes works the same way (used by tests and demos).

Precedence, at an instant: the newest override in force (`/triage oncall take`), then the
rotation's member, then the members of the team's Slack user group, then nobody (the team's
configured `oncall` handle is the fallback the notifier mentions).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK_S = 7 * 86400.0
EPOCH_DATE = dt.date(2024, 1, 1)  # a Monday: shift numbering starts here unless `start` is given

_HANDOFF = re.compile(
    r"^(?:(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?$", re.I
)


def parse_handoff(text: str) -> tuple[int | None, dt.time]:
    """'mon 09:00' -> (0, 09:00); '18:30' -> (None, 18:30); 'Friday 17:00:30' works too.
    Raises ValueError with what to write."""
    m = _HANDOFF.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a weekday and time such as 'mon 09:00'")
    day = WEEKDAYS.index(m.group(1).lower()[:3]) if m.group(1) else None
    h, mi, s = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"{text!r}: the time must be between 00:00 and 23:59")
    return day, dt.time(h, mi, s)


@dataclass(frozen=True, slots=True)
class Rotation:
    members: tuple[str, ...]  # Slack user ids, in rotation order
    timezone: str = "UTC"
    weekday: int | None = 0  # of the first handoff (0 Monday); None: `start`'s own day
    at: dt.time = dt.time(9, 0)
    length_s: float = WEEK_S
    start: dt.date = EPOCH_DATE

    def _anchor(self) -> dt.datetime:
        """The first handoff (naive wall-clock time in the zone)."""
        day = self.start
        if self.weekday is not None:
            day += dt.timedelta(days=(self.weekday - day.weekday()) % 7)
        return dt.datetime.combine(day, self.at)

    def _wall(self, k: int) -> dt.datetime:
        return self._anchor() + dt.timedelta(seconds=k * self.length_s)

    def _epoch(self, wall: dt.datetime) -> float:
        return wall.replace(tzinfo=ZoneInfo(self.timezone)).timestamp()

    def index_at(self, now: float) -> int:
        """The number of the shift in force at `now` (negative before the first handoff)."""
        local = dt.datetime.fromtimestamp(now, ZoneInfo(self.timezone)).replace(tzinfo=None)
        k = math.floor((local - self._anchor()).total_seconds() / self.length_s)
        # wall-clock arithmetic can be one off around a DST change: settle on real instants
        while self._epoch(self._wall(k)) > now:
            k -= 1
        while self._epoch(self._wall(k + 1)) <= now:
            k += 1
        return k

    def shift(self, k: int) -> Shift:
        member = self.members[k % len(self.members)]
        return Shift(member, self._epoch(self._wall(k)), self._epoch(self._wall(k + 1)))

    def shift_at(self, now: float) -> Shift:
        return self.shift(self.index_at(now))


@dataclass(frozen=True, slots=True)
class Shift:
    user: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Override:
    """`/triage oncall take`: `user` is on call from `start` until `end` (epoch seconds)."""

    user: str
    start: float
    end: float
    by: str = ""

    def active(self, now: float) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call at an instant and until when (None: no change is scheduled)."""

    users: tuple[str, ...]  # Slack user ids; () when nobody is known
    source: str  # "override" | "rotation" | "usergroup" | "none"
    until: float | None = None


@dataclass(frozen=True, slots=True)
class NowNext:
    now: OnCall
    next: OnCall | None  # who takes over at now.until; None when nothing is scheduled
    next_at: float | None = None


def on_call(
    now: float,
    rotation: Rotation | None = None,
    overrides: Sequence[Override] = (),
    usergroup: Sequence[str] = (),
) -> OnCall:
    active = [o for o in overrides if o.active(now)]
    shift = rotation.shift_at(now) if rotation is not None and rotation.members else None
    # the newest override wins; it ends at its own end, or earlier when a newer one starts
    pending = [o.start for o in overrides if o.start > now]
    if active:
        top = max(active, key=lambda o: (o.start, o.end))
        return OnCall((top.user,), "override", min([top.end, *pending]))
    if shift is not None:
        return OnCall((shift.user,), "rotation", min([shift.end, *pending]))
    if usergroup:
        return OnCall(tuple(usergroup), "usergroup", min(pending) if pending else None)
    return OnCall((), "none", min(pending) if pending else None)


def now_and_next(
    now: float,
    rotation: Rotation | None = None,
    overrides: Sequence[Override] = (),
    usergroup: Sequence[str] = (),
) -> NowNext:
    """Who is on call now, and who takes over when that ends (skipping a change to the same
    person, e.g. an override by the member whose shift it is)."""
    cur = on_call(now, rotation, overrides, usergroup)
    at = cur.until
    for _ in range(8):  # a few hand-overs to the same person in a row at most
        if at is None:
            return NowNext(cur, None)
        nxt = on_call(at, rotation, overrides, usergroup)
        if nxt.users != cur.users:
            return NowNext(cur, nxt, at)
        at = nxt.until
    return NowNext(cur, None)


# --- `/triage oncall take [2h | until mon 09:00]` -------------------------------------------


def until_time(text: str, now: float, timezone: str) -> float:
    """The next instant after `now` at a weekday and time (or a time: today, else tomorrow)
    in `timezone`. Raises ValueError."""
    day, at = parse_handoff(text)
    tz = ZoneInfo(timezone)
    local = dt.datetime.fromtimestamp(now, tz)
    for add in range(8):
        d = local.date() + dt.timedelta(days=add)
        if day is not None and d.weekday() != day:
            continue
        t = dt.datetime.combine(d, at, tz).timestamp()
        if t > now:
            return t
    raise ValueError(f"no time {text!r} after now")  # unreachable: a week always holds one


__all__ = [
    "EPOCH_DATE",
    "WEEKDAYS",
    "WEEK_S",
    "NowNext",
    "OnCall",
    "Override",
    "Rotation",
    "Shift",
    "now_and_next",
    "on_call",
    "parse_handoff",
    "until_time",
]
