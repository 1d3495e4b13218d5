"""Scoped snoozes, "until escalating", resolve in the next release, auto-resolve and ack
reminders: the batch script and the transitions on a real Redis, time passed in."""

from __future__ import annotations

import json

import pytest
import redis

from bot.models import ErrorEvent, Fingerprint
from bot.snoozes import GroupLifecycle, escalating_arg, parse_scope, scopes_of
from bot.store.redis_store import RedisStore

T0 = 1_764_000_000.0  # a whole minute
GID = "fp1-bbbb"
FP = Fingerprint(GID, "fp1", "Boom")
_n = iter(range(10**9))


def ev(t: float, *, env: str = "prod", rev: str = "svc-00001-abc") -> ErrorEvent:
    return ErrorEvent(
        insert_id=f"i{next(_n)}",
        timestamp=t,
        severity="ERROR",
        service="svc",
        resource_type="cloud_run_revision",
        revision=rev,
        message="boom",
        labels={"env": env, "region": "asia-northeast1"},
    )


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> RedisStore:
    s = RedisStore(redis_client, key_prefix)
    s.record_batch([(ev(T0), FP)], now=T0)
    s.drop_notices(GID, 100)
    return s


def record(store: RedisStore, *events: ErrorEvent, now: float, lc: GroupLifecycle | None = None):
    return store.record_batch(
        [(e, FP) for e in events], now=now, lifecycle=(lambda _e: lc) if lc else None
    )


def kinds(store: RedisStore) -> list[dict]:
    g = store.load_group(GID)
    assert g is not None
    return g.notices


def state(store: RedisStore) -> str:
    g = store.load_group(GID)
    assert g is not None
    return g.state


def test_scope_strings() -> None:
    assert parse_scope("env=staging") == "env=staging"
    assert parse_scope("env") is None and parse_scope("a=b=c") is None
    (one,) = scopes_of([ev(T0), ev(T0 + 1)])
    assert "\x1fenv=prod\x1f" in one and "\x1frevision=svc-00001-abc\x1f" in one
    assert len(scopes_of([ev(T0), ev(T0, env="staging")])) == 2


def test_scoped_snooze_quiet_inside_wakes_outside(store: RedisStore) -> None:
    store.transition(GID, "snooze_for", "U1", T0 + 1, 0, scope="env=staging")
    g = store.load_group(GID)
    assert g is not None and g.state == "snoozed" and g.get("snooze_scope") == "env=staging"
    assert not g.get("snooze_until")  # a scope alone: no end
    record(store, ev(T0 + 10, env="staging"), ev(T0 + 11, env="staging"), now=T0 + 12)
    assert state(store) == "snoozed" and kinds(store) == []
    record(store, ev(T0 + 20, env="prod"), now=T0 + 21)
    assert state(store) == "open"
    (n,) = kinds(store)
    assert (n["kind"], n["why"], n["scope"]) == ("unsnoozed", "scope", "env=staging")
    g = store.load_group(GID)
    assert g is not None and not g.get("snooze_scope")


def test_scoped_snooze_by_revision(store: RedisStore) -> None:
    store.transition(GID, "snooze_count", "U1", T0 + 1, 100, scope="revision=svc-00001-abc")
    record(store, ev(T0 + 5), now=T0 + 6)
    assert state(store) == "snoozed"
    record(store, ev(T0 + 7, rev="svc-00002-xyz"), now=T0 + 8)
    assert state(store) == "open"


def test_until_escalating_wakes_at_five_times_the_rate_before(store: RedisStore) -> None:
    record(store, *[ev(T0 + 1 + i) for i in range(5)], now=T0 + 10)  # 6 in the hour before
    now = T0 + 20
    arg = escalating_arg(5, store.minute_counts(GID, now), now)
    assert arg["before"] == 6 and arg["base"] == 6
    store.transition(GID, "snooze_escalating", "U1", now, json.dumps(arg))
    record(store, *[ev(T0 + 21 + i) for i in range(29)], now=T0 + 55)
    assert state(store) == "snoozed"  # 29 since the snooze: below 5 x 6
    record(store, ev(T0 + 56), now=T0 + 57)
    assert state(store) == "open"
    (n,) = kinds(store)
    assert (n["why"], n["factor"]) == ("escalating", 5)


