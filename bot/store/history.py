"""Error history in Redis: per-bucket rankings and per-service tallies, written by the batch
script (record_batch.lua) and read here for `/triage top|stats|search` and App Home.

Per shard (keys in bot/store/keys.py, schema in bot/store/README.md): a ranking (ZSET gid ->
occurrences) per bucket, tallies per service and bucket, a search hash and a gid -> service
hash (one service's top walks the all-services ranking). Buckets are 5-minute ("f<n>", windows
up to 1 h), hourly ("h<n>", up to 24 h) and UTC days ("d<n>"), each kept a while after its end
(BUCKET_KEEP_S in redis_store.py).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from bot.store.keys import NSHARDS, Keys, shard_of
from bot.store.redis_store import Group, RedisStore
from bot.store.scripts import Call

WINDOWS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
FIVE_MIN = 300


@dataclass(frozen=True, slots=True)
class Ranked:
    group: Group
    count: int  # in the window
    previous: int  # in the window before it (trend)


@dataclass(frozen=True, slots=True)
class ServiceStats:
    service: str
    errors: int
    new_groups: int
    regressions: int


def buckets(window_s: int, now: float) -> list[str]:
    """Bucket names covering the window: 5-minute buckets up to 1 h, hours up to 24 h, else
    UTC days (a 7d window is today and the 6 days before it)."""
    if window_s <= 3600:
        end = int(now // FIVE_MIN)
        return [f"f{b}" for b in range(end - window_s // FIVE_MIN + 1, end + 1)]
    if window_s <= 86400:
        end = int(now // 3600)
        return [f"h{b}" for b in range(end - window_s // 3600 + 1, end + 1)]
    end = int(now // 86400)
    return [f"d{b}" for b in range(end - window_s // 86400 + 1, end + 1)]


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class History:
    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.r: redis.Redis = store.r
        self.keys: Keys = store.keys

    def _top_calls(self, names: list[str], service: str | None, n: int) -> list[Call]:
        closed, open_ = names[:-1], names[-1:]
        ttl = 600 if names[0].startswith("d") else 60  # late entries may still land in them
        k, calls = self.keys, []
        for s in range(NSHARDS):
            cache = k.top_cache(s, closed[0], closed[-1]) if closed else k.top_cache(s, "", "")
            keys = [cache, k.services(s), *(k.rank(s, b) for b in (*closed, *open_))]
            calls.append(("top", keys, [n, len(closed), ttl, service or ""]))
        return calls

    def top(
        self, now: float, window: str = "24h", service: str | None = None, n: int = 10
    ) -> list[Ranked]:
        """The n groups with the most occurrences in the window, and their count in the window
        before (trend). Each shard ranks its own groups in Redis (one script call per shard,
        pipelined), so only n per shard cross the wire."""
        secs = WINDOWS[window]
        results = self.store._run(self._top_calls(buckets(secs, now), service, n))
        scored = [
            (int(float(res[i + 1])), res[i].decode())
            for res in results
            for i in range(0, len(res), 2)
        ]
        best = heapq.nlargest(n, scored)
        if not best:
            return []
        gids = [g for _, g in best]
        groups = self.store.load_groups(gids)
        prev_names = buckets(secs, now - secs)
        pipe = self.r.pipeline(transaction=False)
        for gid in gids:
            for b in prev_names:
                pipe.zscore(self.keys.rank(shard_of(gid), b), gid)
        flat = pipe.execute()
        k = len(prev_names)
        prev_counts = [
            int(sum(float(v) for v in flat[i * k : (i + 1) * k] if v)) for i in range(len(gids))
        ]
        return [
            Ranked(g, c, p)
            for (c, _), g, p in zip(best, groups, prev_counts, strict=True)
            if g is not None
        ]

    def stats(
        self, now: float, window: str = "24h", service: str | None = None
    ) -> list[ServiceStats]:
        # Tallies are kept per clock hour and per UTC day: "1h" is the current clock hour.
        secs = max(WINDOWS[window], 3600)
        names = buckets(secs, now)
        pipe = self.r.pipeline(transaction=False)
        for s in range(NSHARDS):
            for b in names:
                pipe.hgetall(self.keys.tally(s, b))
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for res in pipe.execute():
            for k, v in res.items():
                key = k.decode()
                kind, _, svc = key.partition(":") if key[:2] in ("n:", "r:") else ("", "", key)
                if service and svc != service:
                    continue
                totals[svc][{"": 0, "n": 1, "r": 2}[kind]] += int(v)
        return sorted(
            (ServiceStats(svc, *vals) for svc, vals in totals.items()),
            key=lambda st: (-st.errors, st.service),
        )

    def revisions(self, gid: str) -> list[str]:
        """Revisions and versions that have thrown the group."""
        return self.store.revisions(gid)

    def search(self, text: str, n: int = 20) -> list[Group]:
        pattern = f"*{_glob_escape(text.lower())}*"
        found: list[str] = []
        for s in range(NSHARDS):
            for _field, gid in self.r.hscan_iter(self.keys.search(s), match=pattern, count=5000):
                found.append(gid.decode())
                if len(found) >= n * 4:
                    break
        groups = [g for g in self.store.load_groups(found) if g is not None]
        groups.sort(key=lambda g: -g.last)
        return groups[:n]

    def recent_open(self, services: Sequence[str] | None, n: int = 20) -> list[Group]:
        """Open (or acknowledged) groups, most recently seen first (App Home)."""
        pipe = self.r.pipeline(transaction=False)
        for s in range(NSHARDS):
            pipe.zrevrange(self.keys.index(s), 0, n * 3, withscores=True)
        cand = heapq.nlargest(
            n * 3, ((score, m.decode()) for res in pipe.execute() for m, score in res)
        )
        groups = [g for g in self.store.load_groups([gid for _, gid in cand]) if g is not None]
        out = [
            g
            for g in groups
            if g.state in ("open", "acknowledged")
            and not g.get("merged_into")  # its alert points at the target, which is listed
            and (services is None or g.service in services)
        ]
        return out[:n]
