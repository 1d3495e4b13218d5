"""One group's failure is that group's problem: the others claimed in the same pass still post,
the failing one stays in the outbox and is retried alone, backing off, with one traceback."""

from __future__ import annotations

import logging

import pytest

from bot.models import Destination
from bot.store.keys import shard_of
from tests.notify.conftest import Rig, replies, top_posts

IDS = [f"fp1-{i:08x}" for i in range(40)]
# The failing group is claimed first (lowest shard): without isolation the others would share
# its fate in the same pass.
BAD = min(IDS, key=shard_of)
GOOD = [g for g in IDS if shard_of(g) > shard_of(BAD)][:3]


def _failures(rig: Rig, stage: str) -> float:
    assert rig.notifier is not None
    return rig.notifier.metrics.value("triage_notify_failures_total", stage=stage)


def _corrupt(rig: Rig, gid: str, field: str, value: str) -> None:
    rig.store.r.hset(rig.store.keys.group(gid), field, value)


def _posted_groups(rig: Rig) -> list[str]:
    """The groups that one pass posted."""
    posts = top_posts(rig.run())
    return sorted(g for g in IDS if any(f"`{g}`" in str(p.args) for p in posts))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("regressed_at", "yesterday"),  # rendering the group's blocks raises ValueError
        ("count", "many"),  # loading the group raises: its batch is loaded one by one
    ],
)
def test_a_group_that_fails_to_render_fails_alone_and_is_retried_backing_off(
    rig: Rig, field: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    for gid in [BAD, *GOOD]:
        rig.record(gid)
    _corrupt(rig, BAD, field, value)
    assert rig.notifier is not None
    with caplog.at_level(logging.WARNING, logger="bot.notify.notifier"):
        assert _posted_groups(rig) == sorted(GOOD)
        assert _failures(rig, "render") == 1
        assert rig.store.due_at(BAD) == rig.clock.now + 10  # still in the outbox, soon again
        assert rig.run() == []
        rig.clock.advance(10)
        assert rig.run() == []  # fails again: twice the delay
        assert _failures(rig, "render") == 2
        assert rig.store.due_at(BAD) == rig.clock.now + 20
        for _ in range(10):  # it keeps failing: the delay grows to at most 5 minutes
            rig.clock.advance(rig.store.due_at(BAD) - rig.clock.now)  # type: ignore[operator]
            assert rig.run() == []
        assert rig.store.due_at(BAD) == rig.clock.now + 300
    assert _failures(rig, "render") == 12
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and BAD in tracebacks[0].getMessage()
    assert sum(BAD in r.getMessage() for r in caplog.records) == 12  # one line per failure
    rig.store.r.hdel(rig.store.keys.group(BAD), field)  # repaired: it posts at its next try
    rig.clock.advance(300)
    assert _posted_groups(rig) == [BAD]
    assert rig.store.due_at(BAD) is None


def test_an_escalation_that_fails_fails_alone(rig: Rig) -> None:
    rig.targets["*"] = [Destination("C0ALERTS", oncall=("U2",), escalate_after_s=300)]
    for gid in [BAD, *GOOD]:
        rig.record(gid)
    assert len(top_posts(rig.run())) == 4
    _corrupt(rig, BAD, "created", "long ago")  # read by the escalation only
    rig.clock.advance(300)
    calls = rig.run()
    escalated = sorted(g for g in IDS for c in replies(calls) if g in str(c.args))
    assert len(replies(calls)) == 3 and BAD not in escalated
    assert _failures(rig, "escalation") == 1
    rig.store.r.hdel(rig.store.keys.group(BAD), "created")
    rig.clock.advance(10)  # retried after the first delay, not after its 120 s lease
    [reply] = replies(rig.run())
    assert "still unacknowledged" in reply.args["text"]


def test_every_stage_is_exposed_at_zero(rig: Rig) -> None:
    assert rig.notifier is not None
    text = rig.notifier.metrics.render().decode()
    for stage in ("render", "admit", "digest", "escalation", "auto_resolve"):
        assert f'triage_notify_failures_total{{stage="{stage}"}} 0.0' in text
