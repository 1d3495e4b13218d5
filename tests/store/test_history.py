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
    out = []
    for gid, svc in svc_of.items():
        if service and svc != service:
            continue
        n = sum(int(hist.r.zscore(hist.keys.rank(shard_of(gid), b), gid) or 0) for b in names)
        if n:
            out.append((gid, n))
    return sorted(out, key=lambda x: (-x[1], [-ord(c) for c in x[0]]))
