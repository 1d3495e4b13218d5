"""What /metrics costs the hot path: the calls the pipeline makes per batch (five counter
increments), the puller's one histogram observation per batch, and the sender's labelled
counter per Slack call, with prometheus_client (bot/metrics.py).

    .venv/bin/python bench/metrics.py

Last line: `metrics per_batch_ns=<n> per_entry_ns_at_100=<n> per_entry_ns_at_500=<n>
share_of_entry=<x>`, the share against the ~25 us an entry costs the pipeline (README).
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.metrics import Metrics

N = 100_000
ENTRY_NS = 25_000.0  # per entry through the pipeline (README: 37-42k entries/s)


def ns_per_call(stmt: str, metrics: Metrics, number: int = N) -> float:
    best = min(timeit.repeat(stmt, globals={"m": metrics}, number=number, repeat=5))
    return best / number * 1e9


def main() -> None:
    m = Metrics()
    inc = ns_per_call("m.entries_in.inc(100)", m)
    observe = ns_per_call("m.batch_seconds.observe(0.012)", m)
    labelled = ns_per_call("m.slack_calls.labels('chat.update', 'ok').inc()", m)
    render = ns_per_call("m.render()", m, number=200) / 1000
    print(f"counter inc               {inc:8.0f} ns")
    print(f"histogram observe         {observe:8.0f} ns")
    print(f"labelled counter inc      {labelled:8.0f} ns  (one per Slack call)")
    print(f"render /metrics           {render:8.1f} us")
    per_batch = 5 * inc + observe
    print(
        f"metrics per_batch_ns={per_batch:.0f} per_entry_ns_at_100={per_batch / 100:.1f} "
        f"per_entry_ns_at_500={per_batch / 500:.1f} share_of_entry={per_batch / 100 / ENTRY_NS:.5f}"
    )


if __name__ == "__main__":
    main()
