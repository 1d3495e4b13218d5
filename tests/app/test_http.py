"""/healthz and /metrics on the bot's HTTP server."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request

import redis

from bot.app import build, start_http
from bot.config import load_settings
from bot.sandbox.slack_standin import SlackStandIn
from bot.sandbox.traffic import BUGS, entry
from tests.conftest import free_port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthz_and_metrics(redis_url: str, key_prefix: str) -> None:
    with SlackStandIn("http-secret-0123", "xoxb-h") as slack:
        settings = load_settings(
            slack_bot_token="xoxb-h",
            slack_signing_secret="http-secret-0123",
            slack_api_url=slack.api_url,
            redis_url=redis_url,
            redis_prefix=key_prefix,
            pubsub_subscription="projects/triage-test/subscriptions/unused",
            default_channel="C0ALERTS",
        )
        rt = build(settings, with_puller=False)
        port = free_port()
        server = start_http(rt, "127.0.0.1", port)
        try:
            status, body = _get(f"http://127.0.0.1:{port}/healthz")
            assert status == 200 and json.loads(body)["redis"] == "ok"
            rt.pipeline.process(
                [json.dumps(entry(BUGS[0], random.Random(1), time.time())).encode(), b"{"]
            )
            rt.notifier.run_once()
            status, body = _get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            lines = dict(
                line.rsplit(" ", 1) for line in body.splitlines() if not line.startswith("#")
            )
            assert float(lines["triage_entries_in_total"]) >= 2
            assert float(lines["triage_dead_lettered_total"]) >= 1
            assert (
                float(lines['triage_slack_calls_total{method="chat.postMessage",result="ok"}']) >= 1
            )
            assert "triage_batch_seconds_bucket" in body or "triage_batch_seconds_count" in body
            # Redis down -> 503, so Cloud Run / Kubernetes see it
            rt.store.r = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
            status, body = _get(f"http://127.0.0.1:{port}/healthz")
            assert status == 503 and json.loads(body)["ok"] is False
        finally:
            server.shutdown()
