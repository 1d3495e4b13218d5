"""Channel subscriptions to services (`/triage subscribe`), kept in one Redis hash."""

from __future__ import annotations

import json
import time

import redis

from bot.models import Subscription
from bot.store.keys import Keys

__all__ = ["CachedSubscriptions", "Subscription", "SubscriptionStore"]


class SubscriptionStore:
    def __init__(self, client: redis.Redis, prefix: str = "tb") -> None:
        self.r = client
        self.key = Keys(prefix).subscriptions()

    def add(self, sub: Subscription) -> bool:
        """True if new; an existing (pattern, channel) is replaced (e.g. another severity)."""
        field = f"{sub.channel}|{sub.pattern}"
        value = json.dumps(_asdict(sub))
        return bool(self.r.hset(self.key, field, value))

    def remove(self, pattern: str, channel: str) -> bool:
        return bool(self.r.hdel(self.key, f"{channel}|{pattern}"))

    def all(self) -> list[Subscription]:
        return [Subscription(**json.loads(v)) for v in self.r.hvals(self.key)]

    def for_channel(self, channel: str) -> list[Subscription]:
        return sorted((s for s in self.all() if s.channel == channel), key=lambda s: s.pattern)


def _asdict(sub: Subscription) -> dict[str, object]:
    return {
        "pattern": sub.pattern,
        "channel": sub.channel,
        "severity": sub.severity,
        "by": sub.by,
        "at": sub.at,
    }


class CachedSubscriptions:
    """Subscriptions read at most every `ttl` seconds (the router runs per render)."""

    def __init__(self, store: SubscriptionStore, ttl: float = 5.0) -> None:
        self.store, self.ttl = store, ttl
        self._at = -1e18
        self._subs: list[Subscription] = []

    def get(self) -> list[Subscription]:
        now = time.monotonic()
        if now - self._at > self.ttl:
            self._subs, self._at = self.store.all(), now
        return self._subs

    def invalidate(self) -> None:
        self._at = -1e18
