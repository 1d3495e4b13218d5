"""The notifier's decisions (bot.notify.plan), table-driven: facts in, actions out. No Redis,
no Slack: each row is a group (state, stored messages, notices), its destinations, the digest
admission and digest state the store reported, the timings and `now`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.models import Destination, Group, Timings
from bot.notify.plan import (
    Action,
    CancelEscalation,
    DropNotices,
    GroupFacts,
    InDigest,
    JoinDigest,
    Listed,
    Post,
    QueueEscalation,
    Reply,
    ScheduleEscalation,
    ShowDigest,
    SkipReply,
    Update,
    plan_digest,
    plan_escalation,
    plan_group,
    plan_promote,
    plan_refresh,
    renders_own,
)
from bot.notify.view import View

NOW = 1_764_000_000.0
GID = "fp1-aaaa1111"
ONCALL = "<!subteam^S0ONCALL>"

A = Destination("C0A")
B = Destination("C0B", locale="ja", timezone="Asia/Tokyo")
PAGED = Destination("C0A", oncall=(ONCALL,))  # escalates after the default 15 min
FAST = Destination("C0A", oncall=("U2",), escalate_after_s=300, repeat_interval_s=0)
QUIET = Destination("C0A", oncall=("U2",), escalate_after_s=0)  # escalation off here
FALLBACK = Destination("C0GONE")  # posted in the default channel once (not a member)

REGRESSION = {"kind": "regression", "by": "U7", "at": NOW - 600, "now": NOW}
REVISION = {"kind": "new_revision", "revision": "svc-00002", "now": NOW}
SPIKE = {"kind": "spike", "rate": 13.2, "baseline": 2.0, "now": NOW}


def group(
    state: str = "open",
    messages: Mapping[str, str] | None = None,
    notices: Sequence[dict[str, Any]] = (),
    last: float = NOW,
    **fields: str,
) -> Group:
    return Group(
        id=GID,
        title="KeyError: 'total'",
        service="checkout",
        state=state,
        count=3,
        first=NOW - 3600,
        last=last,
        ver=4,
        messages=dict(messages or {}),
        notices=list(notices),
        fields=dict(fields),
    )


def view(target: Destination = A, minutes: Sequence[int] = (), hours: Sequence[int] = ()) -> View:
    return View(now=NOW, locale=target.locale, tz=target.timezone, minutes=minutes, hours=hours)


def bare(target: Destination = A) -> View:
    """The view of a thread reply: no counts."""
    return View(now=NOW, locale=target.locale, tz=target.timezone)


@dataclass(frozen=True)
class Row:
    name: str
    group: Group
    targets: Sequence[Destination]
    expected: list[Action]
    admission: Mapping[str, int] = field(default_factory=dict)
    listed: Mapping[str, Listed] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    digests: bool = True
    counts: tuple[Sequence[int], Sequence[int]] = ((), ())

    def facts(self) -> GroupFacts:
        return GroupFacts(
            self.group,
            self.targets,
            self.timings,
            NOW,
            self.digests,
            self.admission,
            self.listed,
            *self.counts,
        )


ESC_15 = ScheduleEscalation(NOW + 900, keep=True)
ESC_5 = ScheduleEscalation(NOW + 300, keep=True)

ROWS = [
    # ---- a first message ----
    Row("new: its own message", group(), [A], [Post(A, view())], admission={"C0A": 0}),
    Row(
        "new, storm control off: admission not asked",
        group(),
        [A],
        [Post(A, view())],
        digests=False,
    ),
    Row(
        "new, storm control off: a digest number is ignored",
        group(),
        [A],
        [Post(A, view())],
        admission={"C0A": 3},
        digests=False,
    ),
    Row("new, on-call: escalation in 15 min", group(), [PAGED], [Post(PAGED, view(PAGED)), ESC_15]),
    Row("new, per-target escalation 5 min", group(), [FAST], [Post(FAST, view(FAST)), ESC_5]),
    Row("new, escalation off for the target", group(), [QUIET], [Post(QUIET, view(QUIET))]),
    Row(
        "new, escalate_after from the timings",
        group(),
        [PAGED],
        [Post(PAGED, view(PAGED)), ScheduleEscalation(NOW + 60, keep=True)],
        timings=Timings(escalate_after=60),
    ),
    Row(
        "new, counts go into its view",
        group(),
        [A],
        [Post(A, view(minutes=(0, 2, 5), hours=(7,)))],
        counts=((0, 2, 5), (7,)),
    ),
    Row(
        "new in a storm: a digest line, its escalation still scheduled",
        group(),
        [PAGED],
        [JoinDigest("C0A", 3), ESC_15],
        admission={"C0A": 3},
    ),
    Row("new, snoozed: nothing shown", group("snoozed"), [A], []),
    Row(
        "new, acknowledged (it was acked from the digest): its own message, no escalation",
        group("acknowledged"),
        [PAGED],
        [Post(PAGED, view(PAGED))],
    ),
    Row(
        "two destinations: a post and a digest line, in the destinations' order",
        group(),
        [A, B],
        [Post(A, view()), JoinDigest("C0B", 2)],
        admission={"C0A": 0, "C0B": 2},
    ),
    # ---- its own message exists ----
    Row(
        "shown: updated in place",
        group(messages={"C0A": "C0A/1700.1"}),
        [A],
        [Update(A, ("C0A", "1700.1"), view())],
    ),
    Row(
        "shown, on-call: the escalation only if a deleted message is posted again",
        group(messages={"C0A": "C0A/1700.1"}),
        [PAGED],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED)), ScheduleEscalation(NOW + 900, True, True)],
    ),
    Row(
        "shown as a bare ts (stored by an old version): the destination's channel",
        group(messages={"C0A": "1700.1"}),
        [A],
        [Update(A, ("C0A", "1700.1"), view())],
    ),
    Row(
        "shown in the default channel after a fallback: updated there",
        group(messages={"C0GONE": "C0ALERTS/1700.1"}),
        [FALLBACK],
        [Update(FALLBACK, ("C0ALERTS", "1700.1"), view(FALLBACK))],
    ),
    Row(
        "shown, snoozed: updated (it says snoozed), no escalation",
        group("snoozed", messages={"C0A": "C0A/1700.1"}),
        [PAGED],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED))],
    ),
    Row(
        "shown, resolved: updated, no escalation",
        group("resolved", messages={"C0A": "C0A/1700.1"}),
        [PAGED],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED))],
    ),
    Row(
        "shown in one channel, new in another",
        group(messages={"C0A": "C0A/1700.1"}),
        [PAGED, B],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED)), Post(B, view(B)), ESC_15],
        admission={"C0B": 0},
    ),
    # ---- a digest lists it ----
    Row(
        "listed, the digest still open: touched, replies in its thread",
        group(messages={"C0A": "dg:2"}),
        [A],
        [InDigest("C0A", 2, ("C0A", "1690.5"))],
        listed={"C0A": Listed(2, ("C0A", "1690.5"))},
    ),
    Row(
        "listed, the digest not posted yet",
        group(messages={"C0A": "dg:2"}),
        [A],
        [InDigest("C0A", 2, None)],
        listed={"C0A": Listed(2)},
    ),
    Row(
        "listed, the storm over and it recurs: its own message, the digest links to it",
        group(messages={"C0A": "dg:2"}, last=NOW),
        [PAGED],
        [Post(PAGED, view(PAGED), promoted_from=2), ESC_15],
        listed={"C0A": Listed(2, ("C0A", "1690.5"), closed_at=NOW - 10)},
    ),
    Row(
        "listed, the storm over, but it is part of the digest's outage: stays a line",
        group(messages={"C0A": "dg:2"}, last=NOW),
        [A],
        [InDigest("C0A", 2, ("C0A", "1690.5"))],
        listed={"C0A": Listed(2, ("C0A", "1690.5"), closed_at=NOW - 10, in_candidate=True)},
    ),
    Row(
        "listed, the storm over, no recurrence since: stays a line",
        group(messages={"C0A": "dg:2"}, last=NOW - 20),
        [A],
        [InDigest("C0A", 2, ("C0A", "1690.5"))],
        listed={"C0A": Listed(2, ("C0A", "1690.5"), closed_at=NOW - 10)},
    ),
    Row(
        "listed, a later digest opened since (closed at 0): its own message",
        group(messages={"C0A": "dg:2"}),
        [A],
        [Post(A, view(), promoted_from=2)],
        listed={"C0A": Listed(2, None, closed_at=0.0)},
    ),
    Row(
        "listed, storm control off: still a line of its digest",
        group(messages={"C0A": "dg:2"}),
        [A],
        [InDigest("C0A", 2, None)],
        digests=False,
    ),
    # ---- notices ----
    Row(
        "a regression: broadcast reply, then the escalation clock restarts",
        group(messages={"C0A": "C0A/1700.1"}, notices=[REGRESSION]),
        [PAGED],
        [
            Update(PAGED, ("C0A", "1700.1"), view(PAGED)),
            ScheduleEscalation(NOW + 900, True, True),
            Reply(PAGED, REGRESSION, bare(PAGED), broadcast=True),
            ScheduleEscalation(NOW + 900, keep=False),
            DropNotices(1),
        ],
    ),
    Row(
        "a new revision: a reply in the thread, not broadcast",
        group(messages={"C0A": "C0A/1700.1"}, notices=[REVISION]),
        [A],
        [Update(A, ("C0A", "1700.1"), view()), Reply(A, REVISION, bare()), DropNotices(1)],
    ),
    Row(
        "notices on a new group: replies under the message posted just before",
        group(notices=[SPIKE]),
        [A],
        [Post(A, view()), Reply(A, SPIKE, bare()), DropNotices(1)],
    ),
    Row(
        "notices in each destination, notice by notice",
        group(messages={"C0A": "C0A/1700.1", "C0B": "C0B/1700.2"}, notices=[REVISION, SPIKE]),
        [A, B],
        [
            Update(A, ("C0A", "1700.1"), view()),
            Update(B, ("C0B", "1700.2"), view(B)),
            Reply(A, REVISION, bare()),
            Reply(B, REVISION, bare(B)),
            Reply(A, SPIKE, bare()),
            Reply(B, SPIKE, bare(B)),
            DropNotices(2),
        ],
    ),
    Row(
        "a digest line's notice: in the digest's thread, naming the group",
        group(messages={"C0A": "dg:2"}, notices=[SPIKE]),
        [A],
        [
            InDigest("C0A", 2, ("C0A", "1690.5")),
            Reply(A, SPIKE, bare(), in_digest=True),
            DropNotices(1),
        ],
        listed={"C0A": Listed(2, ("C0A", "1690.5"))},
    ),
    Row(
        "a digest line's notice before the digest is posted: skipped (logged)",
        group(messages={"C0A": "dg:2"}, notices=[SPIKE]),
        [A],
        [InDigest("C0A", 2, None), SkipReply("C0A", "spike"), DropNotices(1)],
        listed={"C0A": Listed(2)},
    ),
    Row(
        "a new digest line has no thread yet: its notices are skipped",
        group(notices=[REVISION]),
        [A],
        [JoinDigest("C0A", 4), SkipReply("C0A", "new_revision"), DropNotices(1)],
        admission={"C0A": 4},
    ),
    Row(
        "promoted after the storm: its notice under its new message, still named as a line",
        group(messages={"C0A": "dg:2"}, notices=[SPIKE]),
        [A],
        [Post(A, view(), promoted_from=2), Reply(A, SPIKE, bare(), in_digest=True), DropNotices(1)],
        listed={"C0A": Listed(2, ("C0A", "1690.5"), closed_at=NOW - 10)},
    ),
    Row(
        "snoozed before its first message: no reply, the notice is dropped",
        group("snoozed", notices=[REVISION]),
        [A],
        [DropNotices(1)],
    ),
    Row(
        "a regression with escalation off: no schedule",
        group(messages={"C0A": "C0A/1700.1"}, notices=[REGRESSION]),
        [A],
        [
            Update(A, ("C0A", "1700.1"), view()),
            Reply(A, REGRESSION, bare(), broadcast=True),
            DropNotices(1),
        ],
    ),
    # ---- merged into another group ----
    Row(
        "merged: nothing shown", group(messages={"C0A": "C0A/1700.1"}, merged_into="fp1-b"), [A], []
    ),
    Row(
        "merged: its notices are dropped",
        group(notices=[SPIKE, REVISION], merged_into="fp1-b"),
        [A],
        [DropNotices(2)],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_plan_group(row: Row) -> None:
    assert plan_group(row.facts()) == row.expected


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_counts_are_read_only_for_its_own_messages(row: Row) -> None:
    own = any(isinstance(a, Post | Update) for a in row.expected)
    assert renders_own(row.facts()) is own


REFRESH = [
    (
        "own message, open: updated (never posted again), the escalation clock restarts",
        group(messages={"C0A": "C0A/1700.1"}),
        [PAGED],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED), repost=False), ESC_15],
    ),
    (
        "acknowledged: updated, no escalation",
        group("acknowledged", messages={"C0A": "C0A/1700.1"}),
        [PAGED],
        [Update(PAGED, ("C0A", "1700.1"), view(PAGED), repost=False)],
    ),
    (
        "a digest line: the digest brought forward at once",
        group(messages={"C0A": "dg:3"}),
        [A],
        [InDigest("C0A", 3, None, immediate=True)],
    ),
    (
        "a message in a channel it no longer routes to: updated with that channel's defaults",
        group("resolved", messages={"C0OLD": "C0OLD/1600.1", "C0A": "dg:3"}),
        [A],
        [
            Update(Destination("C0OLD"), ("C0OLD", "1600.1"), view(), repost=False),
            InDigest("C0A", 3, None, immediate=True),
        ],
    ),
    ("never shown: nothing", group(), [PAGED], []),
]


@pytest.mark.parametrize(("name", "g", "targets", "expected"), REFRESH, ids=[r[0] for r in REFRESH])
def test_plan_refresh(
    name: str, g: Group, targets: list[Destination], expected: list[Action]
) -> None:
    assert plan_refresh(GroupFacts(g, targets, Timings(), NOW)) == expected


def test_plan_promote() -> None:
    listed = group(messages={"C0A": "dg:2", "C0B": "C0B/1.2"})
    facts = GroupFacts(listed, [A, B], Timings(), NOW)
    assert plan_promote(facts, "C0A") == [Post(A, view(), promoted_from=2)]
    assert plan_promote(facts, "C0B") == []  # it has its own message there
    assert plan_promote(facts, "C0X") == []
    elsewhere = GroupFacts(group(messages={"C0X": "dg:5"}), [A], Timings(), NOW)
    assert plan_promote(elsewhere, "C0X") == [Post(Destination("C0X"), view(), promoted_from=5)]


ROTA = Destination("C0A", team="payments", oncall=(ONCALL,), rotation=True)
ESCALATIONS = [
    ("group gone", None, [PAGED], [()], NOW, [CancelEscalation()]),
    ("acknowledged", group("acknowledged"), [PAGED], [()], NOW, [CancelEscalation()]),
    ("nobody to escalate to", group(), [], [], NOW, [CancelEscalation()]),
    (
        "first: the handle, minutes since creation, the repeat in 4 h",
        group(created=str(NOW - 900)),
        [PAGED],
        [()],
        NOW,
        [
            QueueEscalation(
                {"kind": "escalation", "oncall": ONCALL, "minutes": 15, "now": NOW},
                NOW + 4 * 3600,
            )
        ],
    ),
    (
        "first after a regression: minutes since the regression",
        group(created=str(NOW - 86400), regressed_at=str(NOW - 300), escalated_at=str(NOW - 80000)),
        [FAST],
        [()],
        NOW,
        [
            QueueEscalation(
                {"kind": "escalation", "oncall": "<@U2>", "minutes": 5, "now": NOW}, None
            )
        ],
    ),
    (
        "first, a rotation: the person on call, no fallback yet",
        group(created=str(NOW - 900)),
        [ROTA],
        [("U9",)],
        NOW,
        [
            QueueEscalation(
                {"kind": "escalation", "oncall": "<@U9>", "minutes": 15, "now": NOW},
                NOW + 4 * 3600,
            )
        ],
    ),
    (
        "a repeat, a rotation: the person, then the team's handle",
        group(created=str(NOW - 4 * 3600), escalated_at=str(NOW - 3600)),
        [ROTA],
        [("U9",)],
        NOW,
        [
            QueueEscalation(
                {
                    "kind": "escalation",
                    "oncall": "<@U9>",
                    "minutes": 240,
                    "now": NOW,
                    "fallback": ONCALL,
                },
                NOW + 4 * 3600,
            )
        ],
    ),
    (
        "a rotation with nobody on call: the handle",
        group(created=str(NOW - 900)),
        [ROTA],
        [()],
        NOW,
        [
            QueueEscalation(
                {"kind": "escalation", "oncall": ONCALL, "minutes": 15, "now": NOW},
                NOW + 4 * 3600,
            )
        ],
    ),
    (
        "two destinations with the same handle: mentioned once; the soonest repeat",
        group(created=str(NOW - 900)),
        [PAGED, Destination("C0B", oncall=(ONCALL,), repeat_interval_s=600)],
        [(), ()],
        NOW,
        [
            QueueEscalation(
                {"kind": "escalation", "oncall": ONCALL, "minutes": 15, "now": NOW}, NOW + 600
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "g", "targets", "people", "now", "expected"),
    ESCALATIONS,
    ids=[r[0] for r in ESCALATIONS],
)
def test_plan_escalation(
    name: str,
    g: Group | None,
    targets: list[Destination],
    people: list[tuple[str, ...]],
    now: float,
    expected: list[Action],
) -> None:
    assert plan_escalation(g, targets, people, Timings(), now) == expected


def test_plan_digest() -> None:
    g = group()
    assert plan_digest("C0A", 2, "", [], A, NOW) is None  # its groups are gone
    new = plan_digest("C0A", 2, "", [g], B, NOW, ("19 new errors ...", "14 mention ..."))
    assert new == ShowDigest(
        "C0A", 2, None, B, bare(B), (g,), "19 new errors ...", "14 mention ..."
    )
    shown = plan_digest("C0A", 2, "C0ALERTS/1690.5", [g], A, NOW)
    assert shown == ShowDigest("C0A", 2, ("C0ALERTS", "1690.5"), A, bare(), (g,))
