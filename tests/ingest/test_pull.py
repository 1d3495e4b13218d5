"""The Pull loop on the emulator and the stand-in: ack only after Redis committed the batch."""

from __future__ import annotations

import json
import random
import time

import redis
from triage_sandbox.traffic import BUGS, entry

from bot.fingerprint import fingerprint
from bot.ingest.logentry import parse_entry
from bot.ingest.pull import Pipeline, Puller
from bot.models import ErrorEvent, Fingerprint
from bot.store.redis_store import RedisStore


def _payloads(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [json.dumps(entry(BUGS[i % 3], rng, time.time())).encode() for i in range(n)]


def _counted(store: RedisStore) -> int:
    gids = [m.decode() for s in range(16) for m in store.r.zrange(store.keys.index(s), 0, -1)]
    return sum(g.count for g in store.load_groups(gids) if g is not None)


def _drain(puller: Puller, seconds: float, until: int | None = None) -> int:
    """Pull for up to `seconds`, or until `until` messages were acked."""
    acked, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline and (until is None or acked < until):
        acked += puller.pull_once()
    return acked


def test_redis_error_means_no_ack_and_redelivery_counts_once(
    pubsub_backend, redis_client, key_prefix
) -> None:
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s"), ack_deadline=2
    )
    pubsub_backend.publish(topic, _payloads(30))
    dead = RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), key_prefix)
    puller = Puller(pubsub_backend.subscriber, sub, Pipeline(dead), threads=1, pull_timeout=2.0)
    try:
        puller.pull_once()
        raise AssertionError("a Redis error must propagate (the batch is not acked)")
    except redis.ConnectionError:
        pass
    live = RedisStore(redis_client, key_prefix)
    puller.pipeline = Pipeline(live)
    assert _drain(puller, 10, until=30) >= 30  # redelivered after the 2 s deadline, then acked
    assert _counted(live) == 30
    assert _drain(puller, 2.5) == 0  # nothing comes back once acked


def test_bad_entries_are_acked_and_dead_lettered(pubsub_backend, redis_client, key_prefix) -> None:
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s")
    )
    pubsub_backend.publish(topic, [b"not json", b"[1,2]", b'{"no":"insertId"}', *_payloads(2)])
    store = RedisStore(redis_client, key_prefix)
    puller = Puller(pubsub_backend.subscriber, sub, Pipeline(store), threads=1, pull_timeout=2.0)
    assert _drain(puller, 6, until=5) == 5
    reasons = sorted(d["reason"] for d in store.dead_letters())
    assert len(reasons) == 3 and all(reasons)
    assert _counted(store) == 2
    assert _drain(puller, 2.5) == 0


def test_a_slow_batch_is_extended_not_redelivered(pubsub_backend, redis_client, key_prefix) -> None:
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s"), ack_deadline=10
    )
    pubsub_backend.publish(topic, _payloads(3))
    calls: list[str] = []

    def slow(ev: ErrorEvent) -> Fingerprint:
        calls.append(ev.insert_id)
        if len(calls) == 1:
            time.sleep(12)  # longer than the 10 s ack deadline
        return fingerprint(ev)

    store = RedisStore(redis_client, key_prefix)
    puller = Puller(
        pubsub_backend.subscriber, sub, Pipeline(store, slow), threads=1, pull_timeout=2.0
    )
    assert _drain(puller, 20, until=3) == 3
    assert len(calls) == 3  # each entry fingerprinted once: no redelivery while in flight
    assert _counted(store) == 3


def test_a_failed_batch_is_nacked_so_recovery_does_not_wait_out_the_deadline(
    pubsub_backend, redis_client, key_prefix
) -> None:
    """A 60 s ack deadline: redelivered within seconds of Redis coming back, not after 60 s."""
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s"), ack_deadline=60
    )
    pubsub_backend.publish(topic, _payloads(20))
    dead = RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), key_prefix)
    puller = Puller(pubsub_backend.subscriber, sub, Pipeline(dead), threads=1, pull_timeout=2.0)
    try:
        puller.pull_once()
        raise AssertionError("a Redis error must propagate (the batch is not acked)")
    except redis.ConnectionError:
        pass
    live = RedisStore(redis_client, key_prefix)
    puller.pipeline = Pipeline(live)
    assert _drain(puller, 8, until=20) >= 20
    assert _counted(live) == 20


