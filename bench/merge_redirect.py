"""Cost of merge rules on the ingest path: fingerprinting with and without the redirect.

usage: python bench/merge_redirect.py [--rules 1000] [--seconds 1] [REDIS_URL]
The redirect is a dict lookup per entry in a map cached for 2 s (bot.store.merges); no Redis
call per batch. Uses a throwaway key prefix on REDIS_URL (default 127.0.0.1:6379) and deletes
it. Last line: `merge_redirect plain_per_s=<n> redirected_per_s=<n> ratio=<x>`.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

from bench.fingerprint import _rate
from bot.grouping import make_fingerprinter, redirect
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent, Fingerprint
from bot.store.keys import Keys
from bot.store.merges import CachedMerges, MergeRule, MergeStore

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "logentries"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("redis_url", nargs="?", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    events = []
    for path in sorted(FIXTURES.glob("*.json")):
        ev = parse_entry(json.dumps(json.loads(path.read_text())).encode())
        if isinstance(ev, ErrorEvent):
            events.append(ev)
    plain = make_fingerprinter(lambda: None)
    client = redis.Redis.from_url(args.redis_url)
    keys = Keys(f"bench{uuid.uuid4().hex[:8]}")
    try:
        store = MergeStore(client, keys)
        pipe = client.pipeline(transaction=False)
        for i in range(args.rules):  # unrelated rules, plus one for a real group
            pipe.hset(keys.merges(), f"fp2-{i:016x}", json.dumps({"into": "fp2-ffff"}))
        pipe.execute()
        store.merge(MergeRule(plain(events[0]).id, "fp2-benchtarget"))
        cache = CachedMerges(store)

        def fp(event: ErrorEvent) -> Fingerprint:  # as the pipeline does: rules read per batch
            return redirect(plain(event), cache.get())

        assert fp(events[0]).id == "fp2-benchtarget"

        def run(f: Callable[[ErrorEvent], Fingerprint]) -> Callable[[], int]:
            def once() -> int:
                for ev in events:
                    f(ev)
                return len(events)

            return once

        a = _rate(run(plain), args.seconds)
        b = _rate(run(fp), args.seconds)
    finally:
        for key in client.scan_iter(match=keys.pattern()):
            client.delete(key)
    print(
        f"{len(events)} entries, {args.rules + 1} merge rules: fingerprint {a:,.0f}/s, "
        f"with the redirect {b:,.0f}/s"
    )
    print(f"merge_redirect plain_per_s={a:.0f} redirected_per_s={b:.0f} ratio={b / a:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
