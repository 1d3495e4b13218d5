"""The fingerprinter the pipeline uses: the strategy, custom rules and per-service in-app rules
of the routing config (read at each call, so a reload applies at once), and Error Reporting's
groups (`er1`) when the config asks for them and the entry carries errorGroups[].id. Merge
rules (`/triage merge`) then send an entry of a merged group to its target."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from bot.fingerprint import er1, strategy
from bot.models import ErrorEvent, Fingerprint
from bot.routing.config import Config

Fingerprinter = Callable[[ErrorEvent], Fingerprint]


def make_fingerprinter(
    config: Callable[[], Config | None], default_strategy: str | None = None
) -> Fingerprinter:
    """`default_strategy` (GROUPING_STRATEGY) groups when no routing config names one; a
    config's `defaults: grouping: {strategy}` wins."""
    default = strategy(default_strategy)

    def fp(event: ErrorEvent) -> Fingerprint:
        cfg = config()
        if cfg is None:
            return default.fingerprint(event, (), None)
        grouping = cfg.defaults.grouping
        chosen = strategy(grouping.strategy) if grouping.strategy else default
        own = chosen.fingerprint(event, cfg.fingerprint_rules, cfg.in_app_for(event.service))
        return er1.over(event, own) if grouping.error_reporting else own

    return fp


def redirect(got: Fingerprint, into: Mapping[str, str]) -> Fingerprint:
    """An entry of a merged group is recorded under the group it was merged into. `into` is
    the merge rules (bot.store.merges.CachedMerges.get), read once per batch by the pipeline:
    ingest stays one Redis round trip per batch, and a Redis failure fails the batch (it is
    nacked) rather than the entry."""
    to = into.get(got.id)
    return got if to is None or to == got.id else dataclasses.replace(got, id=to)
