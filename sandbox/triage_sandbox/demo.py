"""`triage-bot demo`: the bot's main job, locally, on real components and stand-ins.

Starts what it needs on 127.0.0.1 (Redis if none answers on REDIS_URL; Google's Pub/Sub
emulator if installed, else the in-process stand-in; the Slack stand-in), runs the bot,
publishes generated error traffic in bursts, and prints the alerts as they are posted."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import grpc
from google.cloud import pubsub_v1
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from triage_sandbox.pubsub_emulator import PubSubEmulator, emulator_available
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.redis_server import RedisStartError, ensure_redis
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, MONOREPO_BUGS, STORM_BUGS, entry

PROJECT = "triage-demo"
SECRET = "demo-signing-secret-not-a-real-one"
TOKEN = "xoxb-demo-token"


def add_arguments_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--duration", type=float, default=0, help="stop after N seconds (0: run until Ctrl-C)"
    )
    p.add_argument("--ui-port", type=int, default=3000, help="Slack sandbox port (default 3000)")
    p.add_argument("--bot-port", type=int, default=0, help="bot HTTP port (default: a free one)")
    p.add_argument(
        "--standin",
        action="store_true",
        help="use the Pub/Sub stand-in even if the emulator is installed",
    )
    p.add_argument("--entries", type=int, default=600, help="entries in the opening storm")


@contextmanager
def redis_here(url: str) -> Iterator[str]:
    try:
        with ensure_redis(url) as (found, started):
            print(f"· Redis: {'started redis-server at' if started else 'using'} {found}")
            yield found
    except RedisStartError as exc:
        raise SystemExit(f"no Redis answers on {url} and {exc}") from None


@contextmanager
def pubsub_endpoint(force_standin: bool) -> Iterator[str]:
    if not force_standin and emulator_available():
        with PubSubEmulator() as emu:
            host = emu.host
            print(f"· Pub/Sub: Google's emulator on {host}")
            yield host
        return
    with PubSubStandIn() as standin:
        host = standin.host
        print(f"· Pub/Sub: in-process stand-in on {host}")
        yield host


def _publisher(host: str) -> pubsub_v1.PublisherClient:
    return pubsub_v1.PublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host))
    )


def _subscriber(host: str) -> pubsub_v1.SubscriberClient:
    return pubsub_v1.SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(host))
    )


def _watch(slack: SlackStandIn, stop: threading.Event) -> None:
    """Print what the bot does in Slack, as it happens."""
    seen = 0
    while not stop.wait(0.3):
        calls = slack.calls
        for c in calls[seen:]:
            if c.method not in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
                continue
            args: dict[str, Any] = c.args
            text = str(args.get("text", ""))[:110]
            where = args.get("channel", "")
            status = "ok" if c.ok else f"FAILED {c.error}"
            if c.method == "chat.postMessage" and args.get("thread_ts"):
                print(f"  ↳ thread reply in {where}: {text} [{status}]")
            elif c.method == "chat.postMessage":
                print(f"  ● new alert in {where}: {text} [{status}]")
            elif c.method == "chat.update":
                count = _count(args.get("blocks"))
                print(f"  ↻ updated {where} {args.get('ts')}: count={count} [{status}]")
        seen = len(calls)


def _count(blocks: Any) -> str:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for b in blocks or []:
        for f in b.get("fields", []) if isinstance(b, dict) else []:
            if "\n" in f.get("text", "") and f["text"].split("\n")[0] in ("*Count*", "*件数*"):
                return str(f["text"].split("\n", 1)[1])
    return "?"


# The demo's routing config: everything to #alerts as before, except the monorepo service
# "mono", whose errors go to the team owning the code that threw them (`owner: code`), and a
# payments rotation that hands over HANDOFF_AFTER_S after start (`/triage oncall` shows it).
DEMO_CHANNELS = {"C0PAYMT": "payments-alerts", "C0SEARCH": "search-alerts"}
DEMO_USERS = {"U1": "alice", "U2": "bob", "U0KENJI": "kenji", "U0MARIE": "marie"}


HANDOFF_AFTER_S = 50.0  # the payments rotation hands over this long after the demo starts


def demo_config(now: float) -> str:
    handoff = time.gmtime(now + HANDOFF_AFTER_S)
    return f"""\
defaults: {{update_interval: 5s, escalate_after: 2m, repeat_interval: 5m}}
teams:
  - {{name: platform, channel: C0ALERTS}}
  - name: payments
    channel: C0PAYMT
    oncall: "@payments-oncall"
    rotation:
      members: [U0KENJI, U0MARIE]
      handoff: "{time.strftime("%H:%M:%S", handoff)}"
      length: 1d
      start: {time.strftime("%Y-%m-%d", handoff)}
  - {{name: search, channel: C0SEARCH}}
owners:
  rules:
    - {{path: /services/payments/, team: payments}}
    - {{path: /services/search/, team: search}}
routes:
  - {{match: {{service: mono}}, team: platform, owner: code}}
default_route: {{team: platform}}
"""


def _oncall(slack: SlackStandIn, bot_url: str) -> None:
    """Type `/triage oncall payments` in #alerts and print the answer."""
    before = len(slack.responses)
    slack.send_slash_command(bot_url, "/triage", "oncall payments", "U1", "C0ALERTS")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(slack.responses) == before:
        time.sleep(0.1)
    for r in slack.responses[before:]:
        print("  /triage oncall payments →", str(r.payload.get("text", "")).replace("\n", " | "))


