"""Per-channel pacing of posts: a token bucket in Redis, shared by every replica.

Slack allows about one message per second per channel (short bursts tolerated); the bucket
holds `burst` tokens refilled at `rate` per second. The sender asks before each
chat.postMessage and sleeps the answer (an injectable sleep, so simulations run fast)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.store.redis_store import RedisStore


class ChannelPacer:
    def __init__(
        self,
        store: RedisStore,
        clock: Callable[[], float] = time.time,
        *,
        rate: float = 1.0,
        burst: float = 3.0,
    ) -> None:
        self.store, self.clock, self.rate, self.burst = store, clock, rate, burst

    def __call__(self, channel: str) -> float:
        """Seconds to wait before posting to `channel` (0.0: a token was taken, go ahead)."""
        return self.store.take_token(channel, self.clock(), self.rate, self.burst)
