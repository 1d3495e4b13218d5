"""ErrorReportingSync on real Redis, with the real client against the Error Reporting stand-in;
time is injected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import pytest
import redis
from google.cloud.errorreporting_v1beta1 import ErrorGroupServiceClient
from triage_sandbox.clock import FakeClock
from triage_sandbox.errorreporting_standin import ErrorReportingStandIn
from triage_sandbox.service import free_port

from bot.errorreporting import ErrorReportingSync, SyncPolicy, make_client
from tests.errorreporting.conftest import PROJECT

EG = "CJ3x"
NAME = f"projects/{PROJECT}/groups/{EG}"
POLICY = SyncPolicy(
    backoff_base_s=5,
    backoff_factor=2,
    backoff_max_s=600,
    jitter=0,
    give_up_after_s=3600,
    pulls_per_minute=30,
    pull_batch=10,
    check_interval_s=300,
    interval_s=0.01,
)


@dataclass
class Bot:
    """What the bot passes in: it records the callbacks' calls."""

    failures: list[tuple[str, str]] = field(default_factory=list)
    applied: list[tuple[str, str]] = field(default_factory=list)
    recovered: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def bot() -> Bot:
    return Bot()


class MakeSync(Protocol):
    def __call__(
        self,
        client: ErrorGroupServiceClient | None = None,
        policy: SyncPolicy = ...,
        **kw: Any,
    ) -> ErrorReportingSync: ...


@pytest.fixture
def make_sync(
    redis_client: redis.Redis,
    key_prefix: str,
    er_client: ErrorGroupServiceClient,
    clock: FakeClock,
    bot: Bot,
) -> Iterator[MakeSync]:
    made: list[ErrorReportingSync] = []

    def make(
        client: ErrorGroupServiceClient | None = None, policy: SyncPolicy = POLICY, **kw: Any
    ) -> ErrorReportingSync:
        kw.setdefault("apply", lambda gid, state: bot.applied.append((gid, state)))
        sync = ErrorReportingSync(
            redis_client,
            key_prefix,
            PROJECT,
            client or er_client,
            clock=clock,
            on_failure=lambda gid, msg: bot.failures.append((gid, msg)),
            on_recovered=lambda gid, msg: bot.recovered.append((gid, msg)),
            policy=policy,
            timeout=5,
            **kw,
        )
        made.append(sync)
        return sync

    yield make
    for sync in made:
        sync.stop()


def updates(standin: ErrorReportingStandIn) -> list[tuple[str, str | None, str]]:
    return [
        (r.name, r.resolution_status, r.code) for r in standin.requests if r.method == "UpdateGroup"
    ]


def gets(standin: ErrorReportingStandIn) -> list[str]:
    return [r.name for r in standin.requests if r.method == "GetGroup"]


