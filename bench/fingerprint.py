"""Throughput of parse+fingerprint vs Drain3 on the same entries (one core).

usage: python bench/fingerprint.py [ENTRIES.jsonl] [--seconds 2] [--strategy fp1|fp2]
Prints both rates and their ratio; the last line is
`fingerprint per_s=<n> drain3_per_s=<n> ratio=<x>`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bot.fingerprint import fingerprint
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent

DEFAULT_CORPUS = str(Path(__file__).resolve().parents[2] / "shared/corpus/visible/entries.jsonl")


def _rate(fn: Callable[[], int], seconds: float, rounds: int = 5) -> float:
    """Entries per second: the median of `rounds` rounds, each running `fn` (one pass, returns
    entries done) for >= `seconds` (the median resists other load on a shared machine)."""
    warm = time.perf_counter()  # warm up for 2 s: caches, and the CPU leaving its idle clock
    while time.perf_counter() - warm < 2.0:
        fn()
    rates = []
    for _ in range(rounds):
        done, start = 0, time.perf_counter()
        while True:
            done += fn()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                rates.append(done / elapsed)
                break
    return statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--seconds", type=float, default=1.0, help="per round (5 rounds, median)")
    ap.add_argument("--strategy", default=None, help="fingerprint strategy (default: the default)")
    args = ap.parse_args()
    version = args.strategy
    with open(args.corpus, "rb") as fh:
        lines = [line for line in fh if line.strip()]

    def ours() -> int:
        for raw in lines:
            ev = parse_entry(raw)
            if isinstance(ev, ErrorEvent):
                fingerprint(ev, version=version)
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
