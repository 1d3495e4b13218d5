"""One item's failure is that item's problem: a group, a digest or an escalation that cannot be
handled is retried on its own after a growing delay (10 s, 20 s, 40 s ... at most 5 min) while
the notifier goes on with the others. Its traceback is logged on its first failure only, then
one line per retry; each failure is counted in triage_notify_failures_total{stage=...}."""

from __future__ import annotations

import logging

from prometheus_client import Counter

log = logging.getLogger("bot.notify.notifier")

MAX_TRACKED = 10_000  # items failing at once; beyond that the oldest counts are forgotten


class Failures:
    def __init__(self, counter: Counter, base_s: float = 10.0, cap_s: float = 300.0) -> None:
        self.counter, self.base_s, self.cap_s = counter, base_s, cap_s
        self._n: dict[tuple[str, str], int] = {}  # (stage, item) -> consecutive failures
        self._until: dict[tuple[str, str], float] = {}  # (stage, item) -> not retried before

    def failed(self, stage: str, item: str, exc: BaseException, now: float) -> float:
        """Count and log a failure; returns the delay before the item is tried again."""
        key = (stage, item)
        if key not in self._n and len(self._n) >= MAX_TRACKED:
            oldest = next(iter(self._n))
            self._n.pop(oldest)
            self._until.pop(oldest, None)
        n = self._n.get(key, 0) + 1
        self._n[key] = n
        delay = min(self.cap_s, self.base_s * 2 ** min(n - 1, 30))
        self._until[key] = now + delay
        self.counter.labels(stage).inc()
        if n == 1:
            log.error("%s of %s failed; retried in %.0f s", stage, item, delay, exc_info=exc)
        else:
            log.warning(
                "%s of %s failed again (%d in a row): %s: %s; retried in %.0f s",
                stage,
                item,
                n,
                type(exc).__name__,
                exc,
                delay,
            )
        return delay

    def ok(self, stage: str, item: str) -> None:
        """The item was handled: its next failure is a first one again."""
        if self._n.pop((stage, item), None) is not None:
            self._until.pop((stage, item), None)

    def waiting(self, stage: str, item: str, now: float) -> bool:
        """Is the item still backing off (for work that is not leased, such as auto-resolve)?"""
        return self._until.get((stage, item), 0.0) > now

    def count(self, stage: str, item: str) -> int:
        return self._n.get((stage, item), 0)
