"""`/triage merge A into B` and `/triage unmerge A`: check, store the rule, re-render both alerts.

The rule itself lives in bot/store/merges.py; ingest applies it (bot.grouping.redirect, once per batch in the pipeline).
Every gid in a message is what a person typed: escaped before it is echoed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import t
from bot.notify.blocks import escape
from bot.notify.notifier import DIGEST_REF, Notifier, _ref
from bot.notify.sender import SlackError
from bot.store.merges import CachedMerges, MergeRefused, MergeRule, MergeStore
from bot.store.redis_store import Group, RedisStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    ok: bool
    message: str  # localized, for the person who asked


class Merger:
    def __init__(
        self,
        store: RedisStore,
        rules: MergeStore,
        cache: CachedMerges,
        notifier: Notifier,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.rules, self.cache = store, rules, cache
        self.notifier, self.clock = notifier, clock

    def merge(self, source: str, target: str, user: str, locale: str = "en") -> MergeOutcome:
        src, dst = escape(source), escape(target)
        if source == target:
            return MergeOutcome(False, t("merge.self", locale, gid=src))
        a, b = self.store.load_group(source), self.store.load_group(target)
        if a is None:
            return MergeOutcome(False, t("error.not_found", locale, gid=src))
        if b is None:
            return MergeOutcome(False, t("error.not_found", locale, gid=dst))
        rule = MergeRule(source, target, user, self.clock(), a.count, self._link(b))
        try:
            self.rules.merge(rule)
        except MergeRefused as why:
            final = escape(why.detail)
            return MergeOutcome(
                False, t(f"merge.{why.reason}", locale, gid=src, target=dst, final=final)
            )
        self.cache.invalidate()  # this replica redirects at once; the others within the TTL
        self.store.cancel_escalation(source)  # nobody is paged for a group that is gone
        self.notifier.refresh(source)  # its alert now says "merged into"
        self.notifier.refresh(target)  # and the target's count includes it
        return MergeOutcome(True, t("merge.done", locale, gid=src, target=dst, count=a.count))

    def unmerge(self, source: str, user: str, locale: str = "en") -> MergeOutcome:
        src = escape(source)
        rule = self.rules.unmerge(source)
        if rule is None:
            return MergeOutcome(False, t("merge.not_merged", locale, gid=src))
        self.cache.invalidate()
        self.notifier.refresh(source)
        self.notifier.refresh(rule.into)
        return MergeOutcome(True, t("merge.undone", locale, gid=src, target=escape(rule.into)))

    def _link(self, group: Group) -> str:
        """A permalink to the target's alert (its first message that is not a digest entry)."""
        for channel, stored in group.messages.items():
            if stored.startswith(DIGEST_REF):
                continue
            ch, ts = _ref(stored, channel)
            try:
                return self.notifier.sender.permalink(ch, ts)
            except SlackError as exc:  # the merge works without a link; say so in the log
                log.warning("no permalink for %s in %s: %s", group.id, ch, exc)
        return ""
