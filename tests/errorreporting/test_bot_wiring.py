"""The bot with Error Reporting sync on: Slack actions set the linked group's status through the
real client (against the local stand-in); console changes come back into Slack."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator

import pytest
from triage_sandbox.errorreporting_standin import ErrorReportingStandIn
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry

from bot.app import Runtime

PROJECT = "demo-prod"


@pytest.fixture
def env(
    redis_url: str, key_prefix: str
) -> Iterator[tuple[Runtime, SlackStandIn, ErrorReportingStandIn]]:
    with SlackStandIn("er-secret-012345", "xoxb-er") as slack, ErrorReportingStandIn() as er:
        er.add_group(PROJECT, "CNLhp6f0m9zUSg")
        with running_bot(
            slack,
            redis_url,
            key_prefix,
            error_reporting_sync=True,
            error_reporting_project=PROJECT,
            error_reporting_endpoint=er.host,
        ) as (rt, _):
            assert rt.er_sync is not None
            e = entry(BUGS[6], random.Random(2), time.time())
            e["errorGroups"] = [{"id": "CNLhp6f0m9zUSg"}]
            rt.pipeline.process([json.dumps(e).encode()])
            rt.notifier.run_once()
            yield rt, slack, er


def _gid(rt: Runtime) -> str:
    return rt.deps.history.top(time.time(), "1h")[0].group.id


def test_acknowledge_in_slack_sets_the_linked_group_status(env) -> None:
    rt, _, er = env
    gid = _gid(rt)
    assert rt.deps.lifecycle.act(gid, "acknowledge", "U1").ok
    rt.er_sync.run_once()
    assert er.status(PROJECT, "CNLhp6f0m9zUSg") == "ACKNOWLEDGED"
    assert rt.deps.lifecycle.act(gid, "resolve", "U1").ok
    rt.er_sync.run_once()
    assert er.status(PROJECT, "CNLhp6f0m9zUSg") == "RESOLVED"


def test_console_change_comes_back_into_slack(env) -> None:
    rt, slack, er = env
    gid = _gid(rt)
    er.set_status(PROJECT, "CNLhp6f0m9zUSg", "RESOLVED")
    rt.er_sync.run_once()
    group = rt.store.load_group(gid)
    assert (
        group is not None
        and group.state == "resolved"
        and group.get("resolved_by") == "error-reporting"
    )
    [msg] = slack.messages("C0ALERTS")
    assert "Resolved by Error Reporting" in json.dumps(msg["blocks"])
    assert er.status(PROJECT, "CNLhp6f0m9zUSg") == "RESOLVED"


def test_api_down_is_reported_in_the_thread_and_slack_action_still_works(env) -> None:
    rt, slack, er = env
    gid = _gid(rt)
    er.down = True
    assert rt.deps.lifecycle.act(gid, "acknowledge", "U1").ok
    rt.er_sync.run_once()
    rt.notifier.run_once()
    [msg] = slack.messages("C0ALERTS")
    assert any(
        "Could not update the linked Error Reporting group" in r.get("text", "")
        for r in msg["replies"]
    )
    er.down = False
    rt.er_sync.clock = lambda: time.time() + 3600  # past the retry delay
    rt.er_sync.run_once()
    assert er.status(PROJECT, "CNLhp6f0m9zUSg") == "ACKNOWLEDGED"
