"""When the Error Reporting sync retries, gives up and polls: data and pure functions."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    backoff_base_s: float = 5.0  # delay after the first failure
    backoff_factor: float = 2.0
    backoff_max_s: float = 600.0
    jitter: float = 0.2  # +-20% of each delay, so replicas and groups spread out
    give_up_after_s: float = 24 * 3600.0  # a status still not pushed after this is dropped
    lease_s: float = 60.0  # a replica's hold on a push (> two API timeouts)
    push_batch: int = 20  # pushes per run
    pulls_per_minute: int = 30  # API calls per minute (all replicas) the pull may spend
    pull_batch: int = 10  # groups checked per run, at most
    check_interval_s: float = 300.0  # a linked group is checked at most this often
    interval_s: float = 5.0  # the thread's pause between runs


def retry_delay(policy: SyncPolicy, failures: int, rng: random.Random | None = None) -> float:
    """The delay before the next try after `failures` (>= 1) failed attempts."""
    base = policy.backoff_base_s * policy.backoff_factor ** max(0, failures - 1)
    delay = min(policy.backoff_max_s, base)
    if rng is not None and policy.jitter:
        delay *= 1 + rng.uniform(-policy.jitter, policy.jitter)
    return delay


def gives_up(policy: SyncPolicy, first_at: float, now: float) -> bool:
    return now - first_at >= policy.give_up_after_s
