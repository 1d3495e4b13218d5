"""The sender against the Slack stand-in: Retry-After honoured, 5xx and timeouts retried with
backoff, typed errors, per-channel pacing through the Redis token bucket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import redis
from triage_sandbox.clock import FakeClock
from triage_sandbox.slack_standin import SlackStandIn

from bot.metrics import Metrics
from bot.notify.pacing import ChannelPacer
from bot.notify.sender import (
    ChannelUnavailable,
    MessageGone,
    RateLimited,
    Sender,
    SlackError,
    make_client,
)
from bot.store.redis_store import RedisStore
from tests.notify.conftest import T0, TOKEN


def _sender(slack: SlackStandIn, **kw: object) -> Sender:
    return Sender(make_client(TOKEN, slack.api_url, **kw))  # type: ignore[arg-type]


def test_429_retry_after_is_honoured(slack: SlackStandIn) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=1)
    posted = _sender(slack).post("C0ALERTS", "hello")
    calls = slack.calls_for("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0  # waited Retry-After before retrying
    assert [m["ts"] for m in slack.messages("C0ALERTS")] == [posted.ts]


def test_429_from_the_channel_rate_limit_is_waited_out(slack: SlackStandIn) -> None:
    slack.set_channel_rate_limit(True, per_second=1.0, burst=1)
    sender = _sender(slack)
    sender.post("C0ALERTS", "one")
    sender.post("C0ALERTS", "two")
    statuses = [c.status for c in slack.calls_for("chat.postMessage")]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    assert len(slack.messages("C0ALERTS")) == 2


def test_still_rate_limited_after_the_retries_is_a_typed_error(slack: SlackStandIn) -> None:
    slack.inject("chat.update", status=429, retry_after=0, times=2)
    metrics = Metrics()
    sender = Sender(make_client(TOKEN, slack.api_url, max_retries=1), metrics=metrics)
    with pytest.raises(RateLimited):
        sender.update("C0ALERTS", "1.0", "x", [])
    assert (
        metrics.value("triage_slack_calls_total", method="chat.update", result="ratelimited") == 1
    )
    assert metrics.value("triage_slack_calls_total", method="chat.update", result="ok") == 0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(slack: SlackStandIn, status: int) -> None:
    slack.inject("chat.postMessage", status=status, times=2)
    _sender(slack).post("C0ALERTS", "hello")
    assert [c.status for c in slack.calls_for("chat.postMessage")] == [status, status, 200]
    assert len(slack.messages("C0ALERTS")) == 1


def test_errors_are_typed(slack: SlackStandIn) -> None:
    sender = _sender(slack)
    with pytest.raises(ChannelUnavailable) as exc:
        sender.post("C0GENERAL", "hello")
    assert exc.value.error == "not_in_channel"
    with pytest.raises(ChannelUnavailable):
        sender.post("C0NOSUCH", "hello")
    with pytest.raises(MessageGone):
        sender.update("C0ALERTS", "123.456", "x", [])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: every request times out."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/api/"
    stop.set()
    th.join(2)
    for c in conns:
        c.close()
    srv.close()


def test_timeouts_are_retried_then_reported(silent_server: str) -> None:
    sender = Sender(make_client(TOKEN, silent_server, max_retries=1, timeout=1))
    with pytest.raises(SlackError) as exc:
        sender.post("C0ALERTS", "hello")
    assert exc.value.error.startswith("connection_error")
    assert not isinstance(exc.value, RateLimited)


def test_posts_are_paced_per_channel_by_the_shared_bucket(
    slack: SlackStandIn, redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = FakeClock(T0)
    store = RedisStore(redis_client, key_prefix)
    pacer = ChannelPacer(store, clock, rate=1.0, burst=3)
    # two replicas, one bucket
    a = Sender(make_client(TOKEN, slack.api_url), pacer, sleep=clock.advance)
    b = Sender(make_client(TOKEN, slack.api_url), pacer, sleep=clock.advance)
    start = clock.now
    for i in range(6):
        (a if i % 2 else b).post("C0ALERTS", f"m{i}")
    assert clock.now - start == pytest.approx(3.0)  # burst of 3, then 1 per second
    a.post("C0TEAM", "other channel")  # its own bucket: no wait
    assert clock.now - start == pytest.approx(3.0)
    assert len(slack.messages("C0ALERTS")) == 6


def test_usergroup_members_from_the_standin() -> None:
    from triage_sandbox.slack_standin import Usergroup

    groups = {"S0ONCALL": Usergroup("oncall", "On-call", ("U1", "U2"))}
    with SlackStandIn("secret", TOKEN, usergroups=groups) as slack:
        assert _sender(slack).usergroup_members("S0ONCALL") == ["U1", "U2"]
        (call,) = slack.calls_for("usergroups.users.list")
        assert call.args["usergroup"] == "S0ONCALL"
        assert slack.warnings == []
        with pytest.raises(SlackError) as err:
            _sender(slack).usergroup_members("S0NONE")
        assert err.value.error == "no_such_subteam"
