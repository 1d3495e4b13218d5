"""What the notifier does for one group, decided (pure): facts in, a list of actions out.

The notifier works in three steps, like Alertmanager's notify stages: it reads what a decision
needs (`GroupFacts`: the group, its destinations, the timings, `now`, the digest admission of
its first messages, the state of the digests that list it, its counts), `plan_group` turns that
into actions, and the executor (bot.notify.execute) carries them out in order, with the Slack
fallbacks and the store writes. Nothing here reads Redis or calls Slack, so every decision is
a row of a table test (tests/notify/test_plan.py).

Actions, per destination channel, in the destinations' order, then per queued notice:

* `JoinDigest`: a first message the storm control listed in a digest (no message of its own).
* `InDigest`: the group stays a digest line: the digest is brought up to date (coalesced, or at
  once), its notices are replies in the digest's thread.
* `Post`: the group's own message (after a storm, `promoted_from` names the digest it leaves).
* `Update`: its message, re-rendered (`repost`: a message deleted in Slack is posted again).
* `ScheduleEscalation`: when an unacknowledged open group mentions on-call.
* `Reply` / `SkipReply`: a notice as a thread reply, or skipped (its digest is not posted yet).
* `DropNotices`: the notices handled.
* `QueueEscalation` / `CancelEscalation` (`plan_escalation`), `ShowDigest` (`plan_digest`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.models import Destination, Group, MessageRef, NoticeKind, Timings
from bot.notify.policy import escalation_mentions, escalation_wait, unacked_minutes
from bot.notify.view import View

BROADCAST = frozenset({NoticeKind.REGRESSION.value})  # thread replies also shown in the channel

Thread = tuple[str, str]  # (channel, ts) of the message a reply goes under


# ---- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    """The digest a group is listed in, in one channel, as the store says before planning."""

    num: int
    thread: Thread | None = None  # the digest's message, once posted
    closed_at: float | None = None  # when it stopped taking new groups; None: still open (or
    # not asked: the group is not open)
    in_candidate: bool = False  # one of the correlated groups the digest stands for (asked
    # only when the group recurred after the digest closed)


@dataclass(frozen=True, slots=True)
class GroupFacts:
    group: Group
    targets: Sequence[Destination]
    timings: Timings
    now: float
    digests: bool = True  # storm control on
    admission: Mapping[str, int] = field(default_factory=dict)  # channel -> 0 (its own
    # message) or the digest listing it, for each first message due
    listed: Mapping[str, Listed] = field(default_factory=dict)  # channel -> its digest
    minutes: Sequence[int] = ()  # its counts, last 60 minutes, for its own messages
    hours: Sequence[int] = ()  # last 24 hours


# ---- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinDigest:
    channel: str
    num: int


@dataclass(frozen=True, slots=True)
class InDigest:
    channel: str
    num: int
    thread: Thread | None  # where its notices go; None: skipped, the digest is not posted yet
    immediate: bool = False  # brought forward to the next pass (a human action)


@dataclass(frozen=True, slots=True)
class Post:
    target: Destination
    view: View
    promoted_from: int = 0  # the digest it was listed in, which then links to it


@dataclass(frozen=True, slots=True)
class Update:
    target: Destination
    thread: Thread  # the message: (its actual channel, ts)
    view: View
    repost: bool = True  # deleted in Slack: post it again; else a failed update is logged


@dataclass(frozen=True, slots=True)
class ScheduleEscalation:
    at: float
    keep: bool = False  # an escalation already scheduled stays
    if_shown: bool = False  # only when this execution showed it anew (a post, a digest line)


@dataclass(frozen=True, slots=True)
class Reply:
    target: Destination  # under the group's message (or digest) in this channel
    notice: dict[str, Any]
    view: View
    in_digest: bool = False  # the group is a digest line: the reply names it
    broadcast: bool = False


@dataclass(frozen=True, slots=True)
class SkipReply:
    channel: str
    kind: str


@dataclass(frozen=True, slots=True)
class DropNotices:
    n: int


@dataclass(frozen=True, slots=True)
class QueueEscalation:
    notice: dict[str, Any]
    next_at: float | None  # the repeat, or None


@dataclass(frozen=True, slots=True)
class CancelEscalation:
    pass


@dataclass(frozen=True, slots=True)
class ShowDigest:
    channel: str
    num: int
    message: Thread | None  # its message once posted: updated; else posted
    target: Destination
    view: View
    groups: Sequence[Group]
    cause: str = ""  # what its groups share, under the header
    short: str = ""  # the same, short, after the notification text


Action = (
    JoinDigest
    | InDigest
    | Post
    | Update
    | ScheduleEscalation
    | Reply
    | SkipReply
    | DropNotices
    | QueueEscalation
    | CancelEscalation
    | ShowDigest
)


# ---- decisions --------------------------------------------------------------------------------


def _escalation(facts: GroupFacts, *, keep: bool, if_shown: bool = False) -> list[Action]:
    wait = escalation_wait(facts.targets, facts.timings, first=True)
    return [] if wait is None else [ScheduleEscalation(facts.now + wait, keep, if_shown)]


def _view(facts: GroupFacts, target: Destination) -> View:
    return View(
        now=facts.now,
        locale=target.locale,
        tz=target.timezone,
        minutes=facts.minutes,
        hours=facts.hours,
    )


def _recurs_after_storm(group: Group, listed: Listed) -> bool:
    """The storm is over and the group recurs, and it is not part of the outage the digest
    stands for: it gets a message of its own (which its digest line links to)."""
    closed = listed.closed_at
    return closed is not None and group.last > closed and not listed.in_candidate


def plan_group(facts: GroupFacts) -> list[Action]:
    """Post or update the group's message in each destination (or its digest entry); then
    its thread notices. A merged group's message said so when it was merged (refresh) and
    gets no further updates: its entries count on the target."""
    g = facts.group
    if g.get("merged_into"):
        return [DropNotices(len(g.notices))] if g.notices else []
    actions: list[Action] = []
    threads: dict[str, bool] = {}  # channel -> has (or will have) a thread for its notices
    shown = updated = False
    for target in facts.targets:
        ch = target.channel
        ref = g.ref(ch)
        if ref is None and g.state == "snoozed":
            continue
        if ref is None and facts.digests and facts.admission.get(ch, 0):
            actions.append(JoinDigest(ch, facts.admission[ch]))
            threads[ch], shown = False, True  # a new digest entry: no notices yet
            continue
        if ref is not None and ref.in_digest:
            listed = facts.listed.get(ch) or Listed(ref.digest)
            if _recurs_after_storm(g, listed):
                actions.append(Post(target, _view(facts, target), promoted_from=ref.digest))
                threads[ch], shown = True, True
            else:
                actions.append(InDigest(ch, ref.digest, listed.thread))
                threads[ch] = listed.thread is not None
            continue
        if ref is not None:
            actions.append(Update(target, (ref.channel, ref.ts), _view(facts, target)))
            updated = True  # deleted in Slack, it is posted again: then shown
        else:
            actions.append(Post(target, _view(facts, target)))
            shown = True
        threads[ch] = True
    if g.state == "open" and (shown or updated):
        actions += _escalation(facts, keep=True, if_shown=not shown)
    actions += _notices(facts, threads)
    return actions


def _notices(facts: GroupFacts, threads: Mapping[str, bool]) -> list[Action]:
    g = facts.group
    if not g.notices:
        return []
    actions: list[Action] = []
    for notice in g.notices:
        kind = str(notice.get("kind") or "")
        for target in facts.targets:
            ch = target.channel
            if ch not in threads:  # not shown there (snoozed before its first message)
                continue
            if not threads[ch]:
                actions.append(SkipReply(ch, kind))
                continue
            ref = g.ref(ch)
            view = View(now=facts.now, locale=target.locale, tz=target.timezone)
            in_digest = ref is not None and ref.in_digest
            actions.append(Reply(target, notice, view, in_digest, kind in BROADCAST))
        if kind == NoticeKind.REGRESSION:
            actions += _escalation(facts, keep=False)
    actions.append(DropNotices(len(g.notices)))
    return actions


def renders_own(facts: GroupFacts) -> bool:
    """Does the plan render the group's own message (so its counts are worth reading)?"""
    return any(isinstance(a, Post | Update) for a in plan_group(facts))


