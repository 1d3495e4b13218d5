from __future__ import annotations

import random

import pytest

from bot.errorreporting.policy import SyncPolicy, gives_up, retry_delay

NO_JITTER = SyncPolicy(backoff_base_s=5, backoff_factor=2, backoff_max_s=600, jitter=0)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (7, 320), (8, 600), (30, 600)],
)
def test_backoff_doubles_up_to_the_cap(failures: int, delay: float) -> None:
    assert retry_delay(NO_JITTER, failures) == delay


def test_jitter_stays_within_its_band() -> None:
    policy = SyncPolicy(backoff_base_s=10, jitter=0.2)
    rng = random.Random(7)
    delays = [retry_delay(policy, 1, rng) for _ in range(200)]
    assert all(8 <= d <= 12 for d in delays)
    assert len(set(delays)) > 100  # actually spread


@pytest.mark.parametrize(
    ("age", "expected"), [(0, False), (3599, False), (3600, True), (9e9, True)]
)
def test_gives_up_after_max_age(age: float, expected: bool) -> None:
    assert gives_up(SyncPolicy(give_up_after_s=3600), 1000.0, 1000.0 + age) is expected
