"""Start-up configuration: every missing or invalid setting stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import SettingsError, load_settings

GOOD = {
    "slack_bot_token": "xoxb-123-456",
    "slack_signing_secret": "0123456789abcdef",
    "pubsub_subscription": "projects/demo-prod/subscriptions/triage-bot",
    "default_channel": "C0ALERTS",
}


def test_good_settings_and_defaults() -> None:
    s = load_settings(**GOOD)
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.port == 8080 and s.update_interval_s == 30 and s.group_wait_s == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"slack_bot_token": "xoxp-user"}, "SLACK_BOT_TOKEN is invalid: must be a bot token"),
        ({"slack_signing_secret": "abc"}, "SLACK_SIGNING_SECRET is invalid: looks truncated"),
        (
            {"pubsub_subscription": "triage-bot"},
            "PUBSUB_SUBSCRIPTION is invalid: must be a full path",
        ),
        ({"default_channel": "alerts"}, "DEFAULT_CHANNEL is invalid: must be a channel id"),
        ({"redis_url": "localhost:6379"}, "REDIS_URL is invalid"),
        ({"slack_api_url": "slack.com"}, "SLACK_API_URL is invalid"),
        ({"locale": "fr"}, "LOCALE is invalid: must be en or ja"),
    ],
)
def test_invalid_setting_named_in_one_line(override: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**{**GOOD, **override})
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_missing_required_settings_are_each_named() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings()
    text = str(err.value)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DEFAULT_CHANNEL"):
        assert f"{name} is not set" in text


def test_serve_refuses_to_start_with_one_line_per_problem_and_no_secret() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PUBSUB_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-secret-value-123",
        SLACK_SIGNING_SECRET="signing-secret-value",
        DEFAULT_CHANNEL="alerts",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "triage-bot: DEFAULT_CHANNEL is invalid: must be a channel id (C0123ABCD) or #name"
    ]
    for secret in ("xoxb-secret-value-123", "signing-secret-value"):
        assert secret not in proc.stderr + proc.stdout


def test_pull_or_push_mode_is_required() -> None:
    settings = {k: v for k, v in GOOD.items() if k != "pubsub_subscription"}
    with pytest.raises(SettingsError, match="PUBSUB_SUBSCRIPTION is not set: set it"):
        load_settings(**settings)
    s = load_settings(
        **settings,
        push_audience="https://x/pubsub/push",
        push_service_account="a@b.iam.gserviceaccount.com",
    )
    assert s.pubsub_subscription is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"log_level": "LOUD"}, "LOG_LEVEL is invalid: 'LOUD' is not a level: use DEBUG, INFO"),
        ({"tz": "Mars/Base"}, "TZ is invalid: 'Mars/Base' is not an IANA time zone"),
        (
            {"pubsub_subscription": "projects/e2e/subscriptions/triage-bot"},
            "PUBSUB_SUBSCRIPTION is invalid: project id 'e2e' is too short (6 to 30 characters)",
        ),
        (
            {"pubsub_subscription": "projects/demo-prod/subscriptions/x"},
            "PUBSUB_SUBSCRIPTION is invalid: subscription id 'x' is too short (3 to 255",
        ),
        (
            {"pubsub_subscription": "projects/Demo_Prod/subscriptions/triage-bot"},
            "PUBSUB_SUBSCRIPTION is invalid: project id 'Demo_Prod' may hold only lowercase",
        ),
    ],
)
def test_operator_mistakes_are_one_line_naming_the_setting(
    override: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**{**GOOD, **override})
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "path",
    [
        "projects/example.com:my-project/subscriptions/triage-bot",
        "projects/demo-prod/subscriptions/triage.bot~v2",
    ],
)
def test_domain_scoped_projects_are_accepted(path: str) -> None:
    assert load_settings(**{**GOOD, "pubsub_subscription": path}).pubsub_subscription == path


def test_log_level_is_case_insensitive() -> None:
    assert load_settings(**{**GOOD, "log_level": "debug"}).log_level == "DEBUG"
