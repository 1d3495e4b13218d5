"""History queries at scale: 50,000 groups and 5 million occurrences recorded through the real
batch script into a dedicated redis-server, then p95 latency of top/show/search/stats for one
service and for all services, and Redis memory per group.

    .venv/bin/python bench/history.py [--groups 50000] [--occurrences 5000000]

Last line: `history top_p95_ms=<n> show_p95_ms=<n> search_p95_ms=<n> stats_p95_ms=<n> bytes_per_group=<n> calls_per_group=<n> load_s=<n>`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage_sandbox.redis_server import redis_server

from bot.models import ErrorEvent, Fingerprint
from bot.store.history import History
from bot.store.redis_store import RedisStore

BATCH = 2000
SERVICES = [f"svc-{i:02d}" for i in range(40)]
WORDS = [
    "timeout",
    "refused",
    "reset",
    "invalid",
    "missing",
    "denied",
    "overflow",
    "null",
    "undefined",
    "deadline",
]


def _load(
    url: str, fps: list, picks: list[int], offset: int, total: int, now: float, span: float
) -> None:  # type: ignore[type-arg]
    """Record `picks` (group indexes) in time order through the real batch script."""
    store = RedisStore(redis.Redis.from_url(url), "tb")
    for start in range(0, len(picks), BATCH):
        items = []
        for j, gi in enumerate(picks[start : start + BATCH]):
            svc, fp = fps[gi]
            k = offset + start + j
            ev = ErrorEvent(
                insert_id=f"i{k}",
                timestamp=now - span + span * k / total,
                severity="ERROR",
                service=svc,
                resource_type="cloud_run_revision",
                revision=f"{svc}-0001",
                message=fp.title,
            )
            items.append((ev, fp))
        store.record_batch(items, now=now)


def _inner_calls(r: redis.Redis) -> int:
    """Commands run so far, not counting the script calls themselves nor INFO: what the
    scripts' redis.call()s cost (Redis counts each in its command's stats)."""
    stats = r.info("commandstats")
    skip = {"cmdstat_evalsha", "cmdstat_eval", "cmdstat_info", "cmdstat_script"}
    return sum(int(v["calls"]) for k, v in stats.items() if k not in skip)


def _redis_cpu(r: redis.Redis) -> float:
    cpu = r.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def _memory_by_kind(r: redis.Redis) -> dict[str, int]:
    """Bytes per key kind (the part of the name after the hash tag, ids and buckets dropped)."""
    out: dict[str, int] = {}
    keys = list(r.scan_iter(count=5000))
    for i in range(0, len(keys), 5000):
        part = keys[i : i + 5000]
        pipe = r.pipeline(transaction=False)
        for k in part:
            pipe.memory_usage(k, samples=0)
        for k, n in zip(part, pipe.execute(), strict=True):
            rest = k.decode().split("}", 1)[-1]
            kind = ":".join(x for x in rest.split(":")[1:3] if not x.startswith(("fp1-", "svc-")))
            kind = "".join(c for c in kind if not c.isdigit()).rstrip(":")
            out[kind] = out.get(kind, 0) + (n or 0)
    return out


def p95(samples: list[float]) -> float:
    s = sorted(samples)
    return s[int(len(s) * 0.95) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=50_000)
    ap.add_argument("--occurrences", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    with redis_server() as url:
        r = redis.Redis.from_url(url)
        store = RedisStore(r, "tb")
        rng = random.Random(1)
        now = time.time()
        span = 7 * 86400
        fps = []
        for i in range(args.groups):
            svc = SERVICES[i % len(SERVICES)]
            title = f"{rng.choice(WORDS).title()}Error: {rng.choice(WORDS)} {rng.choice(WORDS)} in handler{i}"
            fps.append(
                (
                    svc,
                    Fingerprint(
                        id=f"fp1-{i:016x}",
                        version="fp1",
                        title=title,
                        frames=(f"app/h{i}.py in f",),
                    ),
                )
            )
        weights = [1 / (i + 1) ** 0.8 for i in range(args.groups)]
        mem0 = int(r.info("memory")["used_memory"])
        calls0 = _inner_calls(r)
        cpu0 = _redis_cpu(r)
        t0 = time.perf_counter()
        # every group occurs at least once; the rest follows a Zipf-like law over 7 days
        picks = list(range(args.groups)) + rng.choices(
            range(args.groups), weights, k=args.occurrences - args.groups
        )
        rng.shuffle(picks)
        procs = 2  # the loaders build Lua payloads in Python: two processes, as two replicas would
        chunk = (len(picks) + procs - 1) // procs
        ctx = mp.get_context("fork")
        workers = [
            ctx.Process(
                target=_load,
                args=(
                    url,
                    fps,
                    picks[i * chunk : (i + 1) * chunk],
                    i * chunk,
                    len(picks),
                    now,
                    span,
                ),
            )
            for i in range(procs)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        written = len(picks)
        load_s = time.perf_counter() - t0
        mem = int(r.info("memory")["used_memory"]) - mem0
        calls = _inner_calls(r) - calls0
        redis_cpu = _redis_cpu(r) - cpu0
        distinct = sum(
            len(set(part[b : b + BATCH]))
            for i in range(procs)
            for part in [picks[i * chunk : (i + 1) * chunk]]
            for b in range(0, len(part), BATCH)
        )
        calls_per_group = calls / distinct
        kinds = _memory_by_kind(r)
        seen = kinds.get("seen", 0)
        print(
            f"loaded {written:,} occurrences into {args.groups:,} groups in {load_s:.1f}s ({written / load_s:,.0f}/s)"
        )
        print(f"redis memory {mem / 1e6:,.0f} MB; insertId dedup sets {seen / 1e6:,.0f} MB")
        print(f"redis-server CPU while loading: {redis_cpu:.1f}s of {load_s:.1f}s")
        hist = History(store)
        gids = [fp.id for _, fp in fps]
        results: dict[str, list[float]] = {k: [] for k in ("top", "show", "search", "stats")}
        for i in range(args.runs):
            svc = SERVICES[i % len(SERVICES)] if i % 2 else None
            window = ("1h", "24h", "7d")[i % 3]
            t = time.perf_counter()
            hist.top(now, window, svc)
            results["top"].append(time.perf_counter() - t)
            t = time.perf_counter()
            gid = gids[rng.randrange(len(gids))]
            store.load_group(gid)
            store.hour_counts(gid, now, 24)
            store.timeline(gid)
            store.revisions(gid)
            results["show"].append(time.perf_counter() - t)
            t = time.perf_counter()
            hist.search(rng.choice(WORDS) + f" {rng.choice(WORDS)} in handler{rng.randrange(1000)}")
            results["search"].append(time.perf_counter() - t)
            t = time.perf_counter()
            hist.stats(now, window, svc)
            results["stats"].append(time.perf_counter() - t)
        for k, v in results.items():
            print(
                f"{k:7s} p95 {p95(v):7.1f} ms  (median {sorted(v)[len(v) // 2] * 1000:.1f} ms, {len(v)} runs, services: one and all, windows 1h/24h/7d)"
            )
        # runs 0-2 are the first of each window: they build the closed buckets' union (cached)
        cold = ", ".join(
            f"{w} {v * 1000:.0f} ms"
            for w, v in zip(("1h", "24h", "7d"), results["top"][:3], strict=True)
        )
        print(f"top, first query of each window (cache built): {cold}")
        per_group = mem / args.groups
        per_group_ex = (mem - seen) / args.groups
        print(f"bytes per group: {per_group:,.0f} with dedup sets, {per_group_ex:,.0f} without")
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {kind:12s} {n / args.groups:8,.0f} bytes per group")
        print(f"redis calls per distinct group in a batch: {calls_per_group:.1f}")
        print(
            f"history top_p95_ms={p95(results['top']):.1f} show_p95_ms={p95(results['show']):.1f} "
            f"search_p95_ms={p95(results['search']):.1f} stats_p95_ms={p95(results['stats']):.1f} "
            f"bytes_per_group={per_group:.0f} calls_per_group={calls_per_group:.1f} "
            f"load_s={load_s:.0f}"
        )


if __name__ == "__main__":
    main()
