"""The batch script on a real Redis: dedup, counts, new groups, regressions, snooze."""

from __future__ import annotations

import redis

from bot.models import ErrorEvent, Fingerprint, Rejected
from bot.store.keys import Keys, shard_of
from bot.store.redis_store import RedisStore, Retention

T0 = 1_764_000_000.0


def ev(insert_id: str, ts: float = T0, revision: str = "svc-00001") -> ErrorEvent:
    return ErrorEvent(
        insert_id=insert_id,
        timestamp=ts,
        severity="ERROR",
        service="svc",
        resource_type="cloud_run_revision",
        revision=revision,
        message=f"boom {insert_id}",
    )


def fp(gid: str) -> Fingerprint:
    return Fingerprint(id=gid, version="fp1", title=f"Boom in {gid}", frames=("a.py in f",))


def test_duplicates_within_and_across_batches_count_once(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    a, b = fp("fp1-aaaa"), fp("fp1-bbbb")
    r1 = store.record_batch([(ev("1"), a), (ev("1"), a), (ev("2"), a), (ev("3"), b)], now=T0)
    assert r1.duplicates == 1
    assert {d.id: (d.new, d.count) for d in r1.deltas} == {
        "fp1-aaaa": (True, 2),
        "fp1-bbbb": (True, 1),
    }
    r2 = store.record_batch([(ev("1"), a), (ev("3"), b), (ev("4"), b)], now=T0 + 5)
    assert r2.duplicates == 2
    assert {d.id: (d.new, d.count, d.added) for d in r2.deltas} == {"fp1-bbbb": (False, 2, 1)}
    g = store.load_group("fp1-aaaa")
    assert g is not None and g.count == 2 and g.state == "open" and g.title == "Boom in fp1-aaaa"
    assert g.frames == ("a.py in f",)
    assert store.minute_counts("fp1-bbbb", T0, minutes=2) == [0, 2]


def test_every_key_has_a_ttl(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisStore(redis_client, key_prefix)
    store.record_batch([(ev("1"), fp("fp1-aaaa"))], [Rejected("not JSON", "{")], now=T0)
    store.transition("fp1-aaaa", "acknowledge", "U1", T0)
    keys = list(redis_client.scan_iter(match=f"{key_prefix}:*"))
    assert keys
    no_ttl = [k for k in keys if redis_client.ttl(k) < 0]
    assert no_ttl == []


def test_rejected_entries_are_dead_lettered_and_counted(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    r = store.record_batch([], [Rejected("not JSON: Expecting value", "xx{")], now=T0)
    assert r.dead_lettered == 1
    assert store.dead_letters()[0]["reason"].startswith("not JSON")
    assert store.counters()["dead_lettered"] == 1


def test_resolved_group_that_recurs_regresses(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisStore(redis_client, key_prefix)
    a = fp("fp1-aaaa")
    store.record_batch([(ev("1"), a)], now=T0)
    assert store.transition("fp1-aaaa", "resolve", "U7", T0 + 10).state == "resolved"
    r = store.record_batch([(ev("2", T0 + 60), a)], now=T0 + 60)
    assert r.deltas[0].regressed and r.deltas[0].state == "open"
    g = store.load_group("fp1-aaaa")
    assert g is not None and g.notices[0]["kind"] == "regression" and g.notices[0]["by"] == "U7"


def test_snooze_for_n_occurrences_counts_but_does_not_notify(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    a = fp("fp1-aaaa")
    store.record_batch([(ev("1"), a)], now=T0)
    store.transition("fp1-aaaa", "acknowledge", "U1", T0)
    assert store.transition("fp1-aaaa", "snooze_count", "U1", T0, 3).state == "snoozed"
    r = store.record_batch([(ev("2"), a), (ev("3"), a)], now=T0 + 1)
    assert (r.deltas[0].state, r.deltas[0].notify, r.deltas[0].count) == ("snoozed", False, 3)
    r = store.record_batch([(ev("4"), a)], now=T0 + 2)
    assert (r.deltas[0].state, r.deltas[0].notify) == ("acknowledged", True)


def test_snooze_for_a_time_expires_on_next_occurrence(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    a = fp("fp1-aaaa")
    store.record_batch([(ev("1"), a)], now=T0)
    store.transition("fp1-aaaa", "snooze_for", "U1", T0, 3600)
    assert store.record_batch([(ev("2"), a)], now=T0 + 3599).deltas[0].state == "snoozed"
    assert store.record_batch([(ev("3"), a)], now=T0 + 3601).deltas[0].state == "open"


def test_noscript_after_script_flush_is_handled(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisStore(redis_client, key_prefix)
    store.record_batch([(ev("1"), fp("fp1-aaaa"))], now=T0)
    redis_client.script_flush()
    r = store.record_batch([(ev("2"), fp("fp1-aaaa"))], now=T0)
    assert r.deltas[0].count == 2


def test_outbox_claim_lease_and_coalescing(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisStore(redis_client, key_prefix)
    a = fp("fp1-aaaa")
    store.record_batch([(ev("1"), a)], now=T0)
    assert store.claim_due(T0, T0 + 60) == ["fp1-aaaa"]
    assert store.claim_due(T0 + 1, T0 + 61) == []  # leased: no second claimer
    g = store.load_group("fp1-aaaa")
    assert g is not None
    store.record_batch([(ev("2"), a)], now=T0 + 2)  # changes while the lease is held
    assert store.finish_render("fp1-aaaa", g.ver, T0 + 3, 30, T0 + 60) == 1
    assert store.claim_due(T0 + 10, T0 + 70) == []  # coalesced: due after update_interval
    assert store.claim_due(T0 + 33, T0 + 93) == ["fp1-aaaa"]


def test_minute_and_hour_counts_in_any_order_within_their_retention(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    """Counts kept in the group hash: late entries land in their own minute/hour, entries
    older than the retention only in the total, a gap longer than it starts afresh."""
    store = RedisStore(redis_client, key_prefix)
    g = fp("fp1-cnt")
    now = T0 - T0 % 3600 + 1800  # the middle of an hour
    times = [now, now - 60, now - 60, now - 300, now - 7200 - 60, now - 3 * 3600]
    store.record_batch([(ev(f"a{i}", t), g) for i, t in enumerate(times[:2])], now=now)
    store.record_batch([(ev(f"b{i}", t), g) for i, t in enumerate(times[2:])], now=now)
    minutes = store.minute_counts(g.id, now, 60)
    assert minutes[-1] == 1 and minutes[-2] == 2 and minutes[-6] == 1 and sum(minutes) == 4
    assert store.minute_counts(g.id, now, 122)[0] == 0  # 2 h 1 min ago: past the retention
    hours = store.hour_counts(g.id, now, 24)
    assert hours[-1] == 4 and hours[-3] == 1 and hours[-4] == 1 and sum(hours) == 6
    group = store.load_group(g.id)
    assert group is not None and group.count == 6
    # a later batch: the old minutes slide out of the last hour
    later = now + 5 * 3600
    store.record_batch([(ev("c1", later), g)], now=later)
    assert store.minute_counts(g.id, later, 60) == [0] * 59 + [1]
    assert store.hour_counts(g.id, later, 24)[-1] == 1 and sum(store.hour_counts(g.id, later)) == 7
    # an entry stamped ahead (a skewed clock) shows in its own minute, once that has come
    store.record_batch([(ev("c2", later + 600), g)], now=later)
    assert sum(store.minute_counts(g.id, later, 60)) == 1
    assert store.minute_counts(g.id, later + 600, 60)[-1] == 1


def test_history_buckets_expire_after_their_end_not_their_last_write(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    """A late entry neither keeps an old bucket alive nor creates one no window reads."""
    store = RedisStore(redis_client, key_prefix, Retention(hours_s=2 * 86400))
    g = fp("fp1-late")
    now = T0 - T0 % 3600 + 600
    hour = int(now // 3600)
    late = now - 3 * 3600  # its hourly bucket ended 2 h 10 min ago
    ancient = now - 3 * 86400  # past the hourly retention, within the daily one
    store.record_batch([(ev("x1", late), g), (ev("x2", ancient), g)], now=now)
    k, s = Keys(key_prefix), shard_of(g.id)
    ttl = redis_client.ttl(k.rank(s, f"h{hour - 3}"))
    assert 2 * 86400 - 2 * 3600 - 700 < ttl <= 2 * 86400 - 2 * 3600 - 600 + 1
    assert not redis_client.exists(k.rank(s, f"h{int(ancient // 3600)}"))
    assert redis_client.zscore(k.rank(s, f"d{int(ancient // 86400)}"), g.id) == 1
    assert not redis_client.exists(k.rank(s, f"f{int(late // 300)}"))  # 5-minute: kept 2 h 5 min
    assert store.hour_counts(g.id, now, 24)[-4] == 1
