"""HTTP front door under load: signed slash commands against `triage-bot serve`.

Slack gives an app 3 s to ack a request. This runs the real server (a subprocess, waitress),
with its own redis-server, the Pub/Sub stand-in and the Slack stand-in, and prints the ack and
answer (response_url) latency of signed `/triage top 24h`:

* alone: a steady trickle from 4 clients;
* while 300 idle connections are held open (re-opened as the server times them out);
* 2,000 in 20 s (100/s) over a day of history.

    .venv/bin/python bench/http_ack.py [--load N] [--seconds S]

(Not bench/http.py: a script's directory comes first on sys.path, so that name would hide
the standard library's `http` package from every other script in bench/.)

Last line: http alone_p99_ms=... idle300_p99_ms=... load_ack_p99_ms=... load_answer_p99_ms=...
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from google.pubsub_v1 import PublisherClient, SubscriberClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.redis_server import RedisServer
from triage_sandbox.service import free_port
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, STORM_BUGS, entry

BOT = Path(sys.executable).parent / "triage-bot"
SECRET = "http-bench-signing-secret"
TOKEN = "xoxb-http-bench"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


class Bot:
    def __init__(self, workdir: Path) -> None:
        self.redis = RedisServer(workdir / "redis")
        self.redis.start()
        self.slack = SlackStandIn(SECRET, TOKEN)
        self.slack.start()
        self.pubsub = PubSubStandIn()
        host = self.pubsub.start()
        chan = grpc.insecure_channel(host)
        self.publisher = PublisherClient(transport=PublisherGrpcTransport(channel=chan))
        subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=chan))
        self.topic = "projects/http-bench/topics/logs"
        sub = "projects/http-bench/subscriptions/bot"
        self.publisher.create_topic(name=self.topic)
        subscriber.create_subscription(request={"name": sub, "topic": self.topic})
        self.port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "PUBSUB_EMULATOR_HOST": host,
            "PUBSUB_SUBSCRIPTION": sub,
            "REDIS_URL": self.redis.url,
            "DEFAULT_CHANNEL": "C0ALERTS",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            "PULLERS": "1",
        }
        self.log = (workdir / "bot.log").open("wb")
        self.proc = subprocess.Popen([str(BOT), "serve"], env=env, stdout=self.log, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2),
            ):
                return
            time.sleep(0.1)
        raise SystemExit("the bot did not become healthy")

    def seed(self, entries: int) -> None:
        """A day of history: entries of 23 bugs spread over the last 24 h."""
        rng = random.Random(7)
        now = time.time()
        bugs = BUGS + STORM_BUGS
        msgs = [
            {
                "data": json.dumps(
                    entry(bugs[i % len(bugs)], rng, now - rng.uniform(0, 86000))
                ).encode()
            }
            for i in range(entries)
        ]
        for i in range(0, len(msgs), 1000):
            self.publisher.publish(topic=self.topic, messages=msgs[i : i + 1000])
        time.sleep(3)

    def close(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self.slack.stop()
        self.pubsub.stop()
        self.redis.stop()


_users = iter(range(10**9))


def one(bot: Bot, sent: dict[str, float]) -> float:
    """One signed `/triage top 24h` from a user of its own; its ack latency (s)."""
    user = f"U{next(_users):09d}"
    sent[user] = time.time()
    started = time.monotonic()
    status, _ = bot.slack.send_slash_command(bot.url, "/triage", "top 24h", user_id=user)
    took = time.monotonic() - started
    return took if status == 200 else float("inf")


def answers(bot: Bot, sent: dict[str, float], wait_s: float = 30.0) -> list[float]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        got = {r.user: r.time for r in bot.slack.responses if r.user in sent}
        if len(got) >= len(sent):
            break
        time.sleep(0.2)
    return [got[u] - t for u, t in sent.items() if u in got]


def trickle(bot: Bot, n: int) -> tuple[list[float], list[float]]:
    sent: dict[str, float] = {}
    with ThreadPoolExecutor(4) as pool:
        acks = list(pool.map(lambda _: one(bot, sent), range(n)))
    return acks, answers(bot, sent)


def load(bot: Bot, n: int, seconds: float) -> tuple[list[float], list[float], float]:
    sent: dict[str, float] = {}
    acks: list[float] = []
    started = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        futures = []
        for i in range(n):
            delay = started + i * seconds / n - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, bot, sent))
        acks = [f.result() for f in futures]
    took = time.monotonic() - started
    return acks, answers(bot, sent, 60), took


class IdleConnections:
    """`n` connected sockets that send nothing, re-opened when the server closes them."""

    def __init__(self, port: int, n: int) -> None:
        self.port, self.n = port, n
        self.socks: list[socket.socket] = []
        self.stop = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> IdleConnections:
        for _ in range(self.n):
            self.socks.append(socket.create_connection(("127.0.0.1", self.port)))
        self.thread.start()
        return self

    def _hold(self) -> None:
        while not self.stop.wait(0.5):
            for i, s in enumerate(self.socks):
                s.setblocking(False)
                try:
                    closed = s.recv(1) == b""
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    s.close()
                    with contextlib.suppress(OSError):
                        self.socks[i] = socket.create_connection(("127.0.0.1", self.port))
                        self.reopened += 1

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(2)
        for s in self.socks:
            s.close()


def show(name: str, acks: list[float], answered: list[float], n: int) -> None:
    ok = [a for a in acks if a != float("inf")]
    print(
        f"  {name:<22} n={n:<5} ack p50={statistics.median(ok) * 1000:6.0f} ms "
        f"p99={pct(ok, 99) * 1000:6.0f} ms max={max(ok) * 1000:6.0f} ms "
        f"within 3 s={sum(a < 3 for a in ok) / n:6.1%} | answer p50={pct(answered, 50) * 1000:6.0f} ms "
        f"p99={pct(answered, 99) * 1000:6.0f} ms answered={len(answered)}/{n}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trickle", type=int, default=200)
    ap.add_argument("--load", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=20_000, help="entries of history")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tb-http-") as tmp:
        bot = Bot(Path(tmp))
        try:
            bot.seed(args.seed)
            print(f"bench/http: triage-bot serve (waitress), {args.seed} entries of history")
            acks, answered = trickle(bot, args.trickle)
            show("alone", acks, answered, args.trickle)
            alone = pct(acks, 99)
            with IdleConnections(bot.port, 300) as idle:
                acks, answered = trickle(bot, args.trickle)
                show("300 idle connections", acks, answered, args.trickle)
                idle300 = pct(acks, 99)
                reopened = idle.reopened
            print(f"  (idle connections re-opened after the server's timeout: {reopened})")
            acks, answered, took = load(bot, args.load, args.seconds)
            show(f"{args.load} in {args.seconds:.0f} s", acks, answered, args.load)
            print(f"  load sent in {took:.1f} s")
            print(
                f"http alone_p99_ms={alone * 1000:.0f} idle300_p99_ms={idle300 * 1000:.0f} "
                f"idle300_ratio={idle300 / alone:.2f} load_ack_p99_ms={pct(acks, 99) * 1000:.0f} "
                f"load_answer_p99_ms={pct(answered, 99) * 1000:.0f} load_s={took:.1f}"
            )
        finally:
            bot.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
