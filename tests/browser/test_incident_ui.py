"""An incident in the Slack sandbox, in a real browser: a storm's digest, Declare incident,
the new channel with its topic and pinned summary, resolve it and its groups."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from tests.browser.test_sandbox_ui import SECRET, TOKEN, Stack
from tests.pubsub_fixtures import PubSubBackend

CAUSE = "dial tcp 10.40.0.3:5432: connect: connection refused"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(SECRET, TOKEN) as standin:
        yield standin


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
            digest_threshold=2,
        ) as (rt, url):
            yield Stack(rt, url, backend, topic)
    finally:
        backend.close()
        pubsub.stop()


def _entry(n: int, service: str) -> dict:
    stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "insertId": f"inc-ui-{n}",
        "timestamp": stamp,
        "severity": "ERROR",
        "logName": "projects/demo/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"project_id": "demo", "service_name": service},
        },
        "jsonPayload": {"message": f"load order: {CAUSE}"},
    }


def test_declare_an_incident_from_a_digest_and_resolve_it(
    slack: SlackStandIn, stack: Stack, page: Page
) -> None:
    services = ("alpha", "bravo", "charlie", "delta", "echo")
    stack.backend.publish(
        stack.topic, [json.dumps(_entry(i, s)).encode() for i, s in enumerate(services)]
    )
    page.goto(slack.ui_url)
    digest = page.locator("#messages > .message", has_text="new errors at once")
    expect(digest).to_have_count(1, timeout=30_000)
    expect(digest).to_contain_text("mention 10.40.0.3:5432", timeout=15_000)
    digest.get_by_role("button", name="Declare incident").click()
    # the new channel shows in the sidebar; open it
    chan = page.locator("#channel-list a", has_text=re.compile(r"#inc-\d{8}-"))
    expect(chan).to_have_count(1, timeout=15_000)
    chan.click()
    expect(page.locator("#channel-title")).to_have_text(re.compile(r"^#inc-"))
    expect(page.locator("#channel-note")).to_contain_text("topic: SEV3 · Investigating")
    expect(page.locator("#channel-note")).to_contain_text("1 pinned")
    summary = page.locator("#messages > .message", has=page.locator(".pinned"))
    expect(summary).to_contain_text("linked groups in")
    summary.get_by_role("button", name="Resolve incident").click()
    question = page.locator("#messages > .message", has_text="resolve them too")
    expect(question).to_have_count(1, timeout=15_000)
    question.get_by_role("button", name=re.compile(r"^Resolve the \d+ open groups too")).click()
    # the answer to that click (the summary already says "linked groups")
    expect(page.locator("#messages")).to_contain_text(
        re.compile(r"resolved \d+ linked groups"), timeout=15_000
    )
    expect(page.locator("#channel-note")).to_contain_text("Resolved", timeout=15_000)
    inc = stack.rt.deps.incidents.by_channel(  # type: ignore[union-attr]
        str(chan.get_attribute("data-channel"))
    )
    assert inc is not None and inc.status.value == "resolved"
    groups = stack.rt.store.load_groups(list(inc.groups))
    assert groups and all(g is not None and g.state == "resolved" for g in groups)
    assert all(d.status == 200 and d.signing == "valid" for d in slack.deliveries)
