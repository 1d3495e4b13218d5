"""Merge rules on a real Redis: refusals, chains, moved counts, the ingest redirect."""

from __future__ import annotations

import pytest
import redis

from bot.grouping import redirect
from bot.models import ErrorEvent, Fingerprint
from bot.store.keys import Keys
from bot.store.merges import CachedMerges, MergeRefused, MergeRule, MergeStore, resolve
from bot.store.redis_store import RedisStore
from tests.store.test_record_batch import T0, ev

NOW = T0 + 60


@pytest.fixture
def stores(redis_client: redis.Redis, key_prefix: str) -> tuple[RedisStore, MergeStore]:
    store = RedisStore(redis_client, key_prefix)
    return store, MergeStore(redis_client, Keys(key_prefix))


def _record(store: RedisStore, gid: str, n: int, tag: str = "") -> None:
    fp = Fingerprint(id=gid, version="fp2", title=f"T {gid}")
    store.record_batch([(ev(f"{gid}{tag}-{i}"), fp) for i in range(n)], now=NOW)


def _count(store: RedisStore, gid: str) -> int:
    g = store.load_group(gid)
    assert g is not None
    return g.count


def test_resolve_follows_chains_and_stops_on_a_cycle() -> None:
    assert resolve({"a": "b", "b": "c"}, "a") == "c"
    assert resolve({"a": "b"}, "x") == "x"
    assert resolve({"a": "b", "b": "a"}, "a") == "b"  # never written; must not loop


def test_merge_moves_the_count_and_marks_the_source(stores) -> None:
    store, merges = stores
    # ids chosen in different shards: the rule works across hash tags
    a, b = "fp2-00000000000000aa", "fp2-00000000000000bb"
    assert store.keys.group(a).split("}")[0] != store.keys.group(b).split("}")[0]
    _record(store, a, 2)
    _record(store, b, 3)
    merges.merge(MergeRule(a, b, "U1", NOW, moved=2, link="https://x.slack.com/archives/C/p1"))
    assert _count(store, b) == 5
    g = store.load_group(a)
    assert g is not None and g.get("merged_into") == b and g.get("merged_by") == "U1"
    assert merges.sources_of(b) == [a]
    undone = merges.unmerge(a)
    assert undone is not None and undone.into == b and undone.moved == 2
    assert _count(store, b) == 3
    g = store.load_group(a)
    assert g is not None and not g.get("merged_into")
    assert merges.unmerge(a) is None


def test_refusals_say_why(stores) -> None:
    _store, merges = stores
    a, b, c = "fp2-a1", "fp2-b2", "fp2-c3"
    with pytest.raises(MergeRefused) as e:
        merges.merge(MergeRule(a, a))
    assert e.value.reason == "self"
    merges.merge(MergeRule(a, b))
    with pytest.raises(MergeRefused) as e:
        merges.merge(MergeRule(a, c))
    assert (e.value.reason, e.value.detail) == ("already", b)
    with pytest.raises(MergeRefused) as e:
        merges.merge(MergeRule(c, a))  # a is merged: merge into its final target instead
    assert (e.value.reason, e.value.detail) == ("target_merged", b)
    with pytest.raises(MergeRefused) as e:
        merges.merge(MergeRule(b, a))  # would make a cycle
    assert e.value.reason == "target_merged"


def test_chain_resolves_and_unmerge_takes_back_along_it(stores) -> None:
    store, merges = stores
    a, b, c = "fp2-0a", "fp2-0b", "fp2-0c"
    _record(store, a, 1)
    _record(store, b, 2)
    _record(store, c, 4)
    merges.merge(MergeRule(a, b, moved=1))
    merges.merge(MergeRule(b, c, moved=_count(store, b)))  # b carries a's 1 along
    assert _count(store, c) == 7
    cache = CachedMerges(merges, ttl=60)
    assert cache.target(a) == c and cache.target(b) == c and cache.target(c) == c
    assert merges.sources_of(c) == [a, b]
    merges.unmerge(a)
    assert (_count(store, b), _count(store, c)) == (2, 6)
    merges.unmerge(b)  # b's rule no longer holds a's count
    assert _count(store, c) == 4


def test_ingest_redirect_records_under_the_target(stores) -> None:
    store, merges = stores
    a, b = "fp2-1a", "fp2-1b"
    _record(store, a, 1)
    _record(store, b, 1)
    cache = CachedMerges(merges, ttl=60)

    def fingerprinter(event: ErrorEvent) -> Fingerprint:
        return Fingerprint(id=a, version="fp2", title="T a")

    def fp(event: ErrorEvent) -> Fingerprint:  # as the pipeline does: rules read per batch
        return redirect(fingerprinter(event), cache.get())

    assert fp(ev("x")).id == a
    merges.merge(MergeRule(a, b, moved=1))
    assert fp(ev("y")).id == a  # the cache is at most `ttl` stale ...
    cache.invalidate()  # ... and the replica that merged invalidates it at once
    got = fp(ev("z"))
    assert got.id == b and got.title == "T a"
    store.record_batch([(ev("z"), got)], now=NOW + 1)
    assert (_count(store, a), _count(store, b)) == (1, 3)


def test_a_merged_group_leaves_app_home_and_is_marked_in_listings(stores) -> None:
    from bot.query.blocks import group_line
    from bot.store.history import History

    store, merges = stores
    a, b = "fp2-2a", "fp2-2b"
    _record(store, a, 1)
    _record(store, b, 1)
    history = History(store)
    assert {g.id for g in history.recent_open(None)} == {a, b}
    merges.merge(MergeRule(a, b, moved=1))
    assert [g.id for g in history.recent_open(None)] == [b]
    g = store.load_group(a)
    assert g is not None and f"merged into `{b}`" in group_line(g, "en")
