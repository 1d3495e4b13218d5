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

Each item is handled in three steps, like Alertmanager's notify stages: claim it (a lease),
read what deciding needs in one step (`_facts`: the group, its destinations, its digest
admission, the digests that list it, its counts), decide (bot.notify.plan, pure: a list of
actions), then carry the actions out (bot.notify.execute: the only caller of Slack, with the
fallbacks and the retry rules). An item that fails fails alone (`Executor.guard`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from bot.incident.correlate import WEIGHT, correlate, episode_of
from bot.metrics import Metrics
from bot.models import DIGEST_PREFIX, Destination, Group, MessageRef, Timings
from bot.notify.execute import Executor
from bot.notify.failures import Failures
from bot.notify.pacing import ChannelPacer
from bot.notify.plan import (
    GroupFacts,
    Listed,
    escalating,
    plan_digest,
    plan_escalation,
    plan_group,
    plan_promote,
    plan_refresh,
    renders_own,
)
from bot.notify.sender import Sender
from bot.routing.reload import Snapshot
from bot.store.redis_store import UNREACHABLE, Digest, DigestPolicy, RedisStore

log = logging.getLogger(__name__)

DIGEST_REF = DIGEST_PREFIX  # a group's message reference when a digest lists it: "dg:<n>"
CORRELATED_MIN = 3  # new groups sharing a cause that open a digest under the threshold


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
    ref = MessageRef.parse(value, channel)
    return ref.channel, ref.ts


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
        # one group, digest or escalation that fails: retried alone (bot.notify.failures)
        self.metrics = metrics if metrics is not None else sender.metrics
        self.failures = Failures(self.metrics.notify_failures, base_s=10.0)
        self.executor = Executor(store, sender, default_channel, self.failures, retry_s=10.0)
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
    def retry_s(self) -> float:
        """Seconds before a render that failed on Slack (after the client's own retries) is
        tried again."""
        return self.executor.retry_s

    @retry_s.setter
    def retry_s(self, value: float) -> None:
        self.executor.retry_s = value

    @property
    def timings(self) -> Timings:
        return self.config().timings

    def _digest_policy(self, timings: Timings) -> DigestPolicy:
        return DigestPolicy(
            timings.digest_threshold, timings.digest_window, timings.digest_max_size
        )

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
        off, while the others go on (Executor.guard)."""
        now = self.clock()
        timings = self.timings
        lease_until = now + self.lease_s
        guard = self.executor.guard
        n = 0
        for gid in self.store.claim_escalations(now, lease_until, self.batch):
            retry = functools.partial(self.store.retry_escalation_later, gid, lease_until)
            work = functools.partial(self._escalate, gid, now, lease_until, timings)
            n += guard("escalation", gid, now, retry, work)
        n += self._auto_resolve(now)
        gids = self.store.claim_due(now, lease_until, self.batch)
        due = self._load_due(gids, now, lease_until)
        admitted = self._admit([g for _, g in due], now, timings)
        for gid, group in due:
            if group is not None:
                retry = functools.partial(self.store.retry_later, gid, lease_until)
                work = functools.partial(self.render, group, now, admitted, timings)
                if not guard("render", gid, now, retry, work):
                    continue
            # shown (or expired: it leaves the outbox)
            ver = group.ver if group is not None else 0
            self.store.finish_render(gid, ver, now, timings.update_interval, lease_until)
            n += group is not None
        return n + self._render_digests(now, lease_until, timings)

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

            def load(i: int = i, gid: str = gid) -> None:
                group = groups[i] if groups is not None else self.store.load_group(gid)
                out.append((gid, self._wake(gid, group, now)))

            retry = functools.partial(self.store.retry_later, gid, lease_until)
            self.executor.guard("render", gid, now, retry, load, final=False)
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
        resolved: list[str] = []
        for gid, after in self.store.due_auto_resolves(now, self.batch):
            if after <= 0 or self.failures.waiting("auto_resolve", gid, now):
                continue  # (not leased: a failed one waits out its delay here)

            def resolve(gid: str = gid, after: float = after) -> None:
                if self.store.transition(gid, "auto_resolve", "", now, after).status == "ok":
                    self.refresh(gid)
                    resolved.append(gid)

            self.executor.guard("auto_resolve", gid, now, lambda at: None, resolve)
        return len(resolved)

    def _targets(self, group: Group) -> list[Destination]:
        return list(self.router(group)) or [Destination(self.default_channel)]

    # ---- one group: read, plan, execute -----------------------------------------------------

    def render(
        self,
        group: Group,
        now: float,
        admitted: dict[tuple[str, str], int] | None = None,
        timings: Timings | None = None,
    ) -> None:
        """Post or update the group's message in each destination (or its digest entry); then
        its thread notices (bot.notify.plan.plan_group says which)."""
        timings = timings or self.timings
        facts = self._facts(group, now, admitted or {}, timings)
        self.executor.run(group, plan_group(facts), now, timings.update_interval)

    def _facts(
        self,
        group: Group,
        now: float,
        admitted: dict[tuple[str, str], int],
        timings: Timings,
    ) -> GroupFacts:
        """What plan_group needs, read in one step. A first message due in a channel the pass
        did not admit yet is admitted here (digest_admit decides atomically, in Redis, between
        its own message and a digest line); a digest that lists the group says whether it
        closed (the storm is over), its message, and, when the group recurs after it, whether
        the group is one of the correlated groups it stands for."""
        facts = GroupFacts(group, (), timings, now, self.digests)
        if group.get("merged_into"):  # no message of its own any more
            return facts
        targets = self._targets(group)
        admission: dict[str, int] = {}
        listed: dict[str, Listed] = {}
        for tg in targets:
            ch, ref = tg.channel, group.ref(tg.channel)
            if ref is None and group.state != "snoozed" and self.digests:
                num = admitted.get((group.id, ch))
                if num is None:
                    num = self.store.digest_admit(
                        ch, [group.id], now, self._digest_policy(timings), timings.update_interval
                    )[group.id]
                admission[ch] = num
            elif ref is not None and ref.in_digest:
                closed = (
                    self.store.digest_closed_at(ch, ref.digest, now)
                    if group.state == "open"
                    else None
                )
                candidate = (
                    closed is not None
                    and group.last > closed
                    and self._in_candidate(ch, ref.digest, group.id, now, timings)
                )
                message = self.store.digest_ref(ch, ref.digest)
                thread = _ref(message, ch) if message else None
                listed[ch] = Listed(ref.digest, thread, closed, candidate)
        facts = dataclasses.replace(facts, targets=targets, admission=admission, listed=listed)
        return self._with_counts(facts) if renders_own(facts) else facts

    def _with_counts(self, facts: GroupFacts) -> GroupFacts:
        """The group's counts, for the sparklines of its own messages."""
        gid, now = facts.group.id, facts.now
        minutes = self.store.minute_counts(gid, now, 60)
        return dataclasses.replace(facts, minutes=minutes, hours=self.store.hour_counts(gid, now))

    # ---- storm control --------------------------------------------------------------------

    def _admit(
        self, groups: Sequence[Group | None], now: float, timings: Timings
    ) -> dict[tuple[str, str], int]:
        """(gid, channel) -> 0 (own message) or digest number, for every first message due."""
        if not self.digests:
            return {}
        policy = self._digest_policy(timings)
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
                channel, gids, now, policy, timings.update_interval, correlated, own
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
        `threshold` own messages (an outage costs one post); when it opens and while it is
        open, the new groups that share nothing with its outage, posted on their own (as long
        as such groups stay under the threshold: a storm of unrelated bugs is still one
        digest)."""
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
        outside = [g for g in gids if g not in linked]
        if not cur:  # the outage opens the digest; what shares nothing with it posts alone
            if not linked & set(gids):
                return False, frozenset()
            return True, frozenset(outside) if len(outside) <= policy.threshold else frozenset()
        listed_outside = sum(1 for g in others if g not in linked)
        if not cands or len(outside) + listed_outside > policy.threshold:
            return False, frozenset()
        return False, frozenset(outside)

    def _render_digests(self, now: float, lease_until: float, timings: Timings) -> int:
        n = 0
        for channel, num in self.store.claim_digests(now, lease_until, self.batch):
            item = f"{channel}|{num}"
            shown: list[tuple[Digest, str]] = []

            def show(channel: str = channel, num: int = num, shown: list = shown) -> None:
                shown.append(self._render_digest(channel, num, now))

            retry = functools.partial(self.store.retry_digest_later, channel, num, lease_until)
            if not self.executor.guard("digest", item, now, retry, show):
                continue
            [(d, posted)] = shown
            self.store.finish_digest(
                channel, num, d.ver, now, timings.update_interval, lease_until, posted
            )
            n += 1
        return n

    def _render_digest(self, channel: str, num: int, now: float) -> tuple[Digest, str]:
        """Show digest `num` of `channel`: (the digest as loaded, a new "CH/TS" or "")."""
        d = self.store.load_digest(channel, num)
        groups = [g for g in self.store.load_groups(d.gids) if g is not None]
        target = (
            next((tg for tg in self._targets(groups[0]) if tg.channel == channel), None)
            if groups
            else None
        )
        cause = digest_cause(groups) if groups else ("", "")
        show = plan_digest(channel, num, d.ref, groups, target or Destination(channel), now, cause)
        return d, self.executor.show_digest(show) if show is not None else ""

    def _in_candidate(self, channel: str, num: int, gid: str, now: float, timings: Timings) -> bool:
        """Is the group one of the correlated groups of digest `num` (cached a short while)?"""
        key = (channel, num)
        hit = self._candidates.get(key)
        if hit is None or now - hit[0] > timings.update_interval:
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

    # ---- escalation -------------------------------------------------------------------------

    def _escalate(self, gid: str, now: float, lease_until: float, timings: Timings) -> None:
        """An escalation that is due: whom it mentions (who is on call now), then queued with
        its repeat while this replica holds its lease (bot.notify.plan.plan_escalation)."""
        group = self.store.load_group(gid)
        targets = escalating(self._targets(group)) if group is not None else []
        people = (
            [self.on_call(tg.team, now) if self.on_call and tg.rotation else () for tg in targets]
            if group is not None and group.state == "open"
            else []
        )
        actions = plan_escalation(group, targets, people, timings, now)
        self.executor.escalate(gid, actions, now, lease_until)

    # ---- human actions ----------------------------------------------------------------------

    def post_on_its_own(self, gid: str, channel: str) -> bool:
        """A digest line's "Post on its own": the group gets its own message in `channel` (once;
        the digest line then links to it). False when it is not listed in a digest there."""
        group = self.store.load_group(gid)
        ref = group.ref(channel) if group is not None else None
        if group is None or ref is None or not ref.in_digest:
            return False
        timings = self.timings
        facts = GroupFacts(group, self._targets(group), timings, self.clock(), self.digests)
        actions = plan_promote(self._with_counts(facts), channel)
        self.executor.run(group, actions, facts.now, timings.update_interval)
        return True

    def refresh(self, gid: str) -> Group | None:
        """Re-render a group's existing messages at once (after a human action); a digest that
        lists it is brought forward to the next notifier pass."""
        group = self.store.load_group(gid)
        if group is None:
            return None
        timings = self.timings
        facts = GroupFacts(group, self._targets(group), timings, self.clock(), self.digests)
        if any(not MessageRef.parse(v, ch).in_digest for ch, v in group.messages.items()):
            facts = self._with_counts(facts)
        self.executor.run(group, plan_refresh(facts), facts.now, timings.update_interval)
        return group