def plan_refresh(facts: GroupFacts) -> list[Action]:
    """After a human action: the group's existing messages re-rendered at once (a failed
    update is logged, never posted again); a digest that lists it is brought forward; an open
    group's escalation clock restarts."""
    g = facts.group
    by_channel = {tg.channel: tg for tg in facts.targets}
    actions: list[Action] = []
    for channel in g.messages:
        ref = g.ref(channel)
        assert ref is not None
        if ref.in_digest:
            actions.append(InDigest(channel, ref.digest, None, immediate=True))
            continue
        target = by_channel.get(channel, Destination(channel))
        actions.append(Update(target, (ref.channel, ref.ts), _view(facts, target), repost=False))
    if g.state == "open" and g.messages:
        actions += _escalation(facts, keep=True)
    return actions


def plan_promote(facts: GroupFacts, channel: str) -> list[Action]:
    """A digest line's "Post on its own": the group's own message in `channel`, which the
    digest line then links to; nothing when the group is not listed in a digest there."""
    ref = facts.group.ref(channel)
    if ref is None or not ref.in_digest:
        return []
    target = next((tg for tg in facts.targets if tg.channel == channel), Destination(channel))
    return [Post(target, _view(facts, target), promoted_from=ref.digest)]


def escalating(targets: Sequence[Destination]) -> list[Destination]:
    """The destinations that escalate: those with an on-call handle or rotation."""
    return [tg for tg in targets if tg.oncall or tg.rotation]


