"""The notifier: drains the Redis outbox (due groups), posts or updates one message per group
per destination channel, posts thread notices, sends escalations. Safe with many replicas: a
group (an escalation, a digest) is leased to one replica while it is handled.

Storm control (digests). When more than `DigestPolicy.threshold` groups (default 10) become due
for their first message in one channel within `window_s` (60 s), the groups beyond those
already posted are not posted one by one: they are listed in ONE digest message in that channel
(title, service, count, state, group id and a Logs link each), like Alertmanager's grouped
notification or Grafana OnCall's answer to an alert flood. While new groups keep coming (until
`window_s` after the last) they join that digest (a new digest starts after `max_size`
entries). A listed group's count and state changes update the digest (coalesced, at most once
per `update_interval`), its notable events (regression, escalation, spike, new revision) are
replies in the digest's thread, naming it. Each line has its own menu (acknowledge, resolve,
snooze, post on its own); the digest names what its groups share (bot.incident.correlate).
After the storm (the digest closed), a listed group that recurs and is not one of the digest's
correlated groups gets its own message, which its line links to. So every group stays
actionable, in its own message or in a digest line, and a storm costs one post.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from bot.i18n import t
from bot.incident.correlate import WEIGHT, correlate, episode_of
from bot.metrics import Metrics
from bot.models import Destination, Group, Timings
from bot.notify.blocks import (
    View,
    alert_blocks,
    alert_text,
    digest_blocks,
    digest_notice_text,
    digest_text,
    notice_text,
)
from bot.notify.failures import Failures
from bot.notify.pacing import ChannelPacer
from bot.notify.policy import escalation_mentions, escalation_wait, unacked_minutes
from bot.notify.sender import ChannelUnavailable, MessageGone, Posted, Sender, SlackError
from bot.routing.reload import Snapshot
from bot.store.redis_store import UNREACHABLE, Digest, DigestPolicy, RedisStore

log = logging.getLogger(__name__)

DIGEST_REF = "dg:"  # a group's message reference when a digest lists it: "dg:<n>"
BROADCAST = frozenset({"regression"})
CORRELATED_MIN = 3  # new groups sharing a cause that open a digest under the threshold  # thread replies also shown in the channel


Router = Callable[[Group], Sequence[Destination]]


def digest_cause(groups: Sequence[Group]) -> tuple[str, str]:
    """What most of a digest's groups share (an incident candidate, bot.incident.correlate):
    ("19 new errors in 7 services since 03:12 — 14 mention 10.40.0.3:5432 (...); first: ...",
    "14 mention 10.40.0.3:5432 (...); first: ..."), or ("", "") when they share nothing."""
    eps = [
        episode_of(g.id, g.service, g.title, g.first, g.sample, revision=g.get("revision") or None)
        for g in groups
    ]
    cands = correlate(eps)
    best = max(cands, key=lambda c: len(c.groups), default=None)
    if best is None or not best.shared:
        return "", ""
    return best.summary(), best.evidence_line()


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
        config: Callable[[], Snapshot] | None = None,
        lease_s: float = 120.0,
        batch: int = 50,
        digests: bool = True,
        pace: bool = True,
        on_call: Callable[[str, float], tuple[str, ...]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.on_call = on_call  # (team, now) -> user ids on call (bot.oncall.service)
        self.sender = sender
        self.router = router
        self.default_channel = default_channel
        self.clock = clock
        fixed = Snapshot(None, Timings())
        self.config = config or (lambda: fixed)  # timings: read once per pass, whole
        self.lease_s = lease_s
        self.retry_s = 10.0  # a render that failed after the client's own retries
        # any other failure of one group, digest or escalation: retried alone, backing off
        self.metrics = metrics if metrics is not None else sender.metrics
        self.failures = Failures(self.metrics.notify_failures, base_s=self.retry_s)
        self.batch = batch
        self.digests = digests
        if pace and sender.pace is None:
            sender.pace = ChannelPacer(store, clock)
        self._next_auto_resolve = 0.0
        # (channel, digest) -> (when, ids of its correlated groups): see _in_candidate
        self._candidates: dict[tuple[str, int], tuple[float, frozenset[str]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def timings(self) -> Timings:
        return self.config().timings

    def _digest_policy(self) -> DigestPolicy:
        t = self.timings
        return DigestPolicy(t.digest_threshold, t.digest_window, t.digest_max_size)

    # ---- loop ---------------------------------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="notifier", daemon=True
        )
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
        """One pass: escalations that are due, groups whose message is due, then digests. One
        item that fails (a bad stored field, a bug) fails alone: it is retried later, backing
        off, while the others go on (bot.notify.failures)."""
        now = self.clock()
        lease_until = now + self.lease_s
        n = 0
        for gid in self.store.claim_escalations(now, lease_until, self.batch):
            try:
                self._escalate(gid, now, lease_until)
            except UNREACHABLE:
                raise
            except Exception as exc:
                delay = self.failures.failed("escalation", gid, exc, now)
                self.store.retry_escalation_later(gid, lease_until, now + delay)
                continue
            self.failures.ok("escalation", gid)
            n += 1
        n += self._auto_resolve(now)
        gids = self.store.claim_due(now, lease_until, self.batch)
        due = self._load_due(gids, now, lease_until)
        admitted = self._admit([g for _, g in due], now)
        for gid, group in due:
            if group is None:  # expired: leaves the outbox
                self.store.finish_render(gid, 0, now, self.timings.update_interval, lease_until)
                continue
            try:
                self.render(group, now, admitted)
            except SlackError as exc:
                retry = now + self.retry_s
                self.store.retry_later(gid, lease_until, retry)
                log.warning(
                    "slack call failed for %s: %s; retried in %.0f s", gid, exc, self.retry_s
                )
                continue
            except UNREACHABLE:
                raise
            except Exception as exc:
                self._render_failed(gid, exc, now, lease_until)
                continue
            self.failures.ok("render", gid)
            self.store.finish_render(gid, group.ver, now, self.timings.update_interval, lease_until)
            n += 1
        return n + self._render_digests(now, lease_until)

    def _render_failed(self, gid: str, exc: Exception, now: float, lease_until: float) -> None:
        """The group stays in the outbox, due again after a growing delay."""
        delay = self.failures.failed("render", gid, exc, now)
        self.store.retry_later(gid, lease_until, now + delay)

    def _load_due(
        self, gids: list[str], now: float, lease_until: float
    ) -> list[tuple[str, Group | None]]:
        """The claimed groups (None: expired), woken where a timed snooze ran out. A group
        whose stored fields cannot be read fails alone (retried later), not its batch."""
        try:
            groups: list[Group | None] | None = self.store.load_groups(gids)
        except UNREACHABLE:
            raise
        except Exception:  # a bad stored field: each group on its own, so it fails alone
            groups = None
        out: list[tuple[str, Group | None]] = []
        for i, gid in enumerate(gids):
            try:
                group = groups[i] if groups is not None else self.store.load_group(gid)
                out.append((gid, self._wake(gid, group, now)))
            except UNREACHABLE:
                raise
            except Exception as exc:
                self._render_failed(gid, exc, now, lease_until)
        return out

    def _wake(self, gid: str, group: Group | None, now: float) -> Group | None:
        """A group whose snooze for a time ran out (its wake-up call) goes back to its state."""
        until = group.get("snooze_until") if group is not None else ""
        if group is not None and group.state == "snoozed" and until and float(until) <= now:
            self.store.transition(gid, "wake", "", now)
            return self.store.load_group(gid)
        return group

    AUTO_RESOLVE_EVERY_S = 5.0  # how often the auto-resolve schedule is looked at

    def _auto_resolve(self, now: float) -> int:
        """Groups with no event for their auto_resolve_after resolve themselves (a timeline
        entry; a later event is a regression). The transition checks again, so of several
        replicas one resolves and re-renders."""
        if now < self._next_auto_resolve:
            return 0
        self._next_auto_resolve = now + self.AUTO_RESOLVE_EVERY_S
        n = 0
        for gid, after in self.store.due_auto_resolves(now, self.batch):
            if self.failures.waiting("auto_resolve", gid, now):
                continue
            try:
                if (
                    after > 0
                    and self.store.transition(gid, "auto_resolve", "", now, after).status == "ok"
                ):
                    self.refresh(gid)
                    n += 1
            except UNREACHABLE:
                raise
            except Exception as exc:
                self.failures.failed("auto_resolve", gid, exc, now)
                continue
            self.failures.ok("auto_resolve", gid)
        return n

    def _targets(self, group: Group) -> list[Destination]:
        return list(self.router(group)) or [Destination(self.default_channel)]

    # ---- storm control --------------------------------------------------------------------

    def _admit(self, groups: Sequence[Group | None], now: float) -> dict[tuple[str, str], int]:
        """(gid, channel) -> 0 (own message) or digest number, for every first message due."""
        if not self.digests:
            return {}
        policy = self._digest_policy()
        pending: dict[str, list[str]] = defaultdict(list)
        for g in groups:
            if g is None or g.state == "snoozed":
                continue
            try:
                targets = self._targets(g)
            except UNREACHABLE:
                raise
            except Exception:  # its render fails the same way, alone, and counts it
                continue
            for tg in targets:
                if tg.channel not in g.messages:
                    pending[tg.channel].append(g.id)
        out: dict[tuple[str, str], int] = {}
        by_id = {g.id: g for g in groups if g is not None}
        for channel, gids in pending.items():
            try:
                correlated, own = self._correlate_new(channel, gids, by_id, now, policy)
            except UNREACHABLE:
                raise
            except Exception as exc:  # admitted without correlation, by the threshold alone
                self.failures.failed("admit", channel, exc, now)
                correlated, own = False, frozenset()
            else:
                self.failures.ok("admit", channel)
            for gid, n in self.store.digest_admit(
                channel, gids, now, policy, self.timings.update_interval, correlated, own
            ).items():
                out[(gid, channel)] = n
        return out

    def _correlate_new(
        self,
        channel: str,
        gids: list[str],
        by_id: dict[str, Group],
        now: float,
        policy: DigestPolicy,
    ) -> tuple[bool, frozenset[str]]:
        """Storm control with correlation (bot.incident.correlate), for new groups due in a
        channel: (True, _) when they and the channel's other recent new groups make an incident
        candidate of at least CORRELATED_MIN groups, so the digest opens now rather than after
        `threshold` own messages (an outage costs one post); while a digest is open, the new
        groups that share nothing with its outage, posted on their own (as long as such groups
        stay under the threshold: a storm of unrelated bugs is still one digest)."""
        cur = self.store.digest_is_open(channel, now)
        others = (
            list(self.store.load_digest(channel, cur).gids)
            if cur
            else self.store.digest_recent(channel, now, policy.window_s)
        )
        others = [g for g in others if g not in by_id]
        if len(others) + len(gids) < CORRELATED_MIN:
            return False, frozenset()
        groups = [by_id[g] for g in gids] + [
            g for g in self.store.load_groups(others) if g is not None
        ]
        eps = [
            episode_of(
                g.id, g.service, g.title, g.first, g.sample, revision=g.get("revision") or None
            )
            for g in groups
        ]
        cands = [
            c
            for c in correlate(eps, window=policy.window_s * 5, min_groups=CORRELATED_MIN)
            # a cause that links on its own (an endpoint, a dependency ...), not only hints
            # such as one revision and a generic class: those stay threshold-driven
            if len(c.groups) >= CORRELATED_MIN
            and c.shared
            and WEIGHT[c.shared[0].evidence.kind] >= 2
        ]
        linked = {gid for c in cands for gid in c.group_ids}
        if not cur:
            return bool(linked & set(gids)), frozenset()
        outside = [g for g in gids if g not in linked]
        listed_outside = sum(1 for g in others if g not in linked)
        if not cands or len(outside) + listed_outside > policy.threshold:
            return False, frozenset()
        return False, frozenset(outside)

    def _render_digests(self, now: float, lease_until: float) -> int:
        n = 0
        for channel, num in self.store.claim_digests(now, lease_until, self.batch):
            item = f"{channel}|{num}"
            try:
                d, posted = self._render_digest(channel, num, now)
            except SlackError as exc:
                self.store.retry_digest_later(channel, num, lease_until, now + self.retry_s)
                log.warning("digest %s failed: %s; retried in %.0f s", item, exc, self.retry_s)
                continue
            except UNREACHABLE:
                raise
            except Exception as exc:
                delay = self.failures.failed("digest", item, exc, now)
                self.store.retry_digest_later(channel, num, lease_until, now + delay)
                continue
            self.failures.ok("digest", item)
            self.store.finish_digest(
                channel, num, d.ver, now, self.timings.update_interval, lease_until, posted
            )
            n += 1
        return n

    def _render_digest(self, channel: str, num: int, now: float) -> tuple[Digest, str]:
        """Show digest `num` of `channel`: (the digest as loaded, a new "CH/TS" or "")."""
        d = self.store.load_digest(channel, num)
        groups = [g for g in self.store.load_groups(d.gids) if g is not None]
        if not groups:
            return d, ""
        target = next(
            (tg for tg in self._targets(groups[0]) if tg.channel == channel),
            Destination(channel),
        )
        view = View(now=now, locale=target.locale, tz=target.timezone)
        cause, short = digest_cause(groups)
        text = digest_text(groups, view)
        if short:
            text = f"{text} — {short}"
        blocks = digest_blocks(groups, view, num, channel, cause)
        return d, self._show_digest(d.ref, target, view, groups, text, blocks)

    def _show_digest(
        self,
        ref: str,
        target: Destination,
        view: View,
        groups: Sequence[Group],
        text: str,
        blocks: list[dict[str, Any]],
    ) -> str:
        """Update the digest in place; post it when new (or gone). Returns a new "CH/TS" or ""."""
        if ref:
            ch, ts = _ref(ref, target.channel)
            try:
                self.sender.update(ch, ts, text, blocks)
                return ""
            except MessageGone:
                log.warning("digest %s in %s is gone; posting a new one", ts, ch)
        posted = self._post_with_fallback(
            target,
            text,
            blocks,
            lambda note: digest_blocks(
                groups, View(now=view.now, locale=view.locale, tz=view.tz, note=note)
            ),
        )
        return f"{posted.channel}/{posted.ts}"

    # ---- rendering ------------------------------------------------------------------------

    def _view(self, group: Group, target: Destination, now: float, note: str = "") -> View:
        return View(
            now=now,
            locale=target.locale,
            tz=target.timezone,
            minutes=self.store.minute_counts(group.id, now, 60),
            hours=self.store.hour_counts(group.id, now, 24),
            note=note,
        )

    def render(
        self, group: Group, now: float, admitted: dict[tuple[str, str], int] | None = None
    ) -> None:
        """Post or update the group's message in each destination (or its digest entry); then
        its thread notices. A merged group's message said so when it was merged (refresh) and
        gets no further updates: its entries count on the target."""
        if group.get("merged_into"):
            if group.notices:
                self.store.drop_notices(group.id, len(group.notices))
            return
        targets = self._targets(group)
        shown = False
        refs: dict[str, tuple[str, str] | None] = {}  # channel -> thread to reply in
        for target in targets:
            stored = group.messages.get(target.channel)
            if stored is None and group.state == "snoozed":
                continue
            if stored is None and self.digests:
                num = (admitted or {}).get((group.id, target.channel))
                if num is None:
                    num = self.store.digest_admit(
                        target.channel,
                        [group.id],
                        now,
                        self._digest_policy(),
                        self.timings.update_interval,
                    )[group.id]
                if num:
                    self.store.set_message(group.id, target.channel, f"{DIGEST_REF}{num}")
                    refs[target.channel] = None  # a new digest entry: no notices yet
                    shown = True
                    continue
            if stored is not None and stored.startswith(DIGEST_REF):
                num = int(stored.removeprefix(DIGEST_REF))
                closed = (
                    self.store.digest_closed_at(target.channel, num, now)
                    if group.state == "open"
                    else None
                )
                if (
                    closed is not None
                    and group.last > closed  # it recurred after the storm
                    and not self._in_candidate(target.channel, num, group.id, now)
                ):
                    # the storm is over and the group recurs: it gets a message of its own,
                    # which its digest line links to; unless it is part of the outage the
                    # digest stands for (what its groups share), which the digest keeps showing
                    refs[target.channel] = self._promote(group, target, num, now)
                    shown = True
                    continue
                self.store.digest_touch(target.channel, num, now, self.timings.update_interval)
                ref = self.store.digest_ref(target.channel, num)
                refs[target.channel] = _ref(ref, target.channel) if ref else None
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
            shown = True
        if shown and group.state == "open":
            self._schedule_escalation(group, targets, now, first=True, keep=True)
        self._post_notices(group, targets, refs, now)

    def _post_with_fallback(
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

    def _post(
        self, group: Group, target: Destination, now: float, text: str, blocks: list[dict[str, Any]]
    ) -> tuple[str, str]:
        posted = self._post_with_fallback(
            target,
            text,
            blocks,
            lambda note: alert_blocks(group, self._view(group, target, now, note)),
        )
        self.store.set_message(group.id, target.channel, f"{posted.channel}/{posted.ts}")
        return posted.channel, posted.ts

    def _post_notices(
        self,
        group: Group,
        targets: Sequence[Destination],
        refs: dict[str, tuple[str, str] | None],
        now: float,
    ) -> None:
        if not group.notices:
            return
        for notice in group.notices:
            for target in targets:
                ref = refs.get(target.channel)
                if ref is None:
                    if target.channel in refs:
                        log.warning(
                            "no digest message yet for %s in %s: notice %s skipped",
                            group.id,
                            target.channel,
                            notice.get("kind"),
                        )
                    continue
                ch, ts = ref
                view = View(now=now, locale=target.locale, tz=target.timezone)
                in_digest = group.messages.get(target.channel, "").startswith(DIGEST_REF)
                text = (
                    digest_notice_text(group, notice, view)
                    if in_digest
                    else notice_text(notice, view)
                )
                broadcast = notice.get("kind") in BROADCAST
                self.sender.post(ch, text, None, thread_ts=ts, broadcast=broadcast)
            if notice.get("kind") == "regression":
                self._schedule_escalation(group, targets, now, first=True)
        self.store.drop_notices(group.id, len(group.notices))

    # ---- escalation -------------------------------------------------------------------------

    def _schedule_escalation(
        self,
        group: Group,
        targets: Sequence[Destination],
        now: float,
        first: bool,
        keep: bool = False,
    ) -> None:
        wait = escalation_wait(targets, self.timings, first=first)
        if wait is not None:
            self.store.schedule_escalation(group.id, now + wait, keep=keep)

    def _escalate(self, gid: str, now: float, lease_until: float) -> None:
        """Queue the escalation notice (the outbox posts it in the thread) and schedule the
        repeat, atomically and only while this replica holds the escalation's lease."""
        group = self.store.load_group(gid)
        targets = [tg for tg in self._targets(group) if tg.oncall or tg.rotation] if group else []
        if group is None or group.state != "open" or not targets:
            self.store.cancel_escalation(gid)
            return
        minutes = unacked_minutes(
            float(group.get("created") or now), float(group.get("regressed_at") or 0), now
        )
        episode = max(float(group.get("created") or 0), float(group.get("regressed_at") or 0))
        first = float(group.get("escalated_at") or 0) < episode  # this episode's first
        whos, fallbacks = [], []
        for tg in targets:
            people = self.on_call(tg.team, now) if self.on_call and tg.rotation else ()
            who, fallback = escalation_mentions(people, tg.mention, first=first)
            whos.append(who)
            fallbacks.append(fallback)
        oncall = " ".join(dict.fromkeys(w for w in whos if w))
        fallback = " ".join(dict.fromkeys(f for f in fallbacks if f))
        repeat = escalation_wait(targets, self.timings, first=False)
        notice = {"kind": "escalation", "oncall": oncall, "minutes": minutes, "now": now}
        if fallback:
            notice["fallback"] = fallback
        result = self.store.escalate(
            gid,
            notice,
            now=now,
            lease_until=lease_until,
            next_at=now + repeat if repeat is not None else None,
        )
        if result != "sent":
            log.info("escalation of %s not sent: %s", gid, result)

    # ---- human actions ----------------------------------------------------------------------

    def _in_candidate(self, channel: str, num: int, gid: str, now: float) -> bool:
        """Is the group one of the correlated groups of digest `num` (cached a short while)?"""
        key = (channel, num)
        hit = self._candidates.get(key)
        if hit is None or now - hit[0] > self.timings.update_interval:
            groups = [g for g in self.store.load_groups(self.store.load_digest(*key).gids) if g]
            eps = [
                episode_of(
                    g.id, g.service, g.title, g.first, g.sample, revision=g.get("revision") or None
                )
                for g in groups
            ]
            best = max(correlate(eps), key=lambda c: len(c.groups), default=None)
            hit = (now, frozenset(best.group_ids) if best is not None else frozenset())
            self._candidates[key] = hit
        return gid in hit[1]

    def _promote(self, group: Group, target: Destination, num: int, now: float) -> tuple[str, str]:
        view = self._view(group, target, now)
        posted = self._post(group, target, now, alert_text(group, view), alert_blocks(group, view))
        self.store.digest_touch(
            target.channel, num, now, self.timings.update_interval, immediate=True
        )
        return posted

    def post_on_its_own(self, gid: str, channel: str) -> bool:
        """A digest line's "Post on its own": the group gets its own message in `channel` (once;
        the digest line then links to it). False when it is not listed in a digest there."""
        group = self.store.load_group(gid)
        stored = group.messages.get(channel, "") if group is not None else ""
        if group is None or not stored.startswith(DIGEST_REF):
            return False
        target = next(
            (tg for tg in self._targets(group) if tg.channel == channel), Destination(channel)
        )
        self._promote(group, target, int(stored.removeprefix(DIGEST_REF)), self.clock())
        return True

    def refresh(self, gid: str) -> Group | None:
        """Re-render a group's existing messages at once (after a human action); a digest that
        lists it is brought forward to the next notifier pass."""
        group = self.store.load_group(gid)
        if group is None:
            return None
        now = self.clock()
        targets = self._targets(group)
        by_channel = {tg.channel: tg for tg in targets}
        for channel, stored in group.messages.items():
            if stored.startswith(DIGEST_REF):
                num = int(stored.removeprefix(DIGEST_REF))
                self.store.digest_touch(
                    channel, num, now, self.timings.update_interval, immediate=True
                )
                continue
            target = by_channel.get(channel, Destination(channel))
            view = self._view(group, target, now)
            ch, ts = _ref(stored, channel)
            try:
                self.sender.update(ch, ts, alert_text(group, view), alert_blocks(group, view))
            except SlackError as exc:
                log.warning("could not refresh %s in %s: %s", gid, ch, exc)
        if group.state == "open" and group.messages:
            # open again (unacknowledged, reopened, unsnoozed): the escalation clock restarts
            self._schedule_escalation(group, targets, now, first=True, keep=True)
        return group
