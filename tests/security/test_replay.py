"""A signed request replayed within Slack's five-minute window is not applied again: the bot
remembers each interaction's trigger_id (and each event's event_id) for ten minutes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from bot.app import Runtime
from bot.models import ErrorEvent, Fingerprint

SECRET = "replay-signing-secret-11"
GID = "fp1-5ec0000000000011"


@pytest.fixture
def env(redis_url: str, key_prefix: str) -> Iterator[tuple[Runtime, SlackStandIn, str, str]]:
    with (
        SlackStandIn(SECRET, "xoxb-replay") as slack,
        running_bot(slack, redis_url, key_prefix) as (rt, url),
    ):
        ev = ErrorEvent(
            "e1", rt.deps.clock(), "ERROR", "checkout", "cloud_run_revision", message="m"
        )
        rt.store.record_batch([(ev, Fingerprint(GID, "fp1", "Boom"))], now=rt.deps.clock())
        rt.notifier.run_once()
        [post] = slack.calls_for("chat.postMessage")
        yield rt, slack, url, str(post.response["ts"])


def test_a_replayed_acknowledge_is_not_applied_again(env) -> None:
    rt, slack, url, ts = env
    assert slack.click_button(url, "C0ALERTS", ts, "tb_ack", user_id="U1")[0] == 200
    assert slack.wait_for(lambda: len(slack.calls_for("chat.update")) >= 1)  # Unacknowledge shown
    assert rt.store.load_group(GID).state == "acknowledged"  # type: ignore[union-attr]
    ack = slack.deliveries[-1]
    assert slack.click_button(url, "C0ALERTS", ts, "tb_unack", user_id="U2")[0] == 200
    assert slack.wait_for(lambda: len(slack.calls_for("chat.update")) >= 2)
    assert rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]
    mark = len(slack.calls)
    assert slack.resend(ack)[0] == 200  # acked (Slack must not retry), but not applied
    time.sleep(0.5)  # the listener runs after the ack: give a wrongly applied replay its time
    assert rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]
    assert [c.method for c in slack.calls[mark:]] == []
