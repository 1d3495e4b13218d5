"""/healthz says what is broken (503) when the bot cannot do its job: Redis refuses writes,
the subscription does not exist, the Slack token was revoked. Start-up refuses a Redis that
evicts keys, and a token Slack refuses, with one line saying what to do."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import redis
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.redis_server import redis_server
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from bot.app import build
from bot.config import SettingsError, load_settings


def _health(events_url: str) -> tuple[int, dict[str, str]]:
    url = events_url.replace("/slack/events", "/healthz")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn("health-signing-secret", "xoxb-health") as s:
        yield s


def _settings(slack: SlackStandIn, url: str, **extra: object) -> object:
    return load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
        redis_url=url,
        redis_prefix="health",
        pubsub_subscription="projects/triage-test/subscriptions/unused",
        default_channel="C0ALERTS",
        **extra,
    )


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru"])
def test_an_evicting_redis_is_refused_at_start(slack: SlackStandIn, policy: str) -> None:
    with redis_server("--maxmemory-policy", policy) as url, pytest.raises(SettingsError) as err:
        build(_settings(slack, url), with_puller=False)  # type: ignore[arg-type]
    text = str(err.value)
    assert "\n" not in text
    assert f"maxmemory-policy is {policy}" in text and "noeviction" in text


def test_healthz_fails_when_redis_refuses_writes(slack: SlackStandIn) -> None:
    with (
        redis_server("--maxmemory-policy", "noeviction") as url,
        running_bot(slack, url, "health") as (_, events),
    ):
        assert _health(events)[0] == 200
        own = redis.Redis.from_url(url)  # our own server: CONFIG SET is fine here
        for i in range(500):
            own.set(f"fill:{i}", "x" * 4096)
        used = int(own.info("memory")["used_memory"])
        own.config_set("maxmemory", str(used // 2))  # now well over maxmemory
        with pytest.raises(redis.ResponseError, match="maxmemory"):
            own.set("one-more", "x")
        status, body = _health(events)
    assert status == 503
    assert "refuses writes" in body["redis"] and "maxmemory" in body["redis"]


def test_healthz_fails_when_the_slack_token_is_revoked(
    slack: SlackStandIn, redis_url: str, key_prefix: str
) -> None:
    with running_bot(slack, redis_url, key_prefix) as (rt, events):
        assert _health(events)[0] == 200
        slack.inject("auth.test", error="token_revoked", times=5)
        rt.health.slack_checked_at = float("-inf")  # the 60 s cache of the last check: expire it
        status, body = _health(events)
    assert status == 503
    assert "token_revoked" in body["slack"] and "SLACK_BOT_TOKEN" in body["slack"]


def test_healthz_fails_when_the_subscription_does_not_exist(
    slack: SlackStandIn, redis_url: str, key_prefix: str
) -> None:
    standin = PubSubStandIn()
    host = standin.start()
    try:
        with running_bot(
            slack,
            redis_url,
            key_prefix,
            with_puller=True,
            pubsub_emulator_host=host,
            pubsub_subscription="projects/triage-test/subscriptions/missing",
        ) as (rt, events):
            assert rt.puller is not None
            rt.puller.start()
            rt.health.wait_for_pull(10)
            status, body = _health(events)
    finally:
        standin.stop()
    assert status == 503
    assert "does not exist" in body["pubsub"]


def test_a_refused_token_at_start_is_one_line_saying_what_to_do(
    slack: SlackStandIn, redis_url: str
) -> None:
    settings = _settings(slack, redis_url)
    settings = settings.model_copy(update={"slack_bot_token": "xoxb-revoked"})  # type: ignore[attr-defined]
    with pytest.raises(SettingsError) as err:
        build(settings, with_puller=False)  # type: ignore[arg-type]
    text = str(err.value)
    assert "\n" not in text
    assert "SLACK_BOT_TOKEN" in text and "invalid_auth" in text and "reinstall" in text
