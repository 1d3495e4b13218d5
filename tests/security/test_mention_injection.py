"""Every echo of what a user typed is escaped: a reply never pings a channel or a user and
never carries a disguised link, whatever the subcommand or its arguments, ephemeral or shared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from bot.app import Runtime
from bot.models import ErrorEvent, Fingerprint
from bot.query.commands import answer

GID = "fp1-5ec0000000000002"
HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<@U0EVIL>", "<https://evil.example|login>"]
COMMANDS = [
    "ack {p} --share",
    "resolve {p}",
    "unsnooze {p}",
    "reopen {p}",
    "snooze {p} 1h",
    "snooze " + GID + " {p}",
    "show {p}",
    "search {p}",
    "search x{p}y",
    "top {p}",
    "stats 24h {p}",
    "{p}",
    "subscribe {p}",
    "subscribe checkout {p}",
    "unsubscribe checkout {p}",
    "unsubscribe {p}",
    "subscriptions {p}",
]


def _mrkdwn(reply_text: str, blocks: list[dict[str, Any]]) -> list[str]:
    """What Slack parses for mentions and links: the message text and every mrkdwn object
    (plain_text shows `<!channel>` as typed, without pinging)."""
    found = [reply_text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return found


def _assert_inert(texts: list[str]) -> None:
    for text in texts:
        for bad in ("<!", "<@U0EVIL", "<https://evil"):
            assert bad not in text, text


@pytest.fixture
def env(redis_url: str, key_prefix: str) -> Iterator[tuple[Runtime, SlackStandIn, str]]:
    with (
        SlackStandIn("inject-secret", "xoxb-inject") as slack,
        running_bot(slack, redis_url, key_prefix) as (rt, url),
    ):
        ev = ErrorEvent(
            "e1", rt.deps.clock(), "ERROR", "checkout", "cloud_run_revision", message="m"
        )
        rt.store.record_batch([(ev, Fingerprint(GID, "fp1", "Boom"))], now=rt.deps.clock())
        yield rt, slack, url


@pytest.mark.parametrize("payload", HOSTILE)
def test_no_subcommand_echoes_a_mention_or_link(env, payload: str) -> None:
    rt, _, _ = env
    for command in COMMANDS:
        reply = answer(rt.deps, command.format(p=payload), user="U1", channel="C0ALERTS")
        _assert_inert(_mrkdwn(reply.text, reply.blocks))


def test_shared_not_found_reply_does_not_ping_the_channel(env) -> None:
    """The reported case: `/triage ack <!channel> --share` through the real Slack path."""
    _, slack, url = env
    status, _ = slack.send_slash_command(url, "/triage", "ack <!channel> --share")
    assert status == 200
    assert slack.wait_for(lambda: len(slack.responses) == 1)
    [answer_] = slack.responses
    _assert_inert(_mrkdwn(answer_.payload.get("text", ""), answer_.payload.get("blocks") or []))
    assert "&lt;!channel&gt;" in answer_.payload["text"]
