"""Carrying out the notifier's plan (bot.notify.plan): a small loop over actions, the only
place that renders Block Kit, calls Slack (paced per channel by the sender) and writes what a
post produced. The Slack rules live here, once: a post to a channel the bot cannot use falls
back to the default channel with a warning; a message deleted in Slack is posted again; any
other Slack error ends the execution (the caller retries the whole item later, see `guard`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bot.i18n import t
from bot.models import Destination, Group, MessageRef
from bot.notify.blocks import (
    alert_blocks,
    alert_text,
    digest_blocks,
    digest_notice_text,
    digest_text,
    notice_text,
)
from bot.notify.failures import Failures
from bot.notify.plan import (
    Action,
    CancelEscalation,
    DropNotices,
    InDigest,
    JoinDigest,
    Post,
    QueueEscalation,
    Reply,
    ScheduleEscalation,
    ShowDigest,
    SkipReply,
    Thread,
    Update,
)
from bot.notify.sender import ChannelUnavailable, MessageGone, Posted, Sender, SlackError
from bot.notify.view import View
from bot.store.redis_store import UNREACHABLE, RedisStore

log = logging.getLogger("bot.notify.notifier")


class Executor:
    def __init__(
        self,
        store: RedisStore,
        sender: Sender,
        default_channel: str,
        failures: Failures,
        retry_s: float = 10.0,
    ) -> None:
        self.store, self.sender, self.default_channel = store, sender, default_channel
        self.failures = failures
        self.retry_s = retry_s  # after a Slack error the client's own retries did not cure

    # ---- one item, failing alone -------------------------------------------------------------

    def guard(
        self,
        stage: str,
        item: str,
        now: float,
        retry_at: Callable[[float], object],
        work: Callable[[], object],
        *,
        final: bool = True,
    ) -> bool:
        """Do the work of one item (a group, a digest, an escalation). When it fails, only it
        fails: a Slack error is retried after `retry_s`; anything else (a bad stored field, a
        bug) after a growing delay, counted and logged once (bot.notify.failures). Redis out
        of reach is everyone's problem: it ends the pass. True when the work was done; with
        `final`, that ends the item's run of failures (not for a first step of its work)."""
        try:
            work()
        except SlackError as exc:
            retry_at(now + self.retry_s)
            log.warning("slack call failed for %s: %s; retried in %.0f s", item, exc, self.retry_s)
            return False
        except UNREACHABLE:
            raise
        except Exception as exc:
            retry_at(now + self.failures.failed(stage, item, exc, now))
            return False
        if final:
            self.failures.ok(stage, item)
        return True

    # ---- a group's actions -------------------------------------------------------------------

    def run(
        self, group: Group, actions: Sequence[Action], now: float, update_interval: float
    ) -> None:
        """Carry out a group's plan in order. Replies go under the message each earlier
        action showed (or found) in their channel."""
        threads: dict[str, Thread | None] = {}
        shown = False
        for a in actions:
            if isinstance(a, JoinDigest):
                ref = MessageRef.in_digest_n(a.channel, a.num)
                self.store.set_message(group.id, a.channel, ref.encode())
                threads[a.channel], shown = None, True
            elif isinstance(a, InDigest):
                self.store.digest_touch(
                    a.channel, a.num, now, update_interval, immediate=a.immediate
                )
                threads[a.channel] = a.thread
            elif isinstance(a, Post):
                threads[a.target.channel], shown = self._post(group, a, now, update_interval), True
            elif isinstance(a, Update):
                thread = self._update(group, a)
                if thread is None:  # deleted in Slack: posted again
                    thread, shown = self._post(group, Post(a.target, a.view), now, 0), True
                threads[a.target.channel] = thread
            elif isinstance(a, ScheduleEscalation):
                if shown or not a.if_shown:
                    self.store.schedule_escalation(group.id, a.at, keep=a.keep)
            elif isinstance(a, Reply):
                self._reply(group, a, threads.get(a.target.channel))
            elif isinstance(a, SkipReply):
                log.warning(
                    "no digest message yet for %s in %s: notice %s skipped",
                    group.id,
                    a.channel,
                    a.kind,
                )
            elif isinstance(a, DropNotices):
                self.store.drop_notices(group.id, a.n)
            else:
                raise TypeError(f"not an action for a group's messages: {a!r}")

    def _post(self, group: Group, a: Post, now: float, update_interval: float) -> Thread:
        """The group's own message in the target's channel (or the fallback), recorded; a
        digest it leaves is brought forward so its line links to it."""
        posted = self.post_with_fallback(
            a.target,
            alert_text(group, a.view),
            alert_blocks(group, a.view),
            lambda note: alert_blocks(group, dataclasses.replace(a.view, note=note)),
        )
        self.store.set_message(group.id, a.target.channel, f"{posted.channel}/{posted.ts}")
        if a.promoted_from:
            self.store.digest_touch(
                a.target.channel, a.promoted_from, now, update_interval, immediate=True
            )
        return posted.channel, posted.ts

    def _update(self, group: Group, a: Update) -> Thread | None:
        """The message re-rendered: its thread, or None when it is gone and is to be posted
        again. Without `repost`, a failed update is logged and the message left as it is."""
        ch, ts = a.thread
        try:
            self.sender.update(ch, ts, alert_text(group, a.view), alert_blocks(group, a.view))
        except SlackError as exc:
            if not a.repost:
                log.warning("could not refresh %s in %s: %s", group.id, ch, exc)
            elif isinstance(exc, MessageGone):
                log.warning("message of %s in %s is gone; posting a new one", group.id, ch)
                return None
            else:
                raise
        return a.thread

    def _reply(self, group: Group, a: Reply, thread: Thread | None) -> None:
        if thread is None:  # the plan replies only where a message is shown
            raise ValueError(f"no message of {group.id} in {a.target.channel} to reply under")
        ch, ts = thread
        text = (
            digest_notice_text(group, a.notice, a.view)
            if a.in_digest
            else notice_text(a.notice, a.view)
        )
        self.sender.post(ch, text, None, thread_ts=ts, broadcast=a.broadcast)

    def post_with_fallback(
        self,
        target: Destination,
        text: str,
        blocks: list[dict[str, Any]],
        with_note: Callable[[str], list[dict[str, Any]]],
    ) -> Posted:
        """Post in the target channel; when the bot cannot (not invited, no such channel), post
        in the default channel instead with a warning saying why."""
        try:
            return self.sender.post(target.channel, text, blocks)
        except ChannelUnavailable as exc:
            if target.channel == self.default_channel:
                raise
            log.warning(
                "cannot post in %s (%s): falling back to %s",
                target.channel,
                exc.error,
                self.default_channel,
            )
            note = t(
                "notice.fallback_channel", target.locale, channel=target.channel, error=exc.error
            )
            return self.sender.post(self.default_channel, text, with_note(note))

    # ---- escalations and digests -------------------------------------------------------------

    def escalate(self, gid: str, actions: Sequence[Action], now: float, lease_until: float) -> None:
        """Queue the escalation notice (the outbox posts it in the thread) and schedule the
        repeat, atomically and only while this replica holds the escalation's lease."""
        for a in actions:
            if isinstance(a, CancelEscalation):
                self.store.cancel_escalation(gid)
            elif isinstance(a, QueueEscalation):
                result = self.store.escalate(
                    gid, a.notice, now=now, lease_until=lease_until, next_at=a.next_at
                )
                if result != "sent":
                    log.info("escalation of %s not sent: %s", gid, result)
            else:
                raise TypeError(f"not an escalation action: {a!r}")

    def show_digest(self, a: ShowDigest) -> str:
        """Update the digest in place; post it when new (or gone). Returns a new "CH/TS" or ""."""
        text = digest_text(a.groups, a.view)
        if a.short:
            text = f"{text} — {a.short}"
        blocks = digest_blocks(a.groups, a.view, a.num, a.channel, a.cause)
        if a.message is not None:
            ch, ts = a.message
            try:
                self.sender.update(ch, ts, text, blocks)
                return ""
            except MessageGone:
                log.warning("digest %s in %s is gone; posting a new one", ts, ch)
        posted = self.post_with_fallback(
            a.target,
            text,
            blocks,
            lambda note: digest_blocks(a.groups, _noted(a.view, note), a.num, a.channel, a.cause),
        )
        return f"{posted.channel}/{posted.ts}"


def _noted(view: View, note: str) -> View:
    return View(now=view.now, locale=view.locale, tz=view.tz, note=note)
