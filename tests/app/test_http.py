"""/healthz and /metrics on the bot's HTTP server."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request

import redis
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthz_and_metrics(redis_url: str, key_prefix: str) -> None:
    with (
        SlackStandIn("http-secret-0123", "xoxb-h") as slack,
        running_bot(slack, redis_url, key_prefix) as (rt, url),
    ):
        base = url.removesuffix("/slack/events")
        status, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body)["redis"] == "ok"
        rt.pipeline.process(
            [json.dumps(entry(BUGS[0], random.Random(1), time.time())).encode(), b"{"]
        )
        rt.notifier.run_once()
        status, body = _get(f"{base}/metrics")
        assert status == 200
        lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if not line.startswith("#"))
        assert float(lines["triage_entries_in_total"]) >= 2
        assert float(lines["triage_dead_lettered_total"]) >= 1
        assert float(lines['triage_slack_calls_total{method="chat.postMessage",result="ok"}']) >= 1
        assert "triage_batch_seconds_count" in body
        # Redis down -> 503, so Cloud Run / Kubernetes see it
        rt.store.r = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        status, body = _get(f"{base}/healthz")
        assert status == 503 and json.loads(body)["ok"] is False
