"""The Slack sandbox in a real browser: Pub/Sub stand-in -> bot (real Redis) -> Slack stand-in,
then a person in the page acknowledges, snoozes, assigns and runs a slash command, and the
stand-in sends the bot the signed requests Slack would."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from slack_sdk import WebClient
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry

from bot.app import Runtime
from tests.pubsub_fixtures import PubSubBackend

SECRET = "browser-signing-secret-0123"
TOKEN = "xoxb-browser"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "sandbox.png"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(SECRET, TOKEN) as standin:
        yield standin


@dataclass
class Stack:
    rt: Runtime
    bot_url: str
    backend: PubSubBackend
    topic: str


@pytest.fixture
def stack(slack: SlackStandIn, redis_url: str, key_prefix: str) -> Iterator[Stack]:
    pubsub = PubSubStandIn()
    backend = PubSubBackend(kind="standin", host=pubsub.start())
    topic, sub = backend.create_topic_and_subscription(
        backend.unique_name("logs"), backend.unique_name("bot")
    )
    try:
        with running_bot(
            slack,
            redis_url,
            key_prefix,
            with_puller=True,
            loops=0.05,
            pubsub_subscription=sub,
            pubsub_emulator_host=backend.host,
            update_interval_s=0.2,
            pullers=1,
        ) as (rt, url):
            yield Stack(rt, url, backend, topic)
    finally:
        backend.close()
        pubsub.stop()


def _count(message: dict[str, Any]) -> str:
    for block in message.get("blocks", []):
        for f in block.get("fields", []):
            if f["text"].startswith("*Count*"):
                return str(f["text"].split("\n", 1)[1])
    return ""


def _group_id(message: dict[str, Any]) -> str:
    return str(json.loads(message["blocks"][-1]["elements"][0]["value"])["g"])


def test_acknowledge_snooze_assign_and_slash_command_in_the_browser(
    slack: SlackStandIn, stack: Stack, page: Page
) -> None:
    rng = random.Random(5)
    counts = {0: 5, 3: 3, 2: 2, 5: 1}  # bug index -> occurrences
    entries = [
        entry(BUGS[i], rng, 1_764_000_000 + 10 * i + k) for i, n in counts.items() for k in range(n)
    ]
    stack.backend.publish(stack.topic, [json.dumps(e).encode() for e in entries])

    page.goto(slack.ui_url)
    expect(page.locator("#channel-title")).to_have_text("#alerts")
    expect(page.locator("#bot-status")).to_contain_text(stack.bot_url)
    expect(page.locator("#messages > .message")).to_have_count(4, timeout=30_000)
    settled = slack.wait_for(
        lambda: sorted(_count(m) for m in slack.messages("C0ALERTS")) == ["1", "2", "3", "5"],
        timeout=30,
    )
    assert settled, [_count(m) for m in slack.messages("C0ALERTS")]
    by_count = {_count(m): m for m in slack.messages("C0ALERTS")}

    # The page renders the alert as Slack would: header, fields, code blocks, links, buttons.
    top = page.locator(f'#messages > .message[data-ts="{by_count["5"]["ts"]}"]')
    expect(top.locator(".block.header")).to_have_text(by_count["5"]["blocks"][0]["text"]["text"])
    expect(top.locator(".field").nth(2)).to_have_text("Count\n5", timeout=10_000)
    expect(top.locator(".field strong").first).to_have_text("Service")
    expect(top.locator("pre.code-block").first).to_contain_text("nil pointer dereference")
    expect(top.locator("a", has_text="Logs")).to_have_attribute(
        "href", re.compile(r"^https://console\.cloud\.google\.com/logs/")
    )
    expect(top.locator("code.inline-code", has_text=_group_id(by_count["5"]))).to_be_visible()
    expect(top.locator(".field").nth(3)).to_contain_text("Open")

    # alice acknowledges: the click goes to the bot signed, the bot edits the message in place.
    expect(page.locator("#whoami")).to_have_value("U1")
    top.get_by_role("button", name="Acknowledge").click()
    expect(top.locator(".field").nth(3)).to_contain_text("Acknowledged by @alice", timeout=15_000)
    expect(top.locator(".edited")).to_be_visible()
    expect(top.get_by_role("button", name="Unacknowledge")).to_be_visible()
    click = next(d for d in slack.deliveries if d.kind == "block_actions")
    assert (click.signing, click.status) == ("valid", 200)
    assert click.payload["actions"][0]["action_id"] == "tb_ack"
    assert click.payload["user"]["id"] == "U1"
    group = stack.rt.store.load_group(_group_id(by_count["5"]))
    assert group is not None and group.state == "acknowledged" and group.get("acked_by") == "U1"

    # bob snoozes another alert "for 1 hour" from the static select.
    page.locator("#whoami").select_option("U2")
    second = page.locator(f'#messages > .message[data-ts="{by_count["3"]["ts"]}"]')
    second.locator('select[data-action-id="tb_snooze"]').select_option(label="for 1 hour")
    expect(second.locator(".field").nth(3)).to_contain_text("Snoozed by @bob", timeout=15_000)
    expect(second.get_by_role("button", name="Unsnooze")).to_be_visible()
    snoozed = stack.rt.store.load_group(_group_id(by_count["3"]))
    assert snoozed is not None and snoozed.state == "snoozed"
    assert snoozed.get("snoozed_by") == "U2"

    # bob picks alice in a third alert's users select: the stand-in sends the users_select
    # action Slack would, and the bot assigns the group to her.
    third = page.locator(f'#messages > .message[data-ts="{by_count["2"]["ts"]}"]')
    third.locator('select[data-action-id="tb_assign"]').select_option("U1")
    assert slack.wait_for(lambda: len(slack.deliveries) == 3)
    assign = slack.deliveries[-1]
    assert (assign.status, assign.signing, assign.payload["user"]["id"]) == (200, "valid", "U2")
    assert assign.payload["actions"][0] | {"action_ts": ""} == {
        "action_id": "tb_assign",
        "block_id": f"tb_actions:{_group_id(by_count['2'])}",
        "type": "users_select",
        "selected_user": "U1",
        "action_ts": "",
    }
    expect(third).to_contain_text("Assignee", timeout=15_000)

    # A slash command from the box: the answer is ephemeral, shown to bob only.
    page.locator("#command-input").fill("/triage help")
    page.locator("#composer").get_by_role("button", name="Send").click()
    answer = page.locator("#messages > .message.ephemeral", has_text="commands")
    expect(answer).to_contain_text("Only visible to you", timeout=15_000)
    expect(answer.locator("code.inline-code").first).to_have_text("/triage")
    command = next(d for d in slack.deliveries if d.kind == "command")
    assert (command.payload["user_id"], command.payload["channel_id"]) == ("U2", "C0ALERTS")
    assert (command.payload["command"], command.payload["text"]) == ("/triage", "help")
    page.locator("#whoami").select_option("U1")
    expect(answer).to_have_count(0)

    assert all(d.status == 200 and d.signing == "valid" for d in slack.deliveries)
    assert slack.warnings == []
    page.locator("#whoami").select_option("U2")
    expect(answer).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 1440})
    page.locator("#messages").evaluate("box => { box.scrollTop = 0; }")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_untrusted_text_is_shown_never_run_threads_edits_and_ephemerals(
    slack: SlackStandIn, page: Page
) -> None:
    client = WebClient(token=TOKEN, base_url=slack.api_url)
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    slack_escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Header {hostile}"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Bold* {slack_escaped} &amp; <@U2> <javascript:alert(1)|bad link>"
                f" <https://example.com/?a=1&amp;b=2|good link>\n```{hostile}\n&lt;b&gt;```",
            },
            "fields": [{"type": "mrkdwn", "text": "*Field*\n`a<b>`"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ":eyes: context"}]},
    ]
    ts = client.chat_postMessage(channel="C0ALERTS", text="alert", blocks=blocks)["ts"]
    client.chat_postMessage(channel="C0ALERTS", thread_ts=ts, text="first reply")
    client.chat_postMessage(channel="C0ALERTS", thread_ts=ts, text=f"second {slack_escaped}")
    client.chat_postEphemeral(channel="C0ALERTS", user="U1", text="psst, alice")

    page.goto(slack.ui_url)
    msg = page.locator(f'#messages > .message[data-ts="{ts}"]')
    expect(msg.locator(".block.header")).to_have_text(f"Header {hostile}")
    section = msg.locator(".block.section").first
    expect(section).to_contain_text(f"Bold {hostile} & @bob <javascript:alert(1)|bad link>")
    expect(section.locator("strong").first).to_have_text("Bold")
    expect(section.locator("pre.code-block")).to_have_text(f"{hostile}\n<b>")
    expect(section.locator(".mention")).to_have_text("@bob")
    expect(section.locator("a")).to_have_count(1)
    expect(section.locator("a")).to_have_attribute("href", "https://example.com/?a=1&b=2")
    expect(msg.locator(".field code")).to_have_text("a<b>")
    expect(msg.locator(".block.context")).to_have_text("\N{EYES} context")
    assert page.locator("#messages img, #messages script").count() == 0
    assert page.evaluate("window.__pwned") is None

    # Threads: collapsed under the message, expandable.
    toggle = msg.locator(".thread-toggle")
    expect(toggle).to_have_text("2 replies")
    expect(msg.locator(".thread")).to_have_count(0)
    toggle.click()
    expect(msg.locator(".thread .message")).to_have_count(2)
    expect(msg.locator(".thread .message").nth(1)).to_contain_text(f"second {hostile}")

    # Edits show in place (the page polls), ephemerals only for their user.
    expect(page.locator(".message.ephemeral")).to_contain_text("Only visible to you")
    expect(page.locator(".message.ephemeral")).to_contain_text("psst, alice")
    client.chat_update(channel="C0ALERTS", ts=ts, text="fixed", blocks=[])
    expect(msg.locator(":scope > .content > .body > .text")).to_have_text("fixed", timeout=5_000)
    expect(msg.locator(":scope > .content > .meta .edited")).to_be_visible()
    expect(msg.locator(".thread .message")).to_have_count(2)  # still expanded
    page.locator("#whoami").select_option("U2")
    expect(page.locator(".message.ephemeral")).to_have_count(0)

    # Without a bot URL the stand-in refuses to send and the page says why.
    client.chat_postMessage(
        channel="C0ALERTS",
        text="b",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "text": {"type": "plain_text", "text": "Go"},
                    }
                ],
            }
        ],
    )
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#toast")).to_contain_text("no bot URL is configured")
    assert slack.deliveries == []
