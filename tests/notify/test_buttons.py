"""Each button and select of an alert as a signed block_actions request to the bot's HTTP
endpoint; asserts the exact Web API calls the bot makes in answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from triage_sandbox.clock import FakeClock
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import ApiCall, SlackStandIn

from bot.app import Runtime
from bot.models import ErrorEvent, Fingerprint
from bot.notify.actions import encode_value
from tests.notify.conftest import SECRET, T0, TOKEN

GID = "fp1-0123abcd"


@dataclass
class Bot:
    rt: Runtime
    url: str
    slack: SlackStandIn
    clock: FakeClock
    ts: str = ""

    def calls_after(self, mark: int, until: Callable[[list[ApiCall]], bool]) -> list[ApiCall]:
        assert self.slack.wait_for(lambda: until(self.slack.calls[mark:]), timeout=10)
        return self.slack.calls[mark:]


@pytest.fixture
def bot(redis_url: str, key_prefix: str) -> Iterator[Bot]:
    clock = FakeClock(T0)
    with (
        SlackStandIn(SECRET, TOKEN) as slack,
        running_bot(slack, redis_url, key_prefix, clock=clock) as (rt, url),
    ):
        b = Bot(rt, url, slack, clock)
        ev = ErrorEvent(
            insert_id="e1",
            timestamp=clock.now,
            severity="ERROR",
            service="checkout",
            resource_type="cloud_run_revision",
            project_id="demo-prod",
            message="boom",
        )
        rt.store.record_batch([(ev, Fingerprint(GID, "fp1", "Boom in checkout"))], now=clock.now)
        rt.notifier.run_once()
        [post] = slack.calls_for("chat.postMessage")
        b.ts = str(post.response["ts"])
        yield b


def _click(b: Bot, kind: str, action_id: str, arg: str = "", user: str = "U1") -> list[ApiCall]:
    mark = len(b.slack.calls)
    if kind == "button":
        status, _ = b.slack.click_button(b.url, "C0ALERTS", b.ts, action_id, user_id=user)
    elif kind == "select":
        status, _ = b.slack.select_option(
            b.url, "C0ALERTS", b.ts, action_id, encode_value(GID, s=arg), user_id=user
        )
    else:
        status, _ = b.slack.select_user(b.url, "C0ALERTS", b.ts, action_id, arg, user_id=user)
    assert status == 200
    return b.calls_after(mark, lambda calls: any(c.method == "chat.update" for c in calls))


def _only_update(b: Bot, calls: list[ApiCall]) -> str:
    assert [(c.method, c.args["channel"], c.args["ts"], c.ok) for c in calls] == [
        ("chat.update", "C0ALERTS", b.ts, True)
    ]
    assert b.slack.responses == [] and b.slack.warnings == []
    return json.dumps(calls[0].args["blocks"])


def _buttons(calls: list[ApiCall]) -> list[str]:
    return [e["action_id"] for e in calls[0].args["blocks"][-1]["elements"]]


def test_acknowledge_then_unacknowledge(bot: Bot) -> None:
    calls = _click(bot, "button", "tb_ack")
    assert "Acknowledged by <@U1>" in _only_update(bot, calls)
    assert _buttons(calls) == [
        "tb_unack",
        "tb_resolve",
        "tb_snooze",
        "tb_assign",
        "tb_merge",
        "tb_declare",
    ]
    calls = _click(bot, "button", "tb_unack", user="U2")
    assert ":red_circle: Open" in _only_update(bot, calls)
    assert bot.rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]


def test_resolve_then_reopen(bot: Bot) -> None:
    calls = _click(bot, "button", "tb_resolve", user="U2")
    assert "Resolved by <@U2>" in _only_update(bot, calls)
    assert _buttons(calls) == ["tb_reopen", "tb_assign", "tb_merge"]
    calls = _click(bot, "button", "tb_reopen")
    assert ":red_circle: Open" in _only_update(bot, calls)


@pytest.mark.parametrize(
    ("choice", "shown"),
    [("1h", "Snoozed by <@U1> until 2025-11-24 17:00 UTC"), ("n10", "for 10 more occurrences")],
)
def test_snooze_select_then_unsnooze(bot: Bot, choice: str, shown: str) -> None:
    calls = _click(bot, "select", "tb_snooze", choice)
    assert shown in _only_update(bot, calls)
    assert _buttons(calls) == ["tb_resolve", "tb_unsnooze", "tb_assign", "tb_merge", "tb_declare"]
    calls = _click(bot, "button", "tb_unsnooze")
    assert ":red_circle: Open" in _only_update(bot, calls)


def test_assign_with_the_users_select(bot: Bot) -> None:
    calls = _click(bot, "user", "tb_assign", "U2")
    assert "*Assignee*\\n<@U2>" in _only_update(bot, calls)
    group = bot.rt.store.load_group(GID)
    assert group is not None and (group.get("assignee"), group.get("assigned_by")) == ("U2", "U1")


def test_a_click_on_a_stale_message_answers_ephemerally(bot: Bot) -> None:
    # resolved elsewhere (the store only): the message in Slack still offers Acknowledge
    bot.rt.store.transition(GID, "resolve", "U2", bot.clock.now)
    mark = len(bot.slack.calls)
    status, _ = bot.slack.click_button(bot.url, "C0ALERTS", bot.ts, "tb_ack", user_id="U1")
    assert status == 200
    assert bot.slack.wait_for(lambda: len(bot.slack.responses) == 1)
    answer = bot.slack.responses[0]
    assert answer.effect == "ephemeral" and answer.user == "U1"
    assert answer.payload["text"] == f"Cannot acknowledge alert {GID}: it is resolved."
    assert bot.slack.calls[mark:] == []
    assert bot.rt.store.load_group(GID).state == "resolved"  # type: ignore[union-attr]


def test_a_tampered_value_is_refused_without_any_web_api_call(bot: Bot) -> None:
    mark = len(bot.slack.calls)
    status, _ = bot.slack.click_button(
        bot.url, "C0ALERTS", bot.ts, "tb_ack", value='{"g":"../../etc"}'
    )
    assert status == 200
    assert bot.slack.wait_for(lambda: len(bot.slack.responses) == 1)
    answer = bot.slack.responses[0]
    assert answer.effect == "ephemeral" and "does not belong" in answer.payload["text"]
    assert bot.slack.calls[mark:] == []
    assert bot.rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]
