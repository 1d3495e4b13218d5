"""The bot's secrets never appear in its output: a `triage-bot serve` subprocess with
recognisable secrets is driven through errors (Redis unreachable, Slack answering errors,
badly signed requests, a bad setting) and its whole stdout/stderr is searched for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.service import free_port
from triage_sandbox.slack_standin import SlackStandIn

from tests.pubsub_fixtures import PubSubBackend

TOKEN = "xoxb-SECRETTOKEN-4242-feedface"
SIGNING = "SECRETSIGNING-9f8e7d6c5b4a"
BOT = Path(sys.executable).parent / "triage-bot"


def _env(**extra: str) -> dict[str, str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PUBSUB_", "REDIS_"))
    }
    return {**base, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING, **extra}


def _assert_clean(text: str) -> None:
    for secret in (TOKEN, SIGNING, TOKEN[5:], SIGNING[6:]):
        assert secret not in text


def test_secrets_are_not_in_logs_through_errors(tmp_path: Path) -> None:
    pubsub = PubSubStandIn()
    host = pubsub.start()
    backend = PubSubBackend(kind="standin", host=host)
    topic, sub = backend.create_topic_and_subscription("sec-logs", "sec-bot")
    backend.publish(topic, [json.dumps({"insertId": "s1", "textPayload": "boom"}).encode()])
    port = free_port()
    with SlackStandIn(SIGNING, TOKEN) as slack:
        env = _env(
            SLACK_API_URL=slack.api_url,
            PUBSUB_EMULATOR_HOST=host,
            PUBSUB_SUBSCRIPTION=sub,
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: every call fails
            DEFAULT_CHANNEL="C0ALERTS",
            PORT=str(port),
            HOST="127.0.0.1",
            LOG_LEVEL="DEBUG",
        )
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BOT), "serve"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}/slack/events"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                except urllib.error.HTTPError:
                    break  # 503: up, and Redis is down
                except OSError:
                    time.sleep(0.2)
            slack.inject("*", error="invalid_auth", times=100)  # after Bolt's auth.test
            for signing in ("bad_signature", "stale", "unsigned", "valid"):
                slack.send_slash_command(url, "/triage", "top", signing=signing)
            req = urllib.request.Request(url, data=b"garbage", method="POST")
            try:
                urllib.request.urlopen(req, timeout=5)
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
            time.sleep(3)  # pullers and the notifier fail a few times against the missing Redis
        finally:
            proc.terminate()
            proc.wait(20)
            backend.close()
            pubsub.stop()
    text = log.read_text(errors="replace")
    assert "ingest batch failed" in text  # the errors did happen and were logged
    _assert_clean(text)


def test_a_bad_setting_does_not_echo_the_secrets(tmp_path: Path) -> None:
    env = _env(DEFAULT_CHANNEL="not a channel", PUBSUB_SUBSCRIPTION="bad", REDIS_URL="http://x")
    env["SLACK_BOT_TOKEN"] = "xoxp-" + TOKEN  # wrong kind of token, still a secret
    env["SLACK_SIGNING_SECRET"] = "zq9x7w"  # "truncated"
    res = subprocess.run(
        [str(BOT), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2
    assert "SLACK_BOT_TOKEN is invalid" in res.stderr
    _assert_clean(res.stdout + res.stderr)
    assert "zq9x7w" not in res.stdout + res.stderr
