"""Human actions on alert groups (from buttons or slash commands): state change + re-render."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot import slack_ids
from bot.i18n import t
from bot.notify.blocks import escape
from bot.notify.notifier import Notifier
from bot.snoozes import ESCALATING_FACTOR, escalating_arg
from bot.store.redis_store import Group, RedisStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str = ""  # localized, for an ephemeral answer when not ok
    state: str = ""


class Lifecycle:
    def __init__(
        self,
        store: RedisStore,
        notifier: Notifier,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[Group, str], None] | None = None,
    ) -> None:
        self.store, self.notifier, self.clock = store, notifier, clock
        # Called after a state change with the re-rendered group (e.g. Error Reporting sync).
        self.on_change = on_change

    def act(
        self,
        gid: str,
        transition: str,
        user: str,
        arg: str | float = "",
        locale: str = "en",
        scope: str = "",
    ) -> Outcome:
        """`scope` ("env=staging") limits a snooze to entries with that value (bot.snoozes)."""
        if transition == "assign" and not slack_ids.is_user(str(arg)):
            return Outcome(False, t("error.bad_value", locale))
        now = self.clock()
        if transition == "snooze_escalating":  # the hour before the snooze is its baseline
            base = escalating_arg(
                float(arg or ESCALATING_FACTOR), self.store.minute_counts(gid, now), now
            )
            arg = json.dumps(base)
        res = self.store.transition(gid, transition, user, now, arg, scope)
        if res.status == "not_found":
            # gid is what the user typed (`/triage ack <!channel>`): escaped, it cannot ping.
            return Outcome(False, t("error.not_found", locale, gid=escape(gid)))
        if res.status == "invalid":
            return Outcome(
                False,
                t(
                    "error.invalid_transition",
                    locale,
                    action=transition,
                    gid=escape(gid),
                    state=res.state,
                ),
            )
        if res.status == "ok":
            group = self.notifier.refresh(gid)
            if group is not None and self.on_change is not None and transition != "assign":
                try:
                    self.on_change(group, res.state)
                except Exception:  # the Slack action is done; a follow-up must not undo it
                    log.exception("after-change hook failed for %s", gid)
        return Outcome(True, state=res.state)
