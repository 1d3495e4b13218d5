"""The fingerprinter the pipeline uses: the strategy, custom rules and per-service in-app rules
of the routing config (read at each call, so a reload applies at once), and Error Reporting's
groups (`er1`) when the config asks for them and the entry carries errorGroups[].id."""

from __future__ import annotations

from collections.abc import Callable

from bot.fingerprint import er1, strategy
from bot.models import ErrorEvent, Fingerprint
from bot.routing.config import Config


def make_fingerprinter(config: Callable[[], Config | None]) -> Callable[[ErrorEvent], Fingerprint]:
    default = strategy()

    def fp(event: ErrorEvent) -> Fingerprint:
        cfg = config()
        if cfg is None:
            return default.fingerprint(event, (), None)
        grouping = cfg.defaults.grouping
        own = strategy(grouping.strategy).fingerprint(
            event, cfg.fingerprint_rules, cfg.in_app_for(event.service)
        )
        return er1.over(event, own) if grouping.error_reporting else own

    return fp
