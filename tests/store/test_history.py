"""History rankings on a real Redis: top over closed (cached) and open buckets, for all
services and for one, against each group's count read bucket by bucket."""

from __future__ import annotations

import random

import pytest
import redis

from bot.models import ErrorEvent, Fingerprint
from bot.store.history import WINDOWS, History, buckets
from bot.store.keys import shard_of
from bot.store.redis_store import RedisStore

T0 = 1_764_000_000.0


def _item(i: int, gid: str, service: str, ts: float) -> tuple[ErrorEvent, Fingerprint]:
    return (
        ErrorEvent(f"i{i}", ts, "ERROR", service, "cloud_run_revision", message="x"),
        Fingerprint(id=gid, version="fp1", title=f"t {gid}", frames=()),
    )


@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_top_is_the_highest_counts_in_the_window_for_all_services_and_one(
    redis_client: redis.Redis, key_prefix: str, window: str
) -> None:
    rng = random.Random(window)
    now = T0 - T0 % 86400 + 5 * 3600 + 1234  # early in a UTC day: 7d spans closed days too
    span = WINDOWS[window]
    store = RedisStore(redis_client, key_prefix)
    svc_of: dict[str, str] = {}
    items = []
    for i in range(1500):
        g = rng.randrange(60)
        gid = f"fp1-{g:04x}"
        svc_of[gid] = "abc"[g % 3]
        # most inside the window (closed buckets and the open one), some in the one before
        items.append(_item(i, gid, svc_of[gid], now - rng.random() * span * 1.9))
    # two groups of service b tied at the top, over a closed bucket and the open one
    for j, ts in enumerate([now - span / 2, now - 1] * 200):
        for gid in ("fp1-tie1", "fp1-tie2"):
            svc_of[gid] = "b"
            items.append(_item(10_000 + 2 * j + (gid == "fp1-tie2"), gid, "b", ts))
    store.record_batch(items, now=now)
    hist = History(store)
    for service in (None, "b", "c"):
        expected = _bucket_counts(hist, now, window, svc_of, service)
        got = hist.top(now, window, service, n=8)
        assert [(r.group.id, r.count) for r in got] == expected[:8], (window, service)
    [first] = hist.top(now, window, "b", n=1)
    assert (first.group.id, first.count) == ("fp1-tie2", 400)  # a tie: the greater gid first


def _bucket_counts(
    hist: History, now: float, window: str, svc_of: dict[str, str], service: str | None
) -> list[tuple[str, int]]:
    """(gid, count) of every group over the window's buckets, read bucket by bucket (ZSCORE),
    highest first, ties by the greater gid."""
    names = buckets(WINDOWS[window], now)
    gids = [gid for gid, svc in svc_of.items() if not service or svc == service]
    pipe = hist.r.pipeline(transaction=False)
    for gid in gids:
        for b in names:
            pipe.zscore(hist.keys.rank(shard_of(gid), b), gid)
    scores = pipe.execute()
    k = len(names)
    out = []
    for i, gid in enumerate(gids):
        n = sum(int(v or 0) for v in scores[i * k : (i + 1) * k])
        if n:
            out.append((gid, n))
    return sorted(out, key=lambda x: (-x[1], [-ord(c) for c in x[0]]))


@pytest.mark.parametrize("window", ["24h", "7d"])
def test_top_reads_a_large_open_bucket_only_as_far_as_needed_and_stays_exact(
    redis_client: redis.Redis, key_prefix: str, window: str
) -> None:
    """Thousands of groups in the open bucket (a 7d window's is today): the threshold read
    stops early, and the answer is still the exact top, for all services and for one."""
    rng = random.Random(f"big-{window}")
    now = T0 - T0 % 86400 + 20 * 3600 + 99  # late in a UTC day: today holds most groups
    span = WINDOWS[window]
    store = RedisStore(redis_client, key_prefix)
    svc_of: dict[str, str] = {}
    weights = [1 / (g + 1) ** 0.8 for g in range(8000)]
    items = []
    picks = list(range(8000)) + rng.choices(range(8000), weights, k=22_000)
    for i, g in enumerate(picks):
        gid = f"fp1-{g:05x}"
        svc_of[gid] = "abcd"[g % 4]
        items.append(_item(i, gid, svc_of[gid], now - rng.random() * span))
    for start in range(0, len(items), 5000):
        store.record_batch(items[start : start + 5000], now=now)
    hist = History(store)
    for service in (None, "c"):
        expected = _bucket_counts(hist, now, window, svc_of, service)
        got = hist.top(now, window, service, n=10)
        assert [(r.group.id, r.count) for r in got] == expected[:10], (window, service)


def test_top_finds_a_group_that_leads_neither_set_but_leads_their_sum(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    """In one shard: ten groups with 100 in the closed hours; X with 99 there and 5 in the
    open hour, under 300 groups with 6 each in the open hour. X (104) is first, although it
    is neither among the closed hours' top ten nor in the open hour's first page."""
    now = T0 - T0 % 3600 + 1800
    gids = [f"fp1-{i:06x}" for i in range(20_000) if shard_of(f"fp1-{i:06x}") == 3][:312]
    leaders, x, fillers = gids[:10], gids[10], gids[11:311]
    store = RedisStore(redis_client, key_prefix)
    items, i = [], 0
    for gid, closed, opened in (
        [(g, 100, 0) for g in leaders] + [(x, 99, 5)] + [(g, 0, 6) for g in fillers]
    ):
        for ts in [now - 5 * 3600] * closed + [now - 60] * opened:
            items.append(_item(i, gid, "a", ts))
            i += 1
    store.record_batch(items, now=now)
    got = History(store).top(now, "24h", None, n=3)
    assert (got[0].group.id, got[0].count) == (x, 104)
