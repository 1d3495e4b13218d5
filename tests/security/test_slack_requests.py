"""Requests claiming to come from Slack: refused (401) unless signed with the signing secret
within five minutes, for every kind of request (tests/e2e covers a button click); button
values that were tampered with or name an unknown group get a clear ephemeral answer, and
Bolt's error handler is never reached."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from bot.app import Runtime
from bot.models import ErrorEvent, Fingerprint

SECRET = "security-signing-secret-77"
TOKEN = "xoxb-security"
GID = "fp1-5ec0000000000001"


@pytest.fixture
def env(redis_url: str, key_prefix: str) -> Iterator[tuple[Runtime, SlackStandIn, str, str]]:
    with (
        SlackStandIn(SECRET, TOKEN) as slack,
        running_bot(slack, redis_url, key_prefix) as (
            rt,
            url,
        ),
    ):
        ev = ErrorEvent(
            "e1", rt.deps.clock(), "ERROR", "checkout", "cloud_run_revision", message="boom"
        )
        rt.store.record_batch([(ev, Fingerprint(GID, "fp1", "Boom"))], now=rt.deps.clock())
        rt.notifier.run_once()
        [post] = slack.calls_for("chat.postMessage")
        yield rt, slack, url, str(post.response["ts"])


@pytest.mark.parametrize("signing", ["bad_signature", "stale", "unsigned"])
def test_badly_signed_slash_commands_and_events_are_refused(env, signing: str) -> None:
    rt, slack, url, _ = env
    mark = len(slack.calls)
    status, _ = slack.send_slash_command(url, "/triage", f"resolve {GID}", signing=signing)
    assert status == 401
    status, _ = slack.send_event(
        url, {"type": "app_home_opened", "user": "U1", "tab": "home"}, signing=signing
    )
    assert status == 401
    assert slack.calls[mark:] == [] and slack.responses == []
    assert rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]


TAMPERED = [
    "not json",
    "",
    "[]",
    '{"g": 5}',
    '{"g": "fp1-5ec0000000000001", "s": {"nested": 1}}',
    '{"g": "' + "A" * 5000 + '"}',
    '{"g": "fp1-00000000deadbeef"}',  # well formed, unknown group
    '{"g": "fp1-5ec0000000000001\\u0000"}',
]


@pytest.mark.parametrize("value", TAMPERED, ids=range(len(TAMPERED)))
def test_tampered_or_unknown_button_values_get_an_ephemeral_answer(
    env, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    rt, slack, url, ts = env
    mark = len(slack.calls)
    with caplog.at_level(logging.WARNING):
        for action in ("tb_ack", "tb_resolve"):
            status, _ = slack.click_button(url, "C0ALERTS", ts, action, value=value)
            assert status == 200
        assert slack.wait_for(lambda: len(slack.responses) == 2)
    for answer in slack.responses:
        assert answer.effect == "ephemeral"
        text = answer.payload["text"]
        assert text and len(text) < 300 and "Traceback" not in text
    assert slack.calls[mark:] == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert rt.store.load_group(GID).state == "open"  # type: ignore[union-attr]
