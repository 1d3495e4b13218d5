"""The fake clock of tests and benchmarks: time that moves only when told to, so state machines
are tested without sleeping. Pass it where the bot takes ``clock`` (it is called for the time)
and, for code that waits, its :meth:`sleep` (which moves the time on instead)."""

from __future__ import annotations

T0 = 1_764_000_000.0  # 2025-11-24T16:00:00Z, a fixed start


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        """What ``time.sleep`` would do to the clock, without the waiting."""
        self.now += seconds
