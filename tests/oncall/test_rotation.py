"""Rotations, overrides and who is on call now and next, at injected instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.oncall.rotation import (
    Override,
    Rotation,
    now_and_next,
    on_call,
    parse_handoff,
    until_time,
)

UTC = dt.UTC


def at(text: str, tz: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


BERLIN = Rotation(
    ("UALICE", "UBOB", "UCARO"),
    timezone="Europe/Berlin",
    weekday=0,
    at=dt.time(9, 0),
    start=dt.date(2026, 3, 16),  # a Monday: Alice's first shift
)


def test_weekly_handoff_stays_at_local_time_across_spring_forward() -> None:
    # Berlin moves to CEST on Sunday 2026-03-29: 09:00 is 08:00 UTC before, 07:00 UTC after
    s = BERLIN.shift_at(at("2026-03-25T12:00", "Europe/Berlin"))
    assert (s.user, utc(s.start), utc(s.end)) == ("UBOB", "2026-03-23 08:00", "2026-03-30 07:00")
    assert (s.end - s.start) / 3600 == 167  # that week is an hour short
    assert BERLIN.shift_at(at("2026-03-30T08:59:59", "Europe/Berlin")).user == "UBOB"
    assert BERLIN.shift_at(at("2026-03-30T09:00", "Europe/Berlin")).user == "UCARO"


def test_weekly_handoff_across_fall_back() -> None:
    # CEST ends on Sunday 2026-10-25; the Monday 09:00 handoff is 07:00 UTC, then 08:00 UTC
    s = BERLIN.shift_at(at("2026-10-24T12:00", "Europe/Berlin"))
    assert (utc(s.start), utc(s.end)) == ("2026-10-19 07:00", "2026-10-26 08:00")
    assert (s.end - s.start) / 3600 == 169
    after = BERLIN.shift_at(s.end)
    assert after.user == BERLIN.members[(BERLIN.members.index(s.user) + 1) % 3]


def test_the_rotation_wraps_around_its_members() -> None:
    first = at("2026-03-16T09:00", "Europe/Berlin")
    users = [BERLIN.shift_at(first + k * 7 * 86400 + 3600).user for k in range(4)]
    assert users == ["UALICE", "UBOB", "UCARO", "UALICE"]


def test_before_the_first_handoff_the_last_member_is_on_call() -> None:
    assert BERLIN.shift_at(at("2026-03-16T08:00", "Europe/Berlin")).user == "UCARO"


def test_tokyo_team_hands_over_at_ten_jst() -> None:
    tokyo = Rotation(("UKEN", "UYUKI"), timezone="Asia/Tokyo", weekday=0, at=dt.time(10, 0))
    s = tokyo.shift_at(at("2026-12-07T00:59", "UTC"))  # Monday 09:59 JST
    assert utc(s.end) == "2026-12-07 01:00"
    nxt = tokyo.shift_at(s.end)
    assert nxt.user != s.user and utc(nxt.end) == "2026-12-14 01:00"


def test_daily_rotation_in_london_across_fall_back_keeps_wall_time() -> None:
    london = Rotation(
        ("UA", "UB"),
        timezone="Europe/London",
        weekday=None,
        at=dt.time(18, 0),
        length_s=86400,
        start=dt.date(2026, 10, 20),
    )
    s = london.shift_at(at("2026-10-25T12:00", "Europe/London"))
    assert (utc(s.start), utc(s.end)) == ("2026-10-24 17:00", "2026-10-25 18:00")


def test_seconds_long_shifts() -> None:
    r = Rotation(("UA", "UB", "UC"), weekday=None, at=dt.time(0, 0), length_s=10.0)
    t0 = at("2026-12-02T00:00:00")
    assert [r.shift_at(t0 + s).user for s in (0, 9.9, 10, 25)] == ["UA", "UA", "UB", "UC"]


def test_override_wins_then_the_rotation_resumes() -> None:
    now = at("2026-03-25T12:00", "Europe/Berlin")
    o = Override("UDAN", now - 60, now + 7200, by="UDAN")
    nn = now_and_next(now, BERLIN, [o])
    assert nn.now.users == ("UDAN",) and nn.now.source == "override"
    assert nn.next is not None and nn.next.users == ("UBOB",) and nn.next_at == now + 7200
    assert on_call(now + 7200, BERLIN, [o]).users == ("UBOB",)


def test_newest_override_wins() -> None:
    now = 1000.0
    older = Override("UA", 0, 5000)
    newer = Override("UB", 500, 2000)
    assert on_call(now, None, [older, newer]).users == ("UB",)
    nn = now_and_next(now, None, [older, newer])
    assert nn.next is not None and nn.next.users == ("UA",) and nn.next_at == 2000


def test_next_skips_a_handover_to_the_same_person() -> None:
    now = at("2026-03-25T12:00", "Europe/Berlin")
    end_of_bob = at("2026-03-30T09:00", "Europe/Berlin")
    o = Override("UCARO", now, end_of_bob - 3600)  # Caro takes Bob's last hours, then her shift
    nn = now_and_next(now, BERLIN, [o])
    assert nn.now.users == ("UCARO",)
    assert nn.next is not None and nn.next.users == ("UBOB",) and nn.next_at == end_of_bob - 3600


def test_usergroup_then_nobody() -> None:
    assert on_call(0, None, [], ["U1", "U2"]).users == ("U1", "U2")
    nn = now_and_next(0, None, [], [])
    assert nn.now.source == "none" and nn.next is None


@pytest.mark.parametrize(
    ("text", "day", "time"),
    [
        ("mon 09:00", 0, dt.time(9)),
        ("Friday 17:30", 4, dt.time(17, 30)),
        ("08:15:30", None, dt.time(8, 15, 30)),
    ],
)
def test_parse_handoff(text: str, day: int | None, time: dt.time) -> None:
    assert parse_handoff(text) == (day, time)


@pytest.mark.parametrize("bad", ["mon", "25:00", "noon", "mon 9"])
def test_parse_handoff_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_handoff(bad)


def test_until_is_the_next_such_instant_in_the_team_zone() -> None:
    now = at("2026-12-02T10:00", "Asia/Tokyo")  # a Wednesday
    assert until_time("mon 09:00", now, "Asia/Tokyo") == at("2026-12-07T09:00", "Asia/Tokyo")
    assert until_time("09:00", now, "Asia/Tokyo") == at("2026-12-03T09:00", "Asia/Tokyo")
    assert until_time("18:00", now, "Asia/Tokyo") == at("2026-12-02T18:00", "Asia/Tokyo")
