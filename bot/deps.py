"""What the Slack handlers need from the bot, wired once in bot.app."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.incident.service import IncidentService
from bot.lifecycle import Lifecycle
from bot.merging import Merger
from bot.notify.notifier import Notifier
from bot.oncall.service import OnCall
from bot.routing.config import Config
from bot.store.history import History
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
    history: History = field(init=False)
    clock: Callable[[], float] = time.time
    config: Callable[[], Config | None] = lambda: None
    oncall: OnCall | None = None  # who is on call (rotations, overrides, user groups)
    merges: Merger | None = None  # `/triage merge` / `unmerge` (bot.merging)
    incidents: IncidentService | None = None  # declared incidents (bot.incident)

    def __post_init__(self) -> None:
        self.history = History(self.store)

    def locale_and_tz(self, channel: str) -> tuple[str, str]:
        """The language and time zone of the team whose channel this is (else the defaults)."""
        cfg = self.config()
        if cfg is None:
            return self.locale, self.timezone
        for team in cfg.teams:
            if team.channel == channel:
                return team.locale or cfg.defaults.locale, team.timezone or cfg.defaults.timezone
        return cfg.defaults.locale, cfg.defaults.timezone