def plan_escalation(
    group: Group | None,
    targets: Sequence[Destination],
    people: Sequence[Sequence[str]],
    timings: Timings,
    now: float,
) -> list[Action]:
    """An escalation that is due: the notice the outbox posts in the thread (whom it mentions)
    and its repeat; cancelled when the group is gone, not open, or nobody is on call for it.
    `targets`: the escalating destinations; `people`: who is on call for each (its rotation)."""
    if group is None or group.state != "open" or not targets:
        return [CancelEscalation()]
    created = float(group.get("created") or now)
    regressed = float(group.get("regressed_at") or 0)
    episode = max(float(group.get("created") or 0), regressed)
    first = float(group.get("escalated_at") or 0) < episode  # this episode's first
    whos, fallbacks = [], []
    for tg, on_call in zip(targets, people, strict=True):
        who, fallback = escalation_mentions(on_call, tg.mention, first=first)
        whos.append(who)
        fallbacks.append(fallback)
    notice: dict[str, Any] = {
        "kind": NoticeKind.ESCALATION.value,
        "oncall": " ".join(dict.fromkeys(w for w in whos if w)),
        "minutes": unacked_minutes(created, regressed, now),
        "now": now,
    }
    fallback = " ".join(dict.fromkeys(f for f in fallbacks if f))
    if fallback:
        notice["fallback"] = fallback
    repeat = escalation_wait(targets, timings, first=False)
    return [QueueEscalation(notice, now + repeat if repeat is not None else None)]


def plan_digest(
    channel: str,
    num: int,
    message: str,
    groups: Sequence[Group],
    target: Destination,
    now: float,
    cause: tuple[str, str] = ("", ""),
) -> ShowDigest | None:
    """A digest due for an update (or its first post); None once its groups are gone.
    `message`: its stored "CHANNEL/TS" or ""; `cause`: what its groups share (long, short),
    see bot.notify.notifier.digest_cause."""
    if not groups:
        return None
    ref = MessageRef.parse(message, channel) if message else None
    view = View(now=now, locale=target.locale, tz=target.timezone)
    thread = (ref.channel, ref.ts) if ref is not None else None
    return ShowDigest(channel, num, thread, target, view, tuple(groups), *cause)