def _publish(publisher: pubsub_v1.PublisherClient, topic: str, entries: list[bytes]) -> None:
    for f in [publisher.publish(topic, data) for data in entries]:
        f.result(timeout=30)


def _traffic(
    publisher: pubsub_v1.PublisherClient,
    topic: str,
    n: int,
    stop: threading.Event,
    resolve_one: Callable[[], str | None],
    oncall: Callable[[], None] = lambda: None,
    handoff_at: float = 0.0,
) -> None:
    """What a bad morning looks like, in a minute:
    1. a storm over the usual bugs (alerts appear, counts update);
    2. an upstream outage making 15 batch steps fail at once (more than the digest threshold:
       one digest instead of 15 posts);
    3. a quiet period; bob resolves one alert (and you can ack, resolve, snooze in the sandbox);
    4. recurrences: the resolved one comes back as a regression;
    5. the monorepo: two modules of one service, owned by two teams, alert in two channels;
       `/triage oncall` before and after the payments rotation hands over."""
    rng = random.Random(42)
    weights = [1.0 / (i + 1) for i in range(len(BUGS))]

    def storm(count: int) -> list[bytes]:
        now = time.time()
        return [
            json.dumps(entry(rng.choices(BUGS, weights)[0], rng, now + i / 1000)).encode()
            for i in range(count)
        ]

    steps: list[tuple[str, Callable[[], None]]] = [
        (f"storm: {n} entries over {len(BUGS)} bugs", lambda: _publish(publisher, topic, storm(n))),
        ("pause 8 s", lambda: stop.wait(8)),
        (
            f"outage: {len(STORM_BUGS)} batch steps fail at once (digest)",
            lambda: _publish(
                publisher,
                topic,
                [
                    json.dumps(entry(b, rng, time.time())).encode()
                    for b in STORM_BUGS
                    for _ in range(3)
                ],
            ),
        ),
        ("quiet 15 s: acknowledge, resolve or snooze alerts in the sandbox", lambda: stop.wait(15)),
        (
            "monorepo: payments' and search's modules of service mono fail (code owners)",
            lambda: _publish(
                publisher,
                topic,
                [json.dumps(entry(b, rng, time.time())).encode() for b in MONOREPO_BUGS],
            ),
        ),
        ("who is on call for payments", oncall),
        ("bob resolves the top alert", lambda: print(f"  (resolved {resolve_one()})")),
        ("pause 5 s", lambda: stop.wait(5)),
        (
            f"recurrences: {n // 5} entries (the resolved alert regresses)",
            lambda: _publish(publisher, topic, storm(n // 5)),
        ),
        (
            "wait for the payments rotation's handoff",
            lambda: stop.wait(max(0.0, handoff_at + 2 - time.time())),
        ),
        ("who is on call for payments now", oncall),
    ]
    for label, step in steps:
        if stop.is_set():
            return
        print(f"· traffic: {label}")
        step()
    print("· traffic: done; the bot keeps running (Ctrl-C to stop)")


def cmd_demo(args: argparse.Namespace) -> int:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    with ExitStack() as stack:
        url = stack.enter_context(redis_here(redis_url))
        host = stack.enter_context(pubsub_endpoint(args.standin))
        slack = stack.enter_context(
            SlackStandIn(SECRET, TOKEN, port=args.ui_port, users=DEMO_USERS)
        )
        for cid, name in DEMO_CHANNELS.items():
            slack.add_channel(cid, name)
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="triage-demo-"))
        config_path = os.path.join(workdir, "triage.yml")
        with open(config_path, "w", encoding="utf-8") as f:
            started = time.time()
            f.write(demo_config(started))
        print(f"· Slack stand-in on {slack.base_url} (open it in a browser)")
        publisher = _publisher(host)
        topic = publisher.create_topic(name=f"projects/{PROJECT}/topics/error-logs").name
        sub = f"projects/{PROJECT}/subscriptions/triage-bot"
        prefix = f"demo{int(time.time())}"
        _subscriber(host).create_subscription(name=sub, topic=topic, ack_deadline_seconds=60)
        rt, bot_url = stack.enter_context(
            running_bot(
                slack,
                url,
                prefix,
                with_puller=True,
                pull_timeout=2.0,
                loops=0.2,
                port=args.bot_port,
                pubsub_subscription=sub,
                pubsub_emulator_host=host,
                update_interval_s=5.0,
                triage_config=config_path,
            )
        )
        base = bot_url.removesuffix("/slack/events")
        print(f"· bot serving on {base} (/slack/events, /healthz, /metrics)")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threading.Thread(target=_watch, args=(slack, stop), daemon=True).start()

        def resolve_top() -> str | None:
            rows = rt.deps.history.top(time.time(), "1h", n=1)
            if not rows:
                return None
            rt.deps.lifecycle.act(rows[0].group.id, "resolve", "U2")
            return rows[0].group.title

        threading.Thread(
            target=_traffic,
            args=(
                publisher,
                topic,
                args.entries,
                stop,
                resolve_top,
                lambda: _oncall(slack, bot_url),
            ),
            kwargs={"handoff_at": started + HANDOFF_AFTER_S},
            daemon=True,
        ).start()
        stop.wait(args.duration or None)
        stop.set()
        counters = rt.store.counters()
        posts = len([c for c in slack.calls_for("chat.postMessage") if not c.args.get("thread_ts")])
        print(
            f"· summary: alerts posted={posts} updates={len(slack.calls_for('chat.update'))} "
            f"dead-lettered={counters.get('dead_lettered', 0)}"
        )
    return 0
