"""What only a cluster checks: each Lua call touches one slot and declares every key it
writes; a batch over many shards lands on every node in one pipeline; history queries gather
from every node; a node whose script cache was flushed is handled."""

from __future__ import annotations

from typing import Any

from redis.cluster import RedisCluster
from redis.crc import key_slot

from bot.models import ErrorEvent, Fingerprint
from bot.store.history import History
from bot.store.keys import NSHARDS, shard_of
from bot.store.redis_store import RedisStore
from tests.cluster.conftest import LocalCluster

T0 = 1_764_000_000.0


class RecordingStore(RedisStore):
    """The real store, keeping the script calls it makes (names and KEYS)."""

    def __init__(self, client: Any, prefix: str) -> None:
        super().__init__(client, prefix)
        self.seen_calls: list[tuple[str, list[str]]] = []

    def _run(self, calls: list[tuple[str, list[str], list[Any]]], extra: Any = ()) -> list[Any]:
        self.seen_calls += [(name, keys) for name, keys, _ in calls]
        return super()._run(calls, extra)


def _ev(i: int, service: str, ts: float) -> ErrorEvent:
    return ErrorEvent(
        insert_id=f"id-{i}",
        timestamp=ts,
        severity="ERROR",
        service=service,
        resource_type="cloud_run_revision",
        revision=f"{service}-00001",
        message=f"timeout calling {service} backend",
    )


def _fp(n: int) -> Fingerprint:
    return Fingerprint(id=f"fp1-{n:04x}", version="fp1", title=f"Timeout number {n}", frames=())


def _batch(n_groups: int, per_group: int) -> list[tuple[ErrorEvent, Fingerprint]]:
    items = []
    for g in range(n_groups):
        for j in range(per_group):
            # spread over two hours and several 5-minute buckets
            ts = T0 - 3600 + j * 900 + g
            items.append((_ev(g * 1000 + j, f"svc-{g % 3}", ts), _fp(g)))
    return items


def test_every_script_call_touches_one_slot_and_declares_what_it_writes(
    redis_client: RedisCluster, key_prefix: str
) -> None:
    store = RecordingStore(redis_client, key_prefix)
    items = _batch(40, 6)
    result = store.record_batch(items, now=T0)
    assert sum(d.added for d in result.deltas) == len(items)
    assert len({shard_of(fp.id) for _, fp in items}) > 8  # many shards, so every node
    declared: set[str] = set()
    for name, keys in store.seen_calls:
        assert name == "record_batch"
        assert len({key_slot(k.encode()) for k in keys}) == 1, keys
        declared.update(keys)
    written = {k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}:*", count=1000)}
    assert written and written <= declared, sorted(written - declared)


def test_a_batch_over_all_shards_reaches_every_node(
    redis_cluster: LocalCluster, redis_client: RedisCluster, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    store.record_batch(_batch(64, 2), now=T0)
    per_node = {}
    for port in redis_cluster.ports:
        node = redis_client.get_node("127.0.0.1", port)
        assert node is not None
        keys = redis_client.scan_iter(match=f"{key_prefix}:*", target_nodes=node)
        per_node[port] = sum(1 for _ in keys)
    assert all(n > 0 for n in per_node.values()), per_node
    claimed = store.claim_due(T0 + 1, T0 + 120, limit=100)
    assert len(claimed) == 64
    assert store.claim_due(T0 + 1, T0 + 120, limit=100) == []  # leased


def test_history_queries_gather_from_every_node(
    redis_client: RedisCluster, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    store.record_batch(_batch(30, 4), now=T0)
    store.record_batch([(_ev(99_000 + j, "svc-0", T0 - 10), _fp(7)) for j in range(20)], now=T0)
    history = History(store)
    top = history.top(T0, "24h", n=5)
    assert top[0].group.id == _fp(7).id and top[0].count == 24
    stats = {s.service: s for s in history.stats(T0, "24h")}
    assert sum(s.errors for s in stats.values()) == 30 * 4 + 20
    assert sum(s.new_groups for s in stats.values()) == 30
    found = history.search("timeout number 7", n=50)
    assert _fp(7).id in [g.id for g in found]
    assert len(history.recent_open(None, n=NSHARDS)) == NSHARDS


def test_a_node_with_an_empty_script_cache(
    redis_cluster: LocalCluster, redis_client: RedisCluster, key_prefix: str
) -> None:
    """SCRIPT FLUSH on one node only (as after that node restarted): NOSCRIPT from it is
    reloaded and retried, the other nodes' calls are not repeated."""
    store = RedisStore(redis_client, key_prefix)
    store.record_batch(_batch(32, 1), now=T0)
    node = redis_client.get_node("127.0.0.1", redis_cluster.ports[1])
    redis_client.execute_command("SCRIPT FLUSH", target_nodes=node)
    more = [(_ev(50_000 + g, "svc-1", T0), _fp(g)) for g in range(32)]
    result = store.record_batch(more + more, now=T0 + 1)
    assert sum(d.added for d in result.deltas) == 32
    assert result.duplicates == 32
    assert all(d.count == 2 for d in result.deltas)
