"""Every human transition, snooze wake-ups, escalation leases, the token bucket and digest
admission, as Lua scripts on a real Redis with time passed in."""

from __future__ import annotations

import json

import pytest
import redis

from bot.models import ErrorEvent, Fingerprint
from bot.store.redis_store import DigestPolicy, RedisStore

T0 = 1_764_000_000.0
GID = "fp1-aaaa"


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> RedisStore:
    s = RedisStore(redis_client, key_prefix)
    ev = ErrorEvent(
        insert_id="1",
        timestamp=T0,
        severity="ERROR",
        service="svc",
        resource_type="cloud_run_revision",
        message="boom",
    )
    s.record_batch([(ev, Fingerprint(GID, "fp1", "Boom"))], now=T0)
    return s


# (from state, action, arg) -> (status, to state)
TABLE = [
    ("open", "acknowledge", "", "ok", "acknowledged"),
    ("acknowledged", "acknowledge", "", "noop", "acknowledged"),
    ("acknowledged", "unacknowledge", "", "ok", "open"),
    ("open", "unacknowledge", "", "invalid", "open"),
    ("open", "resolve", "", "ok", "resolved"),
    ("acknowledged", "resolve", "", "ok", "resolved"),
    ("snoozed", "resolve", "", "ok", "resolved"),
    ("resolved", "resolve", "", "noop", "resolved"),
    ("resolved", "reopen", "", "ok", "open"),
    ("open", "reopen", "", "invalid", "open"),
    ("open", "snooze_for", 3600, "ok", "snoozed"),
    ("acknowledged", "snooze_count", 10, "ok", "snoozed"),
    ("resolved", "snooze_for", 3600, "invalid", "resolved"),
    ("snoozed", "unsnooze", "", "ok", "open"),
    ("open", "unsnooze", "", "invalid", "open"),
    ("open", "assign", "U2", "ok", "open"),
    ("resolved", "assign", "U2", "ok", "resolved"),
    ("open", "frobnicate", "", "invalid", "open"),
]


def _to(store: RedisStore, state: str) -> None:
    if state == "acknowledged":
        store.transition(GID, "acknowledge", "U0", T0)
    elif state == "resolved":
        store.transition(GID, "resolve", "U0", T0)
    elif state == "snoozed":
        store.transition(GID, "snooze_count", "U0", T0, 5)


@pytest.mark.parametrize(("start", "action", "arg", "status", "end"), TABLE)
def test_every_transition(
    store: RedisStore, start: str, action: str, arg: str | int, status: str, end: str
) -> None:
    _to(store, start)
    ver = store.load_group(GID).ver  # type: ignore[union-attr]
    res = store.transition(GID, action, "U1", T0 + 10, arg)
    assert (res.status, res.state) == (status, end)
    g = store.load_group(GID)
    assert g is not None and g.state == end
    assert g.ver == ver + (1 if status == "ok" else 0)
    if status == "ok":
        last = store.timeline(GID)[-1]
        assert (last["what"], last["who"], last["from"], last["to"]) == (action, "U1", start, end)


def test_unknown_group(store: RedisStore) -> None:
    assert store.transition("fp1-nope", "acknowledge", "U1", T0).status == "not_found"


def test_snooze_for_a_time_has_a_wake_up_call(store: RedisStore) -> None:
    store.transition(GID, "acknowledge", "U1", T0)
    store.transition(GID, "snooze_for", "U1", T0 + 10, 600)
    assert store.due_at(GID) == T0  # the first post is still due: NX keeps it
    assert store.claim_due(T0, T0 + 60) == [GID]
    assert store.finish_render(GID, store.load_group(GID).ver, T0, 30, T0 + 60) == 3  # type: ignore[union-attr]
    assert store.due_at(GID) == T0 + 610  # back for the wake-up call
    assert store.transition(GID, "wake", "", T0 + 609).status == "noop"
    res = store.transition(GID, "wake", "", T0 + 610)
    assert (res.status, res.state) == ("ok", "acknowledged")  # back to where it was
    g = store.load_group(GID)
    assert g is not None and [n["kind"] for n in g.notices] == ["unsnoozed"]
    assert not g.get("snooze_until")


def test_escalation_is_sent_once_by_the_lease_holder(store: RedisStore) -> None:
    store.schedule_escalation(GID, T0 + 900)
    assert store.claim_escalations(T0 + 899, T0 + 1000) == []
    assert store.claim_escalations(T0 + 900, T0 + 1020) == [GID]
    assert store.claim_escalations(T0 + 901, T0 + 1021) == []  # leased
    notice = {"kind": "escalation", "oncall": "<@U9>", "minutes": 15, "now": T0 + 900}
    # a replica whose lease ran out and was taken over does not send
    assert store.escalate(GID, notice, now=T0 + 900, lease_until=T0 + 999, next_at=None) == "lost"
    res = store.escalate(GID, notice, now=T0 + 900, lease_until=T0 + 1020, next_at=T0 + 15300)
    assert res == "sent"
    assert store.escalation_at(GID) == T0 + 15300
    assert [n["kind"] for n in store.load_group(GID).notices] == ["escalation"]  # type: ignore[union-attr]
    store.transition(GID, "acknowledge", "U1", T0 + 1000)
    assert store.escalation_at(GID) is None  # acknowledging cancels it


