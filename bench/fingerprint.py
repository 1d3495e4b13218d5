"""Throughput of parse+fingerprint vs Drain3 on the same entries (one core).

usage: python bench/fingerprint.py [ENTRIES.jsonl] [--seconds 2]
Prints both rates and their ratio; the last line is
`fingerprint per_s=<n> drain3_per_s=<n> ratio=<x>`.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

from bot.fingerprint import fingerprint
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent

DEFAULT_CORPUS = "/work/shared/corpus/visible/entries.jsonl"


def _rate(fn: Callable[[], int], seconds: float) -> float:
    """Entries per second: run `fn` (one pass, returns entries done) for >= `seconds`."""
    fn()  # warm-up pass (regex caches, imports)
    done, start = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    with open(args.corpus, "rb") as fh:
        lines = [line for line in fh if line.strip()]

    def ours() -> int:
        for raw in lines:
            ev = parse_entry(raw)
            if isinstance(ev, ErrorEvent):
                fingerprint(ev)
        return len(lines)

    texts = []
    for raw in lines:
        ev = parse_entry(raw)
        if isinstance(ev, ErrorEvent):
            texts.append(ev.message or (ev.http.url if ev.http else ""))

    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)

    def drain() -> int:
        miner = TemplateMiner(config=TemplateMinerConfig())  # fresh per pass, default settings
        for t in texts:
            miner.add_log_message(t)
        return len(texts)

    fp = _rate(ours, args.seconds)
    dr = _rate(drain, args.seconds)
    print(f"corpus: {args.corpus} ({len(lines)} entries)")
    print(f"parse+fingerprint: {fp:,.0f} entries/s (JSON parse included)")
    print(f"drain3 add_log_message: {dr:,.0f} entries/s (message text only)")
    print(f"fingerprint per_s={fp:.0f} drain3_per_s={dr:.0f} ratio={fp / dr:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