def test_until_escalating_only_counts_the_last_hour(store: RedisStore) -> None:
    now = T0 + 30
    store.transition(
        GID, "snooze_escalating", "U1", now, json.dumps(escalating_arg(2, [0] * 59 + [1], now))
    )
    # two an hour for three hours never reaches 2 x 1 within any hour ... until it does
    record(store, ev(T0 + 600), now=T0 + 601)
    record(store, ev(T0 + 4000 + 3600), now=T0 + 4001 + 3600)
    assert state(store) == "snoozed"
    record(store, ev(T0 + 4100 + 3600), now=T0 + 4101 + 3600)
    assert state(store) == "open"


def test_resolve_next_quiet_for_known_revisions_regresses_on_a_new_one(store: RedisStore) -> None:
    store.transition(GID, "resolve_next", "U2", T0 + 5)
    g = store.load_group(GID)
    assert g is not None and g.state == "resolved" and g.get("resolve_next") == "1"
    record(store, ev(T0 + 10), now=T0 + 11)  # the old revision, still rolling out
    assert state(store) == "resolved" and kinds(store) == []
    record(store, ev(T0 + 20, rev="svc-00002-new"), now=T0 + 21)
    assert state(store) == "open"
    (n,) = kinds(store)
    assert n["kind"] == "regression" and n["release"] == "svc-00002-new"
    g = store.load_group(GID)
    assert g is not None and not g.get("resolve_next")


def test_auto_resolve_after_quiet_then_regression(store: RedisStore) -> None:
    lc = GroupLifecycle(auto_resolve_after=3600)
    record(store, ev(T0 + 10), now=T0 + 11, lc=lc)
    assert store.due_auto_resolves(T0 + 3600, 10) == []
    assert store.due_auto_resolves(T0 + 3611, 10) == [(GID, 3600.0)]
    # a late event pushes it back
    record(store, ev(T0 + 1000), now=T0 + 1001, lc=lc)
    assert store.due_auto_resolves(T0 + 3611, 10) == []
    res = store.transition(GID, "auto_resolve", "", T0 + 3611, 3600)
    assert res.status == "noop" and state(store) == "open"  # not yet quiet long enough
    res = store.transition(GID, "auto_resolve", "", T0 + 4601, 3600)
    assert (res.status, res.state) == ("ok", "resolved")
    assert store.due_auto_resolves(T0 + 9999, 10) == []  # left the schedule
    (entry,) = [e for e in store.timeline(GID) if e["what"] == "auto_resolve"]
    assert entry["who"] == "" and entry["to"] == "resolved"
    record(store, ev(T0 + 5000), now=T0 + 5001, lc=lc)
    assert state(store) == "open"
    (n,) = kinds(store)
    assert n["kind"] == "regression" and n["auto"] == 1


def test_manual_resolve_leaves_the_auto_resolve_schedule(store: RedisStore) -> None:
    record(store, ev(T0 + 10), now=T0 + 11, lc=GroupLifecycle(auto_resolve_after=60))
    store.transition(GID, "resolve", "U1", T0 + 12)
    assert store.transition(GID, "auto_resolve", "", T0 + 100, 60).status == "noop"
    assert store.due_auto_resolves(T0 + 100, 10) == []


def test_ack_reminder_once_per_period_while_it_keeps_firing(store: RedisStore) -> None:
    lc = GroupLifecycle(ack_timeout=600)
    store.transition(GID, "acknowledge", "U7", T0 + 10)
    reminders = []
    for t in range(20, 2000, 60):  # one event a minute for half an hour
        record(store, ev(T0 + t), now=T0 + t, lc=lc)
        reminders += [n for n in kinds(store) if n["kind"] == "ack_reminder"]
        store.drop_notices(GID, 100)
    assert [r["now"] - T0 for r in reminders] == [620, 1220, 1820]
    assert {r["user"] for r in reminders} == {"U7"}
    # a new acknowledgement restarts the period
    store.transition(GID, "unacknowledge", "U7", T0 + 2000)
    store.transition(GID, "acknowledge", "U8", T0 + 2001)
    record(store, ev(T0 + 2100), now=T0 + 2100, lc=lc)
    assert not [n for n in kinds(store) if n["kind"] == "ack_reminder"]


def test_no_ack_reminder_without_ack_timeout(store: RedisStore) -> None:
    store.transition(GID, "acknowledge", "U7", T0 + 10)
    record(store, ev(T0 + 5000), now=T0 + 5000)
    assert not [n for n in kinds(store) if n["kind"] == "ack_reminder"]