def test_escalation_of_a_group_no_longer_open_is_cancelled(store: RedisStore) -> None:
    store.schedule_escalation(GID, T0)
    store.r.hset(store.keys.group(GID), "state", "resolved")
    [gid] = store.claim_escalations(T0, T0 + 60)
    assert store.escalate(gid, {}, now=T0, lease_until=T0 + 60, next_at=T0 + 99) == "cancelled"
    assert store.escalation_at(GID) is None


def test_token_bucket(store: RedisStore) -> None:
    waits = [store.take_token("C1", T0, 1.0, 3) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(1.0)
    assert store.take_token("C1", T0 + 0.5, 1.0, 3) == pytest.approx(0.5)
    assert store.take_token("C1", T0 + 1.0, 1.0, 3) == 0.0
    assert store.take_token("C2", T0, 1.0, 3) == 0.0  # per channel
    assert store.take_token("C1", T0 + 1000, 1.0, 3) == 0.0  # refills to burst, no more
    assert [store.take_token("C1", T0 + 1000, 1.0, 3) for _ in range(3)][-1] > 0
    assert store.r.ttl(store.keys.bucket("C1")) > 0


def test_digest_admission(store: RedisStore) -> None:
    p = DigestPolicy(threshold=3, window_s=60, max_size=4)
    assert store.digest_admit("C1", ["a", "b"], T0, p) == {"a": 0, "b": 0}
    assert store.digest_admit("C1", ["c", "d", "e"], T0 + 1, p) == {"c": 1, "d": 1, "e": 1}
    # idempotent: a retried admission keeps its digest
    assert store.digest_admit("C1", ["c", "f"], T0 + 2, p) == {"c": 1, "f": 1}
    assert store.digest_admit("C1", ["g"], T0 + 3, p) == {"g": 2}  # digest 1 is full
    assert store.digest_admit("C2", ["a"], T0 + 3, p) == {"a": 0}  # per channel
    assert store.digest_admit("C1", ["h"], T0 + 64, p) == {"h": 0}  # the storm is over
    assert store.claim_digests(T0 + 3, T0 + 60) == [("C1", 1), ("C1", 2)]
    d = store.load_digest("C1", 1)
    assert (d.ref, d.gids, d.ver) == ("", ("c", "d", "e", "f"), 4)
    assert store.finish_digest("C1", 1, d.ver, T0 + 3, 30, T0 + 60, "C1/1.5") == 0
    store.digest_touch("C1", 1, T0 + 4, 30)
    assert store.claim_digests(T0 + 32, T0 + 99) == []  # coalesced: due at 3 + 30
    assert store.claim_digests(T0 + 33, T0 + 99) == [("C1", 1)]
    assert store.digest_ref("C1", 1) == "C1/1.5"
    keys = list(store.r.scan_iter(match=f"{store.keys.prefix}:*"))
    assert [k for k in keys if store.r.ttl(k) < 0] == []


def test_digest_touch_after_a_human_action_is_immediate(store: RedisStore) -> None:
    p = DigestPolicy(threshold=0, window_s=60, max_size=40)
    store.digest_admit("C1", ["a"], T0, p)
    [(ch, n)] = store.claim_digests(T0, T0 + 120)
    store.finish_digest(ch, n, 1, T0, 30, T0 + 120, "C1/1.5")
    store.digest_touch(ch, n, T0 + 1, 30)
    store.digest_touch(ch, n, T0 + 2, 30, immediate=True)
    assert store.claim_digests(T0 + 2, T0 + 122) == [("C1", 1)]
    store.digest_touch(ch, n, T0 + 3, 30, immediate=True)  # leased: left to its holder
    assert store.claim_digests(T0 + 3, T0 + 123) == []
    assert store.finish_digest(ch, n, 2, T0 + 4, 30, T0 + 122) == 1  # the touch is not lost


def test_spike_notice_from_the_batch_script(store: RedisStore) -> None:
    gid = "fp1-spike"
    n = 0

    def rec(minute: int, count: int) -> None:
        nonlocal n
        items = []
        for _ in range(count):
            n += 1
            ev = ErrorEvent(
                insert_id=f"s{n}",
                timestamp=T0 + minute * 60,
                severity="ERROR",
                service="svc",
                resource_type="cloud_run_revision",
                message="x",
            )
            items.append((ev, Fingerprint(gid, "fp1", "Spiky")))
        store.record_batch(items, now=T0 + minute * 60)

    for m in range(70):
        rec(m, 1)
    rec(70, 60)  # (60 + 4) / 5 = 12.8/min vs 1/min
    g = store.load_group(gid)
    assert g is not None
    [spike] = [x for x in g.notices if x["kind"] == "spike"]
    assert spike["rate"] == pytest.approx(12.8) and spike["baseline"] == pytest.approx(1.0)
    assert json.loads(json.dumps(spike))["now"] == T0 + 4200
