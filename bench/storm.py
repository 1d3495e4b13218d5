"""An error storm into one Slack channel, in simulated time: 10,000 errors from 20 bugs within
60 s. Drives `Pipeline.process` (parse, fingerprint, record in real Redis) and
`Notifier.run_once` with an injected clock stepping through the minute (and 60 s more for the
coalesced updates to drain), against the Slack stand-in with its per-channel rate limit on.
The pacer's sleep advances the simulated clock, so the run takes seconds.

    .venv/bin/python -m bench.storm
    .venv/bin/python -m bench.storm --errors 20000 --groups 40 --step 0.25

Prints the Slack calls by method, then one line:
storm errors=N groups=N posts=N updates=N digests=N unhandled_429=N missing_groups=N
(posts: top-level messages, digests included; updates: chat.update calls).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import redis
from triage_sandbox.clock import FakeClock
from triage_sandbox.slack_standin import SlackStandIn

from bot.ingest.pull import Pipeline
from bot.metrics import Metrics
from bot.models import Destination
from bot.notify.notifier import Notifier
from bot.notify.sender import Sender, make_client
from bot.store.keys import NSHARDS, Keys
from bot.store.redis_store import RedisStore

T0 = 1_764_000_000.0
CHANNEL = "C0ALERTS"
PROJECT = "demo-prod"


def entry(bug: int, n: int, ts: float, rng: random.Random) -> dict[str, Any]:
    """A Python traceback of bug `bug` from Cloud Run service shop-<bug % 4>."""
    service = f"shop-{bug % 4}"
    text = (
        "Traceback (most recent call last):\n"
        f'  File "/app/shop/api_{bug}.py", line {40 + bug}, in handle_{bug}\n'
        f"    result = step_{bug}(request)\n"
        f'  File "/app/shop/step_{bug}.py", line {10 + bug}, in step_{bug}\n'
        f"    raise ValueError(f'bad input {{value}}')\n"
        f"ValueError{bug}: bad input {rng.randint(1, 10**9)} for order {rng.randint(1, 10**6)}\n"
    )
    stamp = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    return {
        "insertId": f"storm-{n}",
        "timestamp": stamp,
        "receiveTimestamp": stamp,
        "severity": "ERROR",
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": PROJECT,
                "service_name": service,
                "revision_name": f"{service}-00042-abc",
                "location": "asia-northeast1",
                "configuration_name": service,
            },
        },
        "textPayload": text,
    }


def run(errors: int, groups: int, seconds: float, step: float, redis_url: str) -> dict[str, int]:
    rng = random.Random(11)
    # Zipf-like: a few bugs make most of the noise
    weights = [1.0 / (i + 1) for i in range(groups)]
    bugs = rng.choices(range(groups), weights, k=errors)
    times = sorted(T0 + rng.random() * seconds for _ in range(errors))
    payloads = [
        (ts, json.dumps(entry(b, i, ts, rng)).encode())
        for i, (b, ts) in enumerate(zip(bugs, times, strict=True))
    ]
    client = redis.Redis.from_url(redis_url)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    clock = FakeClock(T0)
    metrics = Metrics()
    try:
        with SlackStandIn("bench-signing-secret", "xoxb-bench", channel_rate_limit=True) as slack:
            store = RedisStore(client, prefix)
            pipeline = Pipeline(store, clock=clock)
            sender = Sender(
                make_client("xoxb-bench", slack.api_url), sleep=clock.sleep, metrics=metrics
            )
            notifier = Notifier(
                store,
                sender,
                lambda g: [Destination(CHANNEL)],
                default_channel=CHANNEL,
                clock=clock,
            )
            i = 0
            end = T0 + seconds + 65.0  # the storm, then time for the coalesced updates
            while clock.now < end:
                batch = []
                while i < len(payloads) and payloads[i][0] < clock.now + step:
                    batch.append(payloads[i][1])
                    i += 1
                if batch:
                    pipeline.process(batch)
                notifier.run_once()
                clock.now += step  # (pacing may have moved it on already)
            calls = slack.calls
            by_method = Counter(f"{c.method} {c.status}" for c in calls)
            for name, n in sorted(by_method.items()):
                print(f"  {name:<28} {n:>6}")
            ok = [c for c in calls if c.ok]
            posts = [
                c for c in ok if c.method == "chat.postMessage" and not c.args.get("thread_ts")
            ]
            replies = [c for c in ok if c.method == "chat.postMessage" and c.args.get("thread_ts")]
            updates = [c for c in ok if c.method == "chat.update"]
            digests = [c for c in posts if "new errors at once" in str(c.args.get("text"))]
            per_message = Counter(c.args["ts"] for c in updates)
            gids = {
                m.decode()
                for s in range(NSHARDS)
                for m in client.zrange(store.keys.index(s), 0, -1)
            }
            shown = json.dumps(slack.messages(CHANNEL))
            missing = [g for g in gids if f"`{g}`" not in shown]
            unhandled = sum(
                metrics.value("triage_slack_calls_total", method=m, result="ratelimited")
                for m in ("chat.postMessage", "chat.update")
            )
            simulated = seconds + 65.0
            print(
                f"  thread replies {len(replies)}; most updates of one message "
                f"{max(per_message.values(), default=0)} in {simulated:.0f} s simulated "
                f"(bound {int(simulated // 30) + 1} at one per 30 s); handled 429s "
                f"{sum(1 for c in calls if c.status == 429)}"
            )
            return {
                "errors": errors,
                "groups": len(gids),
                "posts": len(posts),
                "updates": len(updates),
                "digests": len(digests),
                "unhandled_429": int(unhandled),
                "missing_groups": len(missing),
            }
    finally:
        for key in client.scan_iter(match=Keys(prefix).pattern(), count=1000):
            client.delete(key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--errors", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--step", type=float, default=0.5, help="simulated seconds per pass")
    ap.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    a = ap.parse_args()
    r = run(a.errors, a.groups, a.seconds, a.step, a.redis)
    print("storm " + " ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
