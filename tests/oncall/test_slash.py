"""`/triage oncall` and `/triage oncall take` on real Redis, at injected times."""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from bot.oncall.rotation import Override
from bot.oncall.service import OnCall
from bot.oncall.slash import answer_oncall
from bot.routing.config import Config, parse_config
from bot.store.keys import Keys
from bot.store.oncall import OverrideStore

CFG = """\
teams:
  - name: payments
    channel: C0PAY
    oncall: "@payments-oncall"
    timezone: Europe/Berlin
    rotation: {members: [U01ALICE, U02BOB], handoff: mon 09:00, start: 2026-11-30}
  - name: search
    channel: C0SRCH
    rotation: {usergroup: S0SEARCH}
  - {name: sre, channel: C0SRE}
default_route: {team: sre}
"""

# Wednesday 2026-12-02 12:00 in Berlin: shift 0 (Alice) runs from Monday 11-30 09:00 for a week
WED = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> OverrideStore:
    return OverrideStore(redis_client, Keys(key_prefix))


@pytest.fixture
def cfg() -> Config:
    return parse_config(CFG)


def _svc(store: OverrideStore, cfg: Config, members: dict[str, list[str]] | None = None) -> OnCall:
    calls: list[str] = []

    def lookup(group: str) -> list[str]:
        calls.append(group)
        return (members or {}).get(group, [])

    svc = OnCall(store, lambda: cfg, lookup, clock=lambda: WED)
    svc.calls = calls  # type: ignore[attr-defined]
    return svc


def ask(svc: OnCall, cfg: Config, text: str, channel: str = "C0PAY", now: float = WED) -> str:
    return answer_oncall(
        svc, cfg, text.split(), user="U09DAN", channel=channel, locale="en", tz="UTC", now=now
    )


def test_now_and_next_from_the_rotation(store: OverrideStore, cfg: Config) -> None:
    out = ask(_svc(store, cfg), cfg, "")
    assert "*payments* on call now: <@U01ALICE> until 2026-12-07 08:00 UTC (rotation)" in out
    assert "next: <@U02BOB> from 2026-12-07 08:00 UTC" in out
    assert "fallback: @payments-oncall" in out


def test_take_for_two_hours_then_the_rotation_resumes(store: OverrideStore, cfg: Config) -> None:
    svc = _svc(store, cfg)
    assert "until 2026-12-02 13:00 UTC" in ask(svc, cfg, "take 2h")
    out = ask(svc, cfg, "")
    assert "on call now: <@U09DAN> until 2026-12-02 13:00 UTC (override)" in out
    assert "next: <@U01ALICE> from 2026-12-02 13:00 UTC" in out
    assert svc.current("payments", WED + 2 * 3600) == ("U01ALICE",)
    assert svc.current("payments", WED + 2 * 3600 - 1) == ("U09DAN",)


def test_take_until_a_weekday_in_the_team_zone(store: OverrideStore, cfg: Config) -> None:
    svc = _svc(store, cfg)
    out = ask(svc, cfg, "take payments until fri 18:00")
    assert "until 2026-12-04 17:00 UTC" in out  # 18:00 CET


def test_take_without_a_time_covers_the_current_shift(store: OverrideStore, cfg: Config) -> None:
    svc = _svc(store, cfg)
    assert "until 2026-12-07 08:00 UTC" in ask(svc, cfg, "take")
    assert svc.current("payments", WED + 86400) == ("U09DAN",)
    nxt = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC).timestamp()
    assert svc.current("payments", nxt) == ("U02BOB",)


def test_usergroup_members_are_on_call_and_cached(store: OverrideStore, cfg: Config) -> None:
    svc = _svc(store, cfg, {"S0SEARCH": ["U05KEN", "U06YUKI"]})
    out = ask(svc, cfg, "search")
    assert "*search* on call now: <@U05KEN> <@U06YUKI> (user group)" in out
    ask(svc, cfg, "search")
    assert svc.calls == ["S0SEARCH"]  # type: ignore[attr-defined]


def test_slack_failure_keeps_the_last_known_members(store: OverrideStore, cfg: Config) -> None:
    answers = [["U05KEN"]]

    def lookup(group: str) -> list[str]:
        if not answers:
            raise OSError("slack is down")
        return answers.pop()

    svc = OnCall(store, lambda: cfg, lookup)
    assert svc.usergroup("S0SEARCH", 0.0) == ["U05KEN"]
    assert svc.usergroup("S0SEARCH", 1000.0) == ["U05KEN"]


@pytest.mark.parametrize(
    ("text", "channel", "expect"),
    [
        ("", "C0OTHER", "This channel is no team's alert channel"),
        ("nosuch", "C0PAY", "No team `nosuch`"),
        ("take soon", "C0PAY", "`soon` is not a time"),
        ("take until someday", "C0PAY", "is not a time"),
        ("take 0s", "C0PAY", "is not a time"),
        ("", "C0SRE", "*sre*: nobody is on call"),
    ],
)
def test_answers_say_what_to_write(
    store: OverrideStore, cfg: Config, text: str, channel: str, expect: str
) -> None:
    assert expect in ask(_svc(store, cfg), cfg, text, channel)


def test_without_a_config() -> None:
    out = answer_oncall(None, None, [], user="U1", channel="C1", locale="en", tz="UTC", now=0)
    assert "no routing config" in out


def test_overrides_expire_with_a_ttl(
    store: OverrideStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    store.add("payments", Override("U1", 100.0, 200.0), now=100.0)
    ttl = redis_client.ttl(Keys(key_prefix).oncall_overrides("payments"))
    assert 86400 < ttl <= 86400 + 100
    assert store.active("payments", 150.0) == [Override("U1", 100.0, 200.0, "")]
    assert store.active("payments", 200.0) == []


def test_a_user_group_fallback_shows_as_its_mention(store: OverrideStore) -> None:
    cfg = parse_config(CFG.replace('"@payments-oncall"', '"<!subteam^S0PAYONCALL>"'))
    out = ask(_svc(store, cfg), cfg, "")
    assert "fallback: <!subteam^S0PAYONCALL>" in out
    assert "&lt;" not in out
