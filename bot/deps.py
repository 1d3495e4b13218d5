"""What the Slack handlers need from the bot, wired once in bot.app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.lifecycle import Lifecycle
from bot.notify.notifier import Notifier
from bot.store.redis_store import RedisStore
from bot.store.subscriptions import CachedSubscriptions


@dataclass(slots=True)
class Deps:
    store: RedisStore
    notifier: Notifier
    lifecycle: Lifecycle
    locale: str = "en"
    timezone: str = "UTC"
    subscriptions: CachedSubscriptions | None = None
