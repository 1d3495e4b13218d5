"""End to end on real components: Pub/Sub (emulator and stand-in) -> bot -> Slack stand-in,
then a signed Acknowledge click."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry

from bot.app import Runtime

SECRET = "e2e-signing-secret-0123"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(SECRET, "xoxb-e2e") as standin:
        yield standin


@pytest.fixture
def bot(
    slack: SlackStandIn, pubsub_backend, redis_url: str, key_prefix: str
) -> Iterator[tuple[Runtime, str, object]]:
    topic, sub = pubsub_backend.create_topic_and_subscription(
        pubsub_backend.unique_name("logs"), pubsub_backend.unique_name("bot")
    )
    with running_bot(
        slack,
        redis_url,
        key_prefix,
        with_puller=True,
        loops=0.05,
        pubsub_subscription=sub,
        pubsub_emulator_host=pubsub_backend.host,
        update_interval_s=0.2,
        pullers=2,
    ) as (rt, url):
        assert rt.puller is not None
        yield rt, url, (pubsub_backend, topic)


def _count_in(message: dict) -> str:
    for block in message.get("blocks", []):
        for f in block.get("fields", []):
            if f["text"].startswith("*Count*"):
                return f["text"].split("\n", 1)[1]
    return ""


def test_two_bugs_two_messages_counts_updated_then_acknowledged(slack: SlackStandIn, bot) -> None:
    rt, bot_url, (backend, topic) = bot
    rng = random.Random(1)
    a, b = BUGS[0], BUGS[3]
    entries = [entry(a, rng, 1_764_000_000 + i) for i in range(5)]
    entries += [entry(b, rng, 1_764_000_100 + i) for i in range(2)]
    payloads = [json.dumps(e).encode() for e in entries]
    backend.publish(topic, payloads + payloads[:2])  # two duplicate deliveries

    def settled() -> bool:
        msgs = slack.messages("C0ALERTS")
        return sorted(_count_in(m) for m in msgs) == ["2", "5"]

    assert slack.wait_for(settled, timeout=30), [(_count_in(m)) for m in slack.messages("C0ALERTS")]
    posts = [c for c in slack.calls_for("chat.postMessage") if not c.args.get("thread_ts")]
    assert len(posts) == 2
    assert all(c.ok for c in slack.calls)
    assert slack.warnings == []

    msg = next(m for m in slack.messages("C0ALERTS") if _count_in(m) == "5")
    status, _ = slack.click_button(
        bot_url.rsplit("/slack", 1)[0] + "/slack/events",
        "C0ALERTS",
        msg["ts"],
        "tb_ack",
        user_id="U1",
    )
    assert status == 200

    def acked() -> bool:
        m = slack.message("C0ALERTS", msg["ts"])
        return m is not None and "Acknowledged by <@U1>" in json.dumps(m["blocks"])

    assert slack.wait_for(acked, timeout=10)
    group = rt.store.load_group(json.loads(msg["blocks"][-1]["elements"][0]["value"])["g"])
    assert group is not None and group.state == "acknowledged" and group.get("acked_by") == "U1"


@pytest.mark.parametrize("signing", ["bad_signature", "stale", "unsigned"])
def test_badly_signed_click_is_rejected(slack: SlackStandIn, bot, signing: str) -> None:
    rt, bot_url, (backend, topic) = bot
    backend.publish(topic, [json.dumps(entry(BUGS[0], random.Random(2), 1_764_000_000)).encode()])
    assert slack.wait_for(lambda: len(slack.messages("C0ALERTS")) == 1, timeout=30)
    msg = slack.messages("C0ALERTS")[0]
    status, _ = slack.click_button(bot_url, "C0ALERTS", msg["ts"], "tb_ack", signing=signing)
    assert status == 401
    gid = json.loads(msg["blocks"][-1]["elements"][0]["value"])["g"]
    group = rt.store.load_group(gid)
    assert group is not None and group.state == "open"
