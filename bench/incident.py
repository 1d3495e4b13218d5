"""An outage and three unrelated bugs, in simulated time: does correlation find the outage?

One shared cause (Cloud SQL billing-db at 10.40.0.3:5432 refusing connections) makes 12
services fail, each in its own runtime's words (psycopg2, SQLAlchemy, Go, Node, Java, Ruby),
at 200 entries/s for 2 minutes; in the same minutes 3 unrelated code bugs (a KeyError, a Node
TypeError, a Java NullPointerException) start in 3 other services. The entries go through
`Pipeline.process` into real Redis and `Notifier.run_once` posts to the Slack stand-in (its
per-channel rate limit on), with an injected clock, as bench/storm.py does; then the stored
groups are correlated as the notifier sees them (`bot.incident.correlate`).

    .venv/bin/python -m bench.incident
    .venv/bin/python -m bench.incident --rate 50 --seconds 60

Prints one line:
incident candidates=N grouped_correct=N/12 unrelated_apart=N/3 posts=N updates=N unhandled_429=N
(grouped_correct: outage groups inside the one candidate; unrelated_apart: unrelated bugs in no
candidate; posts: top-level messages; updates: chat.update calls).
Target: candidates=1, 12/12, 3/3, and posts no more than one for the outage plus one per bug
(the digest opens once 3 new groups share a cause, so the first 2 are posted before it).
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

from bot.incident.correlate import Candidate, correlate, episode_of
from bot.ingest.pull import Pipeline
from bot.metrics import Metrics
from bot.models import Destination
from bot.notify.notifier import Notifier
from bot.notify.sender import Sender, make_client
from bot.store.keys import NSHARDS, Keys
from bot.store.redis_store import RedisStore

T0 = 1_764_000_000.0
CHANNEL = "C0ALERTS"
PROJECT = "acme-prod"
DB = "10.40.0.3:5432"
CONN = "acme-prod:asia-northeast1:billing-db"


def _py(svc: str, n: int, rng: random.Random) -> str:
    return (
        "Traceback (most recent call last):\n"
        f'  File "/app/{svc}/db.py", line {20 + n}, in query_{n}\n'
        "    conn = pool.getconn()\n"
        '  File "/usr/lib/python3.11/site-packages/psycopg2/pool.py", line 93, in getconn\n'
        "    return self._connect(key)\n"
        f'psycopg2.OperationalError: connection to server at "10.40.0.3", port 5432 failed: '
        f"Connection refused (pid {rng.randint(1, 99999)})\n"
    )


def _go(svc: str, n: int, rng: random.Random) -> str:
    return (
        f"failed to load order {rng.randint(1, 10**6)}: dial tcp {DB}: connect: connection refused"
        f"\n\ngoroutine {rng.randint(1, 999)} [running]:\nmain.load{n}(...)\n"
        f"\t/src/{svc}/store.go:{30 + n} +0x1d\n"
    )


def _node(svc: str, n: int, rng: random.Random) -> str:
    return (
        f"Error: connect ECONNREFUSED {DB}\n"
        f"    at handler{n} (/srv/{svc}/db.js:{12 + n}:7)\n"
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16)\n"
    )


def _java(svc: str, n: int, rng: random.Random) -> str:
    return (
        f"org.postgresql.util.PSQLException: Connection to {DB} refused. Check that the "
        "hostname and port are correct and that the postmaster is accepting TCP/IP connections.\n"
        f"\tat com.acme.{svc.replace('-', '')}.Repo{n}.find(Repo{n}.java:{40 + n})\n"
        "\tat org.postgresql.Driver.connect(Driver.java:282)\n"
    )


def _socket(svc: str, n: int, rng: random.Random) -> str:
    return (
        f"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server on "
        f'socket "/cloudsql/{CONN}/.s.PGSQL.5432" failed: Connection refused '
        f"[request {rng.randint(10**8, 10**9)}] at {DB}\n"
    )


RUNTIMES = (_py, _go, _node, _java, _socket)
OUTAGE_SERVICES = [
    "invoice-api",
    "billing-worker",
    "ledger",
    "checkout",
    "payments",
    "refunds",
    "statements",
    "tax",
    "subscriptions",
    "dunning",
    "reports",
    "webhooks",
]


def _unrelated(k: int, rng: random.Random) -> tuple[str, str]:
    if k == 0:
        return "cart", (
            "Traceback (most recent call last):\n"
            '  File "/app/cart/views.py", line 88, in add_item\n'
            "    sku = payload['sku']\n"
            f"KeyError: 'sku' (item {rng.randint(1, 10**6)})\n"
        )
    if k == 1:
        return "search", (
            "TypeError: Cannot read properties of undefined (reading 'facets')\n"
            f"    at render (/srv/search/results.js:{rng.choice((41, 41, 41))}:18)\n"
        )
    return "profile", (
        'java.lang.NullPointerException: Cannot invoke "String.length()" because '
        '"nickname" is null\n\tat com.acme.profile.Names.short(Names.java:17)\n'
    )


def _entry(svc: str, text: str, n: int, ts: float) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    return {
        "insertId": f"inc-{n}",
        "timestamp": stamp,
        "receiveTimestamp": stamp,
        "severity": "ERROR",
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": PROJECT,
                "service_name": svc,
                "revision_name": f"{svc}-00042-abc",
                "location": "asia-northeast1",
                "configuration_name": svc,
            },
        },
        "textPayload": text,
    }


def entries(rate: float, seconds: float, rng: random.Random) -> list[tuple[float, str, bytes]]:
    """(timestamp, kind, payload): the outage ramps up over its first 10 s, the unrelated bugs
    start at 5 s, 40 s and 70 s and recur at a few per second."""
    out: list[tuple[float, str, bytes]] = []
    n = 0
    for _ in range(int(rate * seconds)):
        ts = T0 + rng.random() * seconds
        i = rng.randrange(len(OUTAGE_SERVICES))
        if ts - T0 < i:  # service i starts failing i seconds in (pools drain one by one)
            ts += i
        svc = OUTAGE_SERVICES[i]
        text = RUNTIMES[i % len(RUNTIMES)](svc, i, rng)
        out.append((ts, "outage", json.dumps(_entry(svc, text, n, ts)).encode()))
        n += 1
    for k, start in enumerate((5.0, 40.0, 70.0)):
        for j in range(int(3 * (seconds - start))):
            ts = T0 + start + j / 3
            svc, text = _unrelated(k, rng)
            out.append((ts, "unrelated", json.dumps(_entry(svc, text, n, ts)).encode()))
            n += 1
    out.sort(key=lambda x: x[0])
    return out


def stored_candidates(store: RedisStore, client: redis.Redis) -> tuple[list[Candidate], dict]:
    gids = sorted(
        {m.decode() for s in range(NSHARDS) for m in client.zrange(store.keys.index(s), 0, -1)}
    )
    groups = {g.id: g for g in store.load_groups(gids) if g is not None}
    eps = [
        episode_of(
            g.id,
            g.service,
            g.title,
            g.first,
            g.sample,
            revision=g.get("revision") or None,
            count=g.count,
        )
        for g in groups.values()
    ]
    return correlate(eps), groups


def run(rate: float, seconds: float, step: float, redis_url: str) -> dict[str, Any]:
    rng = random.Random(15)
    payloads = entries(rate, seconds, rng)
    client = redis.Redis.from_url(redis_url)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    clock = FakeClock(T0)
    methods = ("chat.postMessage", "chat.update")
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
            end = T0 + seconds + 65.0
            while clock.now < end:
                batch = []
                while i < len(payloads) and payloads[i][0] < clock.now + step:
                    batch.append(payloads[i][2])
                    i += 1
                if batch:
                    pipeline.process(batch)
                notifier.run_once()
                clock.now += step
            calls = slack.calls
            for name, k in sorted(Counter(f"{c.method} {c.status}" for c in calls).items()):
                print(f"  {name:<28} {k:>6}")
            ok = [c for c in calls if c.ok]
            posts = [
                c for c in ok if c.method == "chat.postMessage" and not c.args.get("thread_ts")
            ]
            updates = [c for c in ok if c.method == "chat.update"]
            unhandled = sum(
                metrics.value("triage_slack_calls_total", method=m, result="ratelimited")
                for m in methods
            )
            cands, groups = stored_candidates(store, client)
            outage = {g.id for g in groups.values() if g.service in OUTAGE_SERVICES}
            unrelated = set(groups) - outage
            inside = [set(c.group_ids) for c in cands]
            best = max(inside, key=lambda s: len(s & outage), default=set())
            for c in cands:
                print(f"  candidate: {c.summary()}")
            return {
                "candidates": len(cands),
                "grouped_correct": f"{len(best & outage) if len(cands) == 1 else 0}/{len(outage)}",
                "unrelated_apart": (
                    f"{sum(1 for g in unrelated if not any(g in s for s in inside))}/"
                    f"{len(unrelated)}"
                ),
                "posts": len(posts),
                "updates": len(updates),
                "unhandled_429": int(unhandled),
            }
    finally:
        for key in client.scan_iter(match=Keys(prefix).pattern(), count=1000):
            client.delete(key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=200.0, help="outage entries per second")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--step", type=float, default=0.5, help="simulated seconds per pass")
    ap.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    a = ap.parse_args()
    r = run(a.rate, a.seconds, a.step, a.redis)
    print("incident " + " ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
