"""The notifier: drains the Redis outbox (due groups), posts or updates one message per group
per destination channel, posts thread notices, schedules escalations. Safe with many replicas:
a group is leased to one replica while it is rendered."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.i18n import t
from bot.notify.blocks import View, alert_blocks, alert_text, notice_text
from bot.notify.sender import ChannelUnavailable, MessageGone, Sender, SlackError
from bot.store.redis_store import Group, RedisStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a group's alert goes and how it is shown there."""

    channel: str
    locale: str = "en"
    timezone: str = "UTC"
    oncall: str = ""
    escalate_after_s: float | None = None
    repeat_interval_s: float | None = None


Router = Callable[[Group], Sequence[Target]]


def _ref(value: str, channel: str) -> tuple[str, str]:
    """Stored message reference -> (actual channel, ts). Values are "CHANNEL/TS"."""
    if "/" in value:
        ch, ts = value.split("/", 1)
        return ch, ts
    return channel, value


class Notifier:
    def __init__(
        self,
        store: RedisStore,
        sender: Sender,
        router: Router,
        *,
        default_channel: str,
        clock: Callable[[], float] = time.time,
        update_interval: float = 30.0,
        lease_s: float = 120.0,
        batch: int = 50,
    ) -> None:
        self.store = store
        self.sender = sender
        self.router = router
        self.default_channel = default_channel
        self.clock = clock
        self.update_interval = update_interval
        self.lease_s = lease_s
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- loop ---------------------------------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        self._thread = threading.Thread(target=self._run, args=(interval,), name="notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # edge of the notifier loop
                log.exception("notifier pass failed; the outbox keeps the work")
                busy = 0
            if not busy:
                self._stop.wait(interval)

    def run_once(self) -> int:
        """One pass: escalations that are due, then groups whose message is due."""
        now = self.clock()
        lease_until = now + self.lease_s
        n = 0
        for gid in self.store.claim_escalations(now, lease_until, self.batch):
            self._escalate(gid, now)
            n += 1
        gids = self.store.claim_due(now, lease_until, self.batch)
        for gid, group in zip(gids, self.store.load_groups(gids), strict=True):
            if group is None:
                continue
            try:
                self.render(group, now)
            except SlackError as exc:
                log.warning("slack call failed for %s: %s; retried after the lease", gid, exc)
                continue
            self.store.finish_render(gid, group.ver, now, self.update_interval, lease_until)
            n += 1
        return n

    # ---- rendering ------------------------------------------------------------------------

    def _view(self, group: Group, target: Target, now: float, note: str = "") -> View:
        return View(
            now=now,
            locale=target.locale,
            tz=target.timezone,
            minutes=self.store.minute_counts(group.id, now, 60),
            hours=self.store.hour_counts(group.id, now, 24),
            note=note,
        )

    def render(self, group: Group, now: float) -> None:
        """Post or update the group's message in each destination; then its thread notices."""
        targets = list(self.router(group)) or [Target(self.default_channel)]
        first_post = False
        refs: dict[str, tuple[str, str]] = {}
        for target in targets:
            stored = group.messages.get(target.channel)
            if stored is None and group.state == "snoozed":
                continue
            view = self._view(group, target, now)
            text, blocks = alert_text(group, view), alert_blocks(group, view)
            if stored is not None:
                ch, ts = _ref(stored, target.channel)
                try:
                    self.sender.update(ch, ts, text, blocks)
                    refs[target.channel] = (ch, ts)
                    continue
                except MessageGone:
                    log.warning("message of %s in %s is gone; posting a new one", group.id, ch)
            refs[target.channel] = self._post(group, target, now, text, blocks)
            first_post = True
        if first_post and group.state == "open":
            self._schedule_escalation(group, targets, now, first=True)
        self._post_notices(group, targets, refs, now)

    def _post(self, group: Group, target: Target, now: float, text: str, blocks: list) -> tuple[str, str]:  # type: ignore[type-arg]
        try:
            posted = self.sender.post(target.channel, text, blocks)
        except ChannelUnavailable as exc:
            if target.channel == self.default_channel:
                raise
            note = t("notice.fallback_channel", target.locale, channel=target.channel, error=exc.error)
            view = self._view(group, target, now, note)
            posted = self.sender.post(self.default_channel, alert_text(group, view), alert_blocks(group, view))
        self.store.set_message(group.id, target.channel, f"{posted.channel}/{posted.ts}")
        return posted.channel, posted.ts

    def _post_notices(
        self, group: Group, targets: Sequence[Target], refs: dict[str, tuple[str, str]], now: float
    ) -> None:
        if not group.notices:
            return
        for notice in group.notices:
            for target in targets:
                if target.channel not in refs:
                    continue
                ch, ts = refs[target.channel]
                view = View(now=now, locale=target.locale, tz=target.timezone)
                broadcast = notice.get("kind") in ("regression", "escalation")
                self.sender.post(ch, notice_text(notice, view), None, thread_ts=ts, broadcast=broadcast)
            if notice.get("kind") == "regression":
                self._schedule_escalation(group, targets, now, first=True)
        self.store.drop_notices(group.id, len(group.notices))

    # ---- escalation -------------------------------------------------------------------------

    def _schedule_escalation(
        self, group: Group, targets: Sequence[Target], now: float, first: bool
    ) -> None:
        waits = [
            (tg.escalate_after_s if first else tg.repeat_interval_s)
            for tg in targets
            if tg.oncall and (tg.escalate_after_s if first else tg.repeat_interval_s)
        ]
        if waits:
            self.store.schedule_escalation(group.id, now + min(w for w in waits if w))

    def _escalate(self, gid: str, now: float) -> None:
        group = self.store.load_group(gid)
        if group is None or group.state != "open":
            self.store.cancel_escalation(gid)
            return
        targets = [tg for tg in self.router(group) if tg.oncall]
        if not targets:
            self.store.cancel_escalation(gid)
            return
        minutes = int((now - float(group.get("created") or now)) // 60)
        oncall = " ".join(dict.fromkeys(tg.oncall for tg in targets))
        self.store.push_notice(gid, {"kind": "escalation", "oncall": oncall, "minutes": minutes, "now": now})
        self.store.cancel_escalation(gid)
        self._schedule_escalation(group, targets, now, first=False)

    # ---- human actions ----------------------------------------------------------------------

    def refresh(self, gid: str) -> Group | None:
        """Re-render a group's existing messages at once (after a human action)."""
        group = self.store.load_group(gid)
        if group is None:
            return None
        now = self.clock()
        by_channel = {tg.channel: tg for tg in self.router(group)}
        for channel, stored in group.messages.items():
            target = by_channel.get(channel, Target(channel))
            view = self._view(group, target, now)
            ch, ts = _ref(stored, channel)
            try:
                self.sender.update(ch, ts, alert_text(group, view), alert_blocks(group, view))
            except SlackError as exc:
                log.warning("could not refresh %s in %s: %s", gid, ch, exc)
        return group