def test_redis_down_is_one_log_line_and_a_capped_backoff(
    pubsub_backend, redis_client, key_prefix, caplog
) -> None:
    """A wrong REDIS_URL: one WARNING line naming the problem, no traceback per batch, and the
    retry delay stays short (capped) so recovery is quick once Redis answers."""
    import logging

    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s")
    )
    pubsub_backend.publish(topic, _payloads(5))
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(port=1, socket_connect_timeout=0.1, retry=Retry(NoBackoff(), 0))
    dead = RedisStore(client, key_prefix)
    puller = Puller(pubsub_backend.subscriber, sub, Pipeline(dead), threads=1, pull_timeout=1.0)
    with caplog.at_level(logging.DEBUG, logger="bot.ingest.pull"):
        puller.start()
        deadline = time.monotonic() + 15
        while puller.failures < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        puller.stop()
    assert puller.failures >= 4
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) == 1 and loud[0].exc_info is None, [r.getMessage() for r in loud]
    assert "REDIS_URL" in loud[0].getMessage()
    assert max(puller.delays) <= 5.0


def test_stop_waits_for_an_in_flight_batch_not_for_a_waiting_pull(
    pubsub_backend, redis_client, key_prefix
) -> None:
    """SIGTERM: a batch being recorded is finished and acked; a puller blocked in a Pull
    (holding no messages) does not hold the shutdown up for its pull timeout."""
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("t"), pubsub_backend.unique_name("s")
    )
    recording = []

    def slow(ev: ErrorEvent) -> Fingerprint:
        recording.append(time.monotonic())
        time.sleep(1.5)
        return fingerprint(ev)

    store = RedisStore(redis_client, key_prefix)
    puller = Puller(
        pubsub_backend.subscriber, sub, Pipeline(store, slow), threads=2, pull_timeout=10.0
    )
    puller.start()
    time.sleep(0.5)  # both pullers wait in a Pull with a 10 s timeout
    started = time.monotonic()
    puller.stop()
    assert time.monotonic() - started < 1.0  # nothing in flight: no 10 s wait

    puller = Puller(
        pubsub_backend.subscriber, sub, Pipeline(store, slow), threads=1, pull_timeout=10.0
    )
    puller.start()
    pubsub_backend.publish(topic, _payloads(1))
    deadline = time.monotonic() + 15
    while not recording and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recording, "the entry was never pulled"
    puller.stop()  # returns once the batch is recorded and acked
    assert _counted(store) == 1
    assert time.monotonic() - recording[0] >= 1.4


def test_redis_down_while_reading_merge_rules_fails_the_batch_not_its_entries(
    redis_client, key_prefix
) -> None:
    """The merge rules are read from Redis: when that fails, the batch fails (it is nacked and
    redelivered), and no entry is taken for a bad one (dead-lettered and acked: lost)."""
    store = RedisStore(redis_client, key_prefix)

    def rules_unreachable() -> dict[str, str]:
        raise redis.ConnectionError("Connection refused")

    pipeline = Pipeline(store, merges=rules_unreachable)
    try:
        pipeline.process(_payloads(5))
        raise AssertionError("a Redis error must propagate (the batch is not acked)")
    except redis.ConnectionError:
        pass
    assert store.dead_letters() == []
    assert _counted(store) == 0
    # with the rules readable, the same batch is recorded, under the merge target
    target = "fp2-00000000000000ff"
    (payload,) = _payloads(1)
    parsed = parse_entry(payload)
    assert isinstance(parsed, ErrorEvent)
    result = Pipeline(store, merges=lambda: {fingerprint(parsed).id: target}).process([payload])
    assert [d.id for d in result.deltas] == [target]