# ---- push ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [("acknowledged", "ACKNOWLEDGED"), ("resolved", "RESOLVED"), ("snoozed", "MUTED")],
)
def test_slack_action_is_pushed(
    standin: ErrorReportingStandIn, make_sync, state: str, status: str
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()

    assert sync.enqueue("g1", EG, state) == "queued"
    assert standin.requests == []  # enqueue never calls the API

    assert sync.run_once() == 1
    assert standin.status(PROJECT, EG) == status
    assert updates(standin) == [(NAME, status, "OK")]
    assert sync.store.pending() == {}


def test_reopen_and_unsnooze_push_open(standin: ErrorReportingStandIn, make_sync: MakeSync) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    for state, status in [
        ("resolved", "RESOLVED"),
        ("open", "OPEN"),
        ("snoozed", "MUTED"),
        ("open", "OPEN"),
    ]:
        sync.enqueue("g1", EG, state)
        sync.run_once()
        assert standin.status(PROJECT, EG) == status
    assert [u[1] for u in updates(standin)] == ["RESOLVED", "OPEN", "MUTED", "OPEN"]


def test_latest_status_wins_and_same_status_is_a_noop(
    standin: ErrorReportingStandIn, make_sync
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    sync.enqueue("g1", EG, "acknowledged")
    sync.enqueue("g1", EG, "resolved")
    sync.run_once()
    assert updates(standin) == [(NAME, "RESOLVED", "OK")]

    assert sync.enqueue("g1", EG, "resolved") == "in_sync"
    assert sync.run_once() == 0
    assert len(updates(standin)) == 1


def test_status_already_set_in_error_reporting_is_not_written(
    standin: ErrorReportingStandIn, make_sync
) -> None:
    standin.add_group(PROJECT, EG, "RESOLVED")
    sync = make_sync()
    sync.enqueue("g1", EG, "resolved")
    sync.run_once()
    assert gets(standin) == [NAME]
    assert updates(standin) == []
    assert sync.store.pending() == {}


def test_tracking_issues_survive_the_push(
    standin: ErrorReportingStandIn, make_sync: MakeSync
) -> None:
    standin.add_group(PROJECT, EG, "OPEN", tracking_issues=("https://issues/42",))
    sync = make_sync()
    sync.enqueue("g1", EG, "acknowledged")
    sync.run_once()
    assert standin.tracking_issues(PROJECT, EG) == ["https://issues/42"]


# ---- failures --------------------------------------------------------------------------------


def test_api_down_keeps_the_work_retries_with_backoff_and_reports_once(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
    bot: Bot,
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    standin.down = True
    t0 = clock.now
    sync.enqueue("g1", EG, "resolved")

    report = sync.push_due()
    assert report.retrying == ["g1"]
    assert sync.store.pending() == {"g1": t0 + 5}
    assert len(bot.failures) == 1
    gid, message = bot.failures[0]
    assert gid == "g1" and "UNAVAILABLE" in message and "RESOLVED" in message

    clock.advance(4)  # not due yet: no call
    n = len(standin.requests)
    assert sync.push_due().attempts == 0
    assert len(standin.requests) == n

    clock.advance(1)
    assert sync.push_due().retrying == ["g1"]
    assert sync.store.pending() == {"g1": t0 + 5 + 10}  # doubled
    clock.advance(10)
    sync.push_due()
    assert sync.store.pending() == {"g1": t0 + 15 + 20}
    assert len(bot.failures) == 1  # reported once, not per attempt
    assert sync.store.job_fields("g1")["last_error"].startswith("UNAVAILABLE")

    standin.down = False
    clock.advance(20)
    assert sync.push_due().done == ["g1"]
    assert standin.status(PROJECT, EG) == "RESOLVED"
    assert sync.store.pending() == {}
    assert bot.recovered and bot.recovered[0][0] == "g1" and "4 attempts" in bot.recovered[0][1]


def test_update_failing_with_500_is_retried(
    standin: ErrorReportingStandIn, make_sync, clock: FakeClock, bot: Bot
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    standin.fail_next(2, grpc.StatusCode.INTERNAL, method="UpdateGroup")
    sync.enqueue("g1", EG, "acknowledged")
    sync.run_once()
    clock.advance(5)
    sync.run_once()
    clock.advance(10)
    sync.run_once()
    assert [u[2] for u in updates(standin)] == ["INTERNAL", "INTERNAL", "OK"]
    assert standin.status(PROJECT, EG) == "ACKNOWLEDGED"
    assert len(bot.failures) == 1 and "INTERNAL" in bot.failures[0][1]


def test_outbox_survives_a_restart(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
    bot: Bot,
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    dead = make_client(f"127.0.0.1:{free_port()}")  # nothing listens: the API is unreachable
    first = make_sync(client=dead)
    first.enqueue("g1", EG, "snoozed")
    assert first.run_once() == 1
    assert bot.failures and "UNAVAILABLE" in bot.failures[0][1]
    dead.transport.close()
    del first  # the replica is gone; Redis keeps the outbox

    clock.advance(5)
    second = make_sync()
    assert second.push_due().done == ["g1"]
    assert standin.status(PROJECT, EG) == "MUTED"


def test_permanent_error_is_dropped_and_reported(
    standin: ErrorReportingStandIn, make_sync, bot: Bot
) -> None:
    sync = make_sync()  # the stand-in has no such group: NOT_FOUND
    sync.enqueue("g1", "missing", "resolved")
    report = sync.push_due()
    assert report.dropped == ["g1"]
    assert sync.store.pending() == {}
    assert len(bot.failures) == 1 and "NOT_FOUND" in bot.failures[0][1]


def test_gives_up_after_max_age(
    standin: ErrorReportingStandIn, make_sync, clock: FakeClock, bot: Bot
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync(policy=SyncPolicy(jitter=0, backoff_base_s=10, give_up_after_s=60))
    standin.down = True
    sync.enqueue("g1", EG, "resolved")
    dropped: list[str] = []
    for _ in range(10):
        report = sync.push_due()
        dropped += report.dropped
        clock.advance(10)
    assert dropped == ["g1"]
    assert sync.store.pending() == {}
    assert len(bot.failures) == 2  # the first failure, then giving up
    assert "gave up" in bot.failures[1][1]


def test_a_leased_push_is_done_by_one_replica_and_taken_over_after_the_lease(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    a, b = make_sync(), make_sync()
    a.enqueue("g1", EG, "acknowledged")
    now = clock.now
    held = a.store.lease(a.store.due(now, 10), now, now + POLICY.lease_s, 2)  # a crashes holding it
    assert [j.gid for j in held] == ["g1"]

    assert b.push_due().attempts == 0
    assert updates(standin) == []
    clock.advance(POLICY.lease_s)
    assert b.push_due().done == ["g1"]
    assert a.push_due().attempts == 0
    assert updates(standin) == [(NAME, "ACKNOWLEDGED", "OK")]


def test_a_newer_status_queued_during_a_push_is_pushed_after_it(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    sync.enqueue("g1", EG, "acknowledged")
    now = clock.now
    (job,) = sync.store.lease(sync.store.due(now, 10), now, now + 60, 2)
    sync.enqueue("g1", EG, "resolved")  # while the first push is in flight
    assert sync.store.pending() == {"g1": now + 60}  # waits for the lease, no second worker
    assert sync.store.finish(job, "done", now).result == "superseded"
    assert sync.store.pending() == {"g1": now}
    sync.push_due()
    assert standin.status(PROJECT, EG) == "RESOLVED"
    assert sync.store.pending() == {}


# ---- pull ------------------------------------------------------------------------------------


def test_console_change_is_pulled_back(
    standin: ErrorReportingStandIn, make_sync, clock: FakeClock, bot: Bot
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    sync.link("g1", EG, "open")
    assert sync.run_once() == 1  # checked at once (never checked before): nothing changed
    assert gets(standin) == [NAME] and bot.applied == []

    standin.set_status(PROJECT, EG, "RESOLVED")
    clock.advance(POLICY.check_interval_s - 1)
    assert sync.run_once() == 0  # checked too recently
    clock.advance(1)
    assert sync.pull() == [("g1", "resolved")]
    assert bot.applied == [("g1", "resolved")]

    clock.advance(POLICY.check_interval_s)
    assert sync.pull() == []  # no change since
    assert bot.applied == [("g1", "resolved")]


@pytest.mark.parametrize(
    ("status", "state"),
    [("ACKNOWLEDGED", "acknowledged"), ("MUTED", "snoozed"), ("RESOLVED", "resolved")],
)
def test_first_check_pulls_a_status_set_before_the_link(
    standin: ErrorReportingStandIn,
    make_sync,
    status: str,
    state: str,
) -> None:
    standin.add_group(PROJECT, EG, status)
    sync = make_sync()
    sync.link("g1", EG, "open")
    assert sync.pull() == [("g1", state)]


def test_no_ping_pong(
    standin: ErrorReportingStandIn, make_sync: MakeSync, clock: FakeClock
) -> None:
    """The bot applies a pulled status, which (like any state change) enqueues a push: the push
    of the status just pulled is dropped at once."""
    standin.add_group(PROJECT, EG, "OPEN")
    results: list[str] = []

    def apply(gid: str, state: str) -> None:  # what the bot does: a state change enqueues
        results.append(sync.enqueue(gid, EG, state))

    sync = make_sync(apply=apply)
    sync.link("g1", EG, "open")
    sync.run_once()
    for status in ["MUTED", "OPEN", "ACKNOWLEDGED", "RESOLVED"]:
        standin.set_status(PROJECT, EG, status)
        clock.advance(POLICY.check_interval_s)
        sync.run_once()
        sync.run_once()
    assert results == ["in_sync"] * 4
    assert updates(standin) == []
    assert sync.store.pending() == {}

    # a real change in Slack afterwards is still pushed
    assert sync.enqueue("g1", EG, "open") == "queued"
    sync.run_once()
    assert updates(standin) == [(NAME, "OPEN", "OK")]


def test_a_pending_push_wins_over_a_pulled_status(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
    bot: Bot,
) -> None:
    standin.add_group(PROJECT, EG, "OPEN")
    sync = make_sync()
    sync.link("g1", EG, "open")
    sync.run_once()
    standin.set_status(PROJECT, EG, "MUTED")  # console
    sync.enqueue("g1", EG, "resolved")  # Slack, while the update fails
    standin.fail_next(1, grpc.StatusCode.UNAVAILABLE, method="UpdateGroup")
    clock.advance(POLICY.check_interval_s)
    sync.run_once()  # push fails; pull sees MUTED but the bot's push is pending
    assert bot.applied == []
    clock.advance(5)
    sync.run_once()
    assert standin.status(PROJECT, EG) == "RESOLVED"
    clock.advance(POLICY.check_interval_s)
    assert sync.pull() == []
    assert bot.applied == []


def test_a_read_overtaken_by_a_push_is_not_applied(
    standin: ErrorReportingStandIn, make_sync: MakeSync, clock: FakeClock
) -> None:
    """Replica A reads the group (OPEN) while replica B's push of RESOLVED lands: A's read is
    older than the push and must not undo it."""
    standin.add_group(PROJECT, EG, "OPEN")
    a, b = make_sync(), make_sync()
    a.link("g1", EG, "open")
    read_at = clock.now
    stale = a.api.get_status(EG)
    clock.advance(0.2)
    b.enqueue("g1", EG, "resolved")
    assert b.push_due().done == ["g1"]
    clock.advance(0.2)
    assert a.store.pulled("g1", EG, stale, clock.now, read_at) == "raced"
    clock.advance(POLICY.check_interval_s)
    assert a.pull() == []  # the next read sees RESOLVED, which the bot already has
    assert standin.status(PROJECT, EG) == "RESOLVED"


def test_pull_is_rate_limited_oldest_checked_first(
    standin: ErrorReportingStandIn,
    make_sync,
    clock: FakeClock,
) -> None:
    clock.now = 1_700_000_080.0  # 20 s before a minute boundary
    policy = SyncPolicy(jitter=0, pulls_per_minute=10, pull_batch=4, check_interval_s=60)
    a, b = make_sync(policy=policy), make_sync(policy=policy)
    for i in range(25):
        standin.add_group(PROJECT, f"e{i:02}")
        a.store.link(f"g{i:02}", f"e{i:02}", "OPEN", check_at=float(i))  # g00 oldest
    for _ in range(5):  # two replicas, many rounds, one minute
        a.run_once()
        b.run_once()
        clock.advance(1)
    names = gets(standin)
    assert names == [f"projects/{PROJECT}/groups/e{i:02}" for i in range(10)]

    clock.advance(15)  # the next minute: 10 more, the oldest-checked next
    for _ in range(5):
        a.run_once()
        b.run_once()
    assert gets(standin)[10:] == [f"projects/{PROJECT}/groups/e{i:02}" for i in range(10, 20)]
    assert a.store.calls_in_minute(clock.now) == 10


def test_pushes_spend_the_same_budget(
    standin: ErrorReportingStandIn, make_sync, clock: FakeClock
) -> None:
    clock.now = 1_700_000_080.0
    policy = SyncPolicy(jitter=0, pulls_per_minute=5, pull_batch=10)
    sync = make_sync(policy=policy)
    for i in range(10):
        standin.add_group(PROJECT, f"e{i}")
        sync.link(f"g{i}", f"e{i}")
    standin.add_group(PROJECT, EG)
    sync.enqueue("gx", EG, "resolved")
    sync.run_once()  # the push (2 calls, never held back) leaves 3 for the pull
    assert len(updates(standin)) == 1
    assert len(gets(standin)) == 1 + 3


def test_pull_stops_while_the_api_is_down(
    standin: ErrorReportingStandIn, make_sync: MakeSync
) -> None:
    sync = make_sync()
    for i in range(5):
        standin.add_group(PROJECT, f"e{i}")
        sync.link(f"g{i}", f"e{i}")
    standin.down = True
    sync.run_once()
    assert len(standin.requests) == 1


def test_groups_gone_from_error_reporting_are_unlinked(
    standin: ErrorReportingStandIn, make_sync
) -> None:
    standin.add_group(PROJECT, "kept")
    sync = make_sync()
    sync.link("g1", "missing")
    sync.link("g2", "kept")
    sync.run_once()
    assert set(sync.store.linked()) == {"g2"}


def test_a_failing_apply_callback_does_not_stop_the_round(
    standin: ErrorReportingStandIn, make_sync, bot: Bot
) -> None:
    def apply(gid: str, state: str) -> None:
        bot.applied.append((gid, state))
        raise RuntimeError("slack is down")

    sync = make_sync(apply=apply)
    for i in range(3):
        standin.add_group(PROJECT, f"e{i}", "RESOLVED")
        sync.link(f"g{i}", f"e{i}")
    sync.run_once()
    assert sorted(bot.applied) == [("g0", "resolved"), ("g1", "resolved"), ("g2", "resolved")]


# ---- keys and thread -------------------------------------------------------------------------


def test_every_key_has_a_ttl_and_the_hash_tag(
    standin: ErrorReportingStandIn,
    make_sync,
    redis_client: redis.Redis,
    key_prefix: str,
) -> None:
    standin.add_group(PROJECT, EG)
    standin.down = True
    sync = make_sync()
    sync.link("g1", EG)
    sync.enqueue("g2", EG, "resolved")
    sync.run_once()
    keys = [k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}:*")]
    assert len(keys) >= 5  # outbox, job, linked, 2 links, calls counter
    for key in keys:
        assert key.startswith(f"{key_prefix}:ers:{{{key_prefix}.ers}}:")
        assert redis_client.ttl(key) > 0, key


def test_thread_pushes_in_the_background(
    standin: ErrorReportingStandIn, make_sync: MakeSync
) -> None:
    standin.add_group(PROJECT, EG)
    sync = make_sync()
    sync.start()
    sync.enqueue("g1", EG, "acknowledged")
    deadline = time.monotonic() + 5
    while standin.status(PROJECT, EG) != "ACKNOWLEDGED" and time.monotonic() < deadline:
        time.sleep(0.01)
    sync.stop()
    assert standin.status(PROJECT, EG) == "ACKNOWLEDGED"
