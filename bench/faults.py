"""Fault scenarios on real processes: nothing lost, nothing doubled.

Each scenario runs bot replicas as subprocesses (`triage-bot serve`) against its own
redis-server (loopback port, temp dir), Google's Pub/Sub emulator when installed (else the
in-process stand-in), and a Slack stand-in in this process; publishes LogEntry JSON from
`sandbox/triage_sandbox/traffic.py` with unique insertIds; injects a fault; then checks that

* every published entry is counted exactly once (per group: Redis count == distinct insertIds
  published for it; the grouping is computed here with the bot's own fingerprinter), and
* every group has exactly one top-level Slack message in the channel (a digest counts as the
  message of each group it lists; thread replies do not count).

    .venv/bin/python bench/faults.py            # all scenarios (a few minutes)
    .venv/bin/python bench/faults.py kill dup   # some of them

Durations are scaled down so the run takes minutes (see SCALE below and the README text).
Last line: faults scenarios=N passed=N lost=N duplicated=N double_posts=N
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import redis
from google.pubsub_v1 import PublisherClient, SubscriberClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
from triage_sandbox.pubsub_emulator import PubSubEmulator, emulator_available
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.redis_server import RedisServer
from triage_sandbox.service import free_port
from triage_sandbox.slack_standin import ApiCall, SlackStandIn
from triage_sandbox.traffic import BUGS, STORM_BUGS, Bug, entry

from bot.grouping import make_fingerprinter
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent
from bot.store.keys import Keys

ROOT = Path(__file__).resolve().parent.parent
BOT = Path(sys.executable).parent / "triage-bot"
PROJECT = "faults-bench"
CHANNEL = "C0ALERTS"
SECRET = "faults-signing-secret-4f1c"
TOKEN = "xoxb-faults-0000"
GID = re.compile(r"fp\d-[0-9a-z]+")

# Scaled down to fit a run of minutes (the full-size scenario's figure in brackets).
REDIS_DOWN_S = 30.0  # [30 s]
SLACK_FAULT_S = 30.0  # [60 s]: 500s and 429s (Retry-After) on every call
STORM_ENTRIES = 100_000  # [100,000]
DEADLINE_S = 240.0  # per scenario, waiting for the final state


# ---- processes ------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Replica:
    """One `triage-bot serve` process."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name, self.env, self.workdir = name, env, workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.port = 0

    def start(self) -> None:
        self.starts += 1
        self.port = free_port()
        env = {**self.env, "PORT": str(self.port)}
        log = (self.workdir / f"{self.name}.{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [str(BOT), "serve"], env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def output(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in self.workdir.glob(f"{self.name}.*.log")
        )


# ---- traffic and accounting ---------------------------------------------------------------


@dataclass
class Traffic:
    """What was published: payloads and the group each distinct insertId belongs to."""

    group_of: dict[str, str] = field(default_factory=dict)  # insertId -> gid
    sent: int = 0  # messages published, duplicates included

    def expected(self) -> Counter[str]:
        return Counter(self.group_of.values())


class Grouper:
    """The bot's grouping (no routing config): bug -> group id, checked on a few entries of
    each bug (a bug's occurrences must all land in one group, by design)."""

    def __init__(self) -> None:
        self.fp = make_fingerprinter(lambda: None)
        self.by_bug: dict[str, str] = {}

    def gid(self, bug: Bug, payload: bytes) -> str:
        known = self.by_bug.get(bug.name)
        if known is not None and random.random() > 0.01:
            return known
        ev = parse_entry(payload)
        assert isinstance(ev, ErrorEvent), ev
        gid = self.fp(ev).id
        if known is not None and known != gid:
            raise AssertionError(f"bug {bug.name} split into {known} and {gid}")
        self.by_bug[bug.name] = gid
        return gid


def make_entries(
    n: int, bugs: tuple[Bug, ...], grouper: Grouper, traffic: Traffic, seed: int
) -> list[bytes]:
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(bugs))]
    now = time.time()
    out = []
    for i in range(n):
        bug = rng.choices(bugs, weights)[0]
        iid = uuid.uuid4().hex
        data = json.dumps(entry(bug, rng, now - 60 + i * 60 / max(n, 1), iid)).encode()
        traffic.group_of[iid] = grouper.gid(bug, data)
        out.append(data)
    return out


def post_gids(call: ApiCall) -> set[str]:
    return set(GID.findall(json.dumps(call.args.get("blocks") or [])))


@dataclass
class Tally:
    published: int
    counted: int
    duplicated: int
    lost: int
    expected_msgs: int
    posted: int
    double_posts: int
    missing: int

    @property
    def exact(self) -> bool:
        return (
            self.lost == 0 and self.duplicated == 0 and self.double_posts == 0 and not self.missing
        )


# ---- one scenario's world ------------------------------------------------------------------


class World:
    """Redis, the Slack stand-in, a topic and subscription, and N bot replicas."""

    def __init__(
        self,
        name: str,
        pubsub_host: str,
        *,
        replicas: int = 2,
        durable_redis: bool = False,
        pullers: int = 3,
        extra_env: dict[str, str] | None = None,
        ack_deadline: int = 10,
        redis_args: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"tb-faults-{name}-"))
        self.redis = RedisServer(self.dir / "redis", durable=durable_redis, extra_args=redis_args)
        self.redis.start()
        self.slack = SlackStandIn(SECRET, TOKEN)
        self.slack.start()
        self.prefix = f"f{uuid.uuid4().hex[:8]}"
        self.keys = Keys(self.prefix)
        self.host = pubsub_host
        chan = grpc.insecure_channel(pubsub_host)
        self.publisher = PublisherClient(transport=PublisherGrpcTransport(channel=chan))
        self.subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=chan))
        self.topic = f"projects/{PROJECT}/topics/logs-{self.prefix}"
        self.sub = f"projects/{PROJECT}/subscriptions/bot-{self.prefix}"
        self.publisher.create_topic(name=self.topic)
        self.subscriber.create_subscription(
            request={"name": self.sub, "topic": self.topic, "ack_deadline_seconds": ack_deadline}
        )
        self.traffic = Traffic()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "PUBSUB_EMULATOR_HOST": pubsub_host,
            "PUBSUB_SUBSCRIPTION": self.sub,
            "REDIS_URL": self.redis.url,
            "REDIS_PREFIX": self.prefix,
            "DEFAULT_CHANNEL": CHANNEL,
            "UPDATE_INTERVAL_S": "1",
            "PULLERS": str(pullers),
            "PULL_MAX_MESSAGES": "100",
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.replicas = [Replica(f"r{i}", env, self.dir) for i in range(replicas)]
        for r in self.replicas:
            r.start()
        self.r = redis.Redis.from_url(self.redis.url, socket_timeout=5)

    def publish(self, payloads: list[bytes], repeat: Callable[[int], int] = lambda i: 1) -> None:
        msgs = [{"data": p} for i, p in enumerate(payloads) for _ in range(repeat(i))]
        for i in range(0, len(msgs), 1000):
            self.publisher.publish(topic=self.topic, messages=msgs[i : i + 1000])
        self.traffic.sent += len(msgs)

    def tally(self) -> Tally:
        expected = self.traffic.expected()
        gids = sorted(expected)
        counts: dict[str, int] = {}
        with contextlib.suppress(redis.RedisError):
            pipe = self.r.pipeline(transaction=False)
            for gid in gids:
                pipe.hget(self.keys.group(gid), "count")
            counts = {g: int(c or 0) for g, c in zip(gids, pipe.execute(), strict=True)}
        dup = sum(max(0, counts.get(g, 0) - n) for g, n in expected.items())
        lost = sum(max(0, n - counts.get(g, 0)) for g, n in expected.items())
        per_gid = Counter(g for m in self.channel_messages() for g in m)
        return Tally(
            published=len(self.traffic.group_of),
            counted=sum(counts.values()),
            duplicated=dup,
            lost=lost,
            expected_msgs=len(gids),
            posted=sum(min(per_gid[g], 1) for g in gids)
            + sum(max(0, per_gid[g] - 1) for g in gids),
            double_posts=sum(max(0, per_gid[g] - 1) for g in gids),
            missing=sum(1 for g in gids if per_gid[g] == 0),
        )

    def channel_messages(self) -> list[set[str]]:
        """Group ids in each top-level message of the channel as it is now (after edits: a
        digest lists groups that joined after it was posted); thread broadcasts excluded."""
        return [
            set(GID.findall(json.dumps(m.get("blocks") or [])))
            for m in self.slack.messages(CHANNEL)
            if m.get("subtype") != "thread_broadcast"
        ]

    def top_level_posts(self) -> list[ApiCall]:
        return [
            c
            for c in self.slack.calls_for("chat.postMessage")
            if c.ok and not c.args.get("thread_ts") and c.args.get("channel") == CHANNEL
        ]

    def thread_replies(self, text: str) -> Counter[str]:
        """gid -> thread replies containing `text` about that group: under its own message, or
        under a digest that lists it (such a reply names the group)."""
        ts_gids = {str(c.response["ts"]): post_gids(c) for c in self.top_level_posts()}  # type: ignore[index]
        out: Counter[str] = Counter()
        for c in self.slack.calls_for("chat.postMessage"):
            if c.ok and c.args.get("thread_ts") and text in str(c.args.get("text", "")):
                listed = ts_gids.get(str(c.args["thread_ts"]), set())
                named = listed & set(GID.findall(str(c.args.get("text", ""))))
                gids = listed if len(listed) == 1 else named
                if len(gids) == 1:
                    out[next(iter(gids))] += 1
        return out

    def settle(self, t0: float, timeout: float = DEADLINE_S, quiet: float = 3.0) -> float:
        """Wait until everything is counted and every group has its message; then `quiet`
        more seconds (a late second post would show). Returns seconds from t0 (monotonic)."""
        deadline = time.monotonic() + timeout
        done_at = None
        while time.monotonic() < deadline:
            t = self.tally()
            if t.lost == 0 and t.missing == 0:
                done_at = time.monotonic()
                break
            time.sleep(0.25)
        if done_at is None:
            return float("nan")
        time.sleep(quiet)
        return done_at - t0

    def close(self) -> None:
        for r in self.replicas:
            r.stop()
        self.redis.stop()
        self.slack.stop()
        with contextlib.suppress(Exception):
            self.subscriber.delete_subscription(subscription=self.sub)
            self.publisher.delete_topic(topic=self.topic)
        self.publisher.transport.close()
        self.subscriber.transport.close()
        if os.environ.get("FAULTS_KEEP"):
            print(f"  kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- scenarios ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    tally: Tally
    recover_s: float
    note: str = ""
    extra_ok: bool = True

    @property
    def passed(self) -> bool:
        return self.tally.exact and self.extra_ok and self.recover_s == self.recover_s


ALL_BUGS = BUGS + STORM_BUGS  # 23 groups: beyond the digest threshold (10) in one channel


def scenario_dup(host: str, grouper: Grouper) -> Result:
    """Every message delivered 2-3 times: published 2 or 3 times over, and a rogue subscriber
    on the same subscription nacks (ModifyAckDeadline 0) what it pulls for the first 10 s."""
    w = World("dup", host)
    try:
        payloads = make_entries(3000, ALL_BUGS, grouper, w.traffic, seed=1)
        stop = threading.Event()
        nacked = [0]

        def rogue() -> None:
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    resp = w.subscriber.pull(
                        request={"subscription": w.sub, "max_messages": 100}, timeout=2
                    )
                    ids = [m.ack_id for m in resp.received_messages]
                    if ids:
                        w.subscriber.modify_ack_deadline(
                            request={
                                "subscription": w.sub,
                                "ack_ids": ids,
                                "ack_deadline_seconds": 0,
                            }
                        )
                        nacked[0] += len(ids)

        t = threading.Thread(target=rogue, daemon=True)
        t.start()
        w.publish(payloads, repeat=lambda i: 2 + i % 2)
        t0 = time.monotonic()
        time.sleep(10)
        stop.set()
        t.join(5)
        rec = w.settle(t0)
        note = f"sent={w.traffic.sent} nacked={nacked[0]}"
        return Result("every message 2-3x + nacks", w.tally(), rec, note)
    finally:
        w.close()


def scenario_kill(host: str, grouper: Grouper) -> Result:
    """kill -9 of a replica while its pullers hold batches in flight (pulled, not acked), then
    restart it. The groups exist (and are posted) before, so the kill hits counting."""
    w = World("kill", host, replicas=2)
    try:
        warm = make_entries(300, ALL_BUGS, grouper, w.traffic, seed=2)
        w.publish(warm)
        w.settle(time.monotonic(), quiet=0)
        payloads = make_entries(20_000, ALL_BUGS, grouper, w.traffic, seed=3)
        w.publish(payloads)
        victim = w.replicas[0]
        # kill when a third of the backlog is counted: pullers are mid-batch all the time
        deadline = time.monotonic() + 60
        while w.tally().counted < len(warm) + len(payloads) // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.kill9()
        at = w.tally().counted
        time.sleep(2)
        victim.start()
        t0 = time.monotonic()
        rec = w.settle(t0)
        return Result("kill -9 mid-batch + restart", w.tally(), rec, f"killed at {at} counted")
    finally:
        w.close()


def scenario_redis_down(host: str, grouper: Grouper) -> Result:
    """Redis SIGKILLed under load, down REDIS_DOWN_S, restarted on the same port and data dir
    (appendonly yes, appendfsync always: a restart keeps every acknowledged write)."""
    w = World("redis", host, durable_redis=True)
    try:
        warm = make_entries(300, ALL_BUGS, grouper, w.traffic, seed=4)
        w.publish(warm)
        w.settle(time.monotonic(), quiet=0)
        load = make_entries(12_000, ALL_BUGS, grouper, w.traffic, seed=5)
        chunks = [load[i : i + 1000] for i in range(0, len(load), 1000)]
        w.publish(chunks[0])
        time.sleep(1)
        w.redis.kill()
        down_at = time.monotonic()
        for c in chunks[1:]:  # keep publishing while Redis is down
            w.publish(c)
            time.sleep(REDIS_DOWN_S / len(chunks))
        time.sleep(max(0.0, REDIS_DOWN_S - (time.monotonic() - down_at)))
        w.redis.start()
        t0 = time.monotonic()
        rec = w.settle(t0)
        logs = "".join(r.output() for r in w.replicas)
        failed = logs.count("failed:")
        note = f"down {time.monotonic() - down_at - rec:.0f}s, AOF fsync always, {failed} outage lines logged"
        return Result("Redis down 30 s + restart", w.tally(), rec, note)
    finally:
        w.close()


def scenario_noscript(host: str, grouper: Grouper) -> Result:
    """SCRIPT FLUSH five times under load, then a Redis restart (its script cache empty)."""
    w = World("noscript", host, durable_redis=True)
    try:
        load = make_entries(10_000, ALL_BUGS, grouper, w.traffic, seed=6)
        w.publish(load[:5000])
        for _ in range(5):
            time.sleep(0.7)
            w.r.script_flush()
        w.redis.stop()  # SIGTERM: a clean restart (AOF), scripts gone
        w.redis.start()
        w.publish(load[5000:])
        t0 = time.monotonic()
        rec = w.settle(t0)
        return Result("SCRIPT FLUSH x5 + restart", w.tally(), rec, "NOSCRIPT reloaded")
    finally:
        w.close()


def scenario_slack(host: str, grouper: Grouper) -> Result:
    """Every Slack call answered 500 or 429 (Retry-After: 1-2 s) for SLACK_FAULT_S."""
    w = World("slack", host)
    try:
        payloads = make_entries(3000, ALL_BUGS, grouper, w.traffic, seed=7)
        injected = 0
        w.publish(payloads)
        end = time.monotonic() + SLACK_FAULT_S
        i = 0
        while time.monotonic() < end:
            pending = injected - sum(1 for c in w.slack.calls if c.injected)
            while pending < 3:
                if i % 2:
                    w.slack.inject("*", status=500)
                else:
                    w.slack.inject("*", retry_after=1 + i % 3 // 2)
                injected, pending, i = injected + 1, pending + 1, i + 1
            time.sleep(0.05)
        t0 = time.monotonic()
        rec = w.settle(t0)
        faults = sum(1 for c in w.slack.calls if c.injected)
        note = f"{faults} faults answered ({SLACK_FAULT_S:.0f}s, 500 and 429)"
        return Result("Slack 500/429 for 30 s", w.tally(), rec, note)
    finally:
        w.close()


ESCALATION = "still unacknowledged"
UNSNOOZED = "Snooze ended"


def scenario_replicas(host: str, grouper: Grouper) -> Result:
    """Three replicas, one subscription, one Redis: each group posted once; escalations
    (escalate_after 8 s, no repeat within the run) sent once; a 6 s snooze ends once."""
    workdir = Path(tempfile.mkdtemp(prefix="tb-faults-cfg-"))
    cfg = workdir / "triage.yml"
    cfg.write_text(
        "defaults:\n  escalate_after: 8s\n  repeat_interval: 1h\n  update_interval: 1s\n"
        "  digest_threshold: 50\nteams:\n  - name: ops\n    channel: C0ALERTS\n"
        '    oncall: "@ops-oncall"\ndefault_route:\n  team: ops\n'
    )
    w = World("replicas", host, replicas=3, extra_env={"TRIAGE_CONFIG": str(cfg)})
    try:
        from bot.store.redis_store import RedisStore

        store = RedisStore(w.r, w.prefix)
        payloads = make_entries(6000, ALL_BUGS, grouper, w.traffic, seed=8)
        w.publish(payloads)
        t0 = time.monotonic()
        rec = w.settle(t0, quiet=0)
        gids = sorted(w.traffic.expected())
        snoozed = gids[::3]
        for gid in snoozed:
            store.transition(gid, "snooze_for", "U1", time.time(), 6)
        # wait for the escalations of the others and the snoozes to end
        deadline = time.monotonic() + 60
        others = [g for g in gids if g not in snoozed]
        while time.monotonic() < deadline:
            esc, wake = w.thread_replies(ESCALATION), w.thread_replies(UNSNOOZED)
            if all(esc[g] for g in others) and all(wake[g] for g in snoozed):
                break
            time.sleep(0.5)
        time.sleep(4)  # a second escalation or wake-up would show by now
        esc, wake = w.thread_replies(ESCALATION), w.thread_replies(UNSNOOZED)
        ok = all(esc[g] == 1 for g in others) and all(esc[g] <= 1 for g in snoozed)
        ok = ok and all(wake[g] == 1 for g in snoozed) and not any(wake[g] for g in others)
        note = (
            f"escalations {sum(esc.values())}/{len(others)}+, "
            f"snooze ends {sum(wake.values())}/{len(snoozed)}"
        )
        odd = [
            g
            for g in gids
            if esc[g] > 1 or wake[g] > (g in snoozed) or (g in others and not esc[g])
        ]
        if odd:
            note += "; off: " + ", ".join(f"{g[:10]} esc={esc[g]} wake={wake[g]}" for g in odd[:4])
        return Result("3 replicas: post/escalate/snooze", w.tally(), rec, note, extra_ok=ok)
    finally:
        w.close()
        shutil.rmtree(workdir, ignore_errors=True)


def scenario_storm(host: str, grouper: Grouper) -> Result:
    """STORM_ENTRIES published at once onto one replica (PULLERS=3, 100 per Pull): its RSS
    stays bounded (at most 3 x 100 messages in flight) and the backlog drains."""
    w = World("storm", host, replicas=1)
    try:
        warm = make_entries(200, ALL_BUGS, grouper, w.traffic, seed=9)
        w.publish(warm)
        w.settle(time.monotonic(), quiet=0)
        pid = w.replicas[0].pid
        base = rss_mb(pid)
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.25):
                samples.append(rss_mb(pid))

        payloads = make_entries(STORM_ENTRIES, ALL_BUGS, grouper, w.traffic, seed=10)
        threading.Thread(target=sample, daemon=True).start()
        started = time.monotonic()
        w.publish(payloads)
        published = time.monotonic()
        rec = w.settle(published)
        stop.set()
        total = time.monotonic() - started
        peak = max(samples or [base])
        half = samples[: len(samples) // 2] or [base]
        # bounded: the peak is not driven by the backlog (the second half of the run, with a
        # smaller backlog, is not where RSS grows) and stays within 150 MB of the idle size
        bounded = peak - base < 150 and peak <= max(half) + 30
        rate = STORM_ENTRIES / total if total else 0.0
        note = (
            f"RSS {base:.0f}->{peak:.0f} MB, publish {published - started:.0f}s, "
            f"{rate:.0f} entries/s end to end"
        )
        return Result("storm 100k entries", w.tally(), rec, note, extra_ok=bounded)
    finally:
        w.close()


SCENARIOS: dict[str, Callable[[str, Grouper], Result]] = {
    "dup": scenario_dup,
    "kill": scenario_kill,
    "redis": scenario_redis_down,
    "noscript": scenario_noscript,
    "slack": scenario_slack,
    "replicas": scenario_replicas,
    "storm": scenario_storm,
}


def _all_scenarios() -> dict[str, Callable[[str, Grouper], Result]]:
    """The seven above and the hostile-traffic ones (bench/faults_hostile.py)."""
    try:
        from bench.faults_hostile import HOSTILE
    except ImportError:  # run as a script: bench/ is on sys.path, the repo root is not
        from faults_hostile import HOSTILE  # type: ignore[no-redef]
    return {**SCENARIOS, **HOSTILE}


@contextlib.contextmanager
def pubsub() -> Iterator[tuple[str, str]]:
    if emulator_available():
        emu = PubSubEmulator()
        host = emu.start()
        try:
            yield host, "emulator"
        finally:
            emu.stop()
    else:
        standin = PubSubStandIn()
        host = standin.start()
        try:
            yield host, "stand-in"
        finally:
            standin.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="*", help="scenarios to run (default: all)")
    args = ap.parse_args(argv)
    scenarios = _all_scenarios()
    names = args.only or list(scenarios)
    if unknown := [n for n in names if n not in scenarios]:
        ap.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(scenarios)}")
    if shutil.which("redis-server") is None or not BOT.exists():
        print("faults: needs redis-server and the triage-bot entry point (make faults)")
        return 2
    results: list[Result] = []
    grouper = Grouper()
    started = time.monotonic()
    with pubsub() as (host, kind):
        print(f"Pub/Sub: {kind} on {host}; Redis: own redis-server per scenario", flush=True)
        hdr = (
            f"{'scenario':34} {'published':>9} {'counted':>9} {'dup':>4} {'lost':>4} "
            f"{'msgs exp':>8} {'posted':>6} {'recover s':>9}  result  notes"
        )
        print(hdr)
        print("-" * len(hdr))
        for name in names:
            try:
                res = scenarios[name](host, grouper)
            except Exception as exc:  # a harness failure is a failed scenario, not a crash
                tally = Tally(0, 0, 0, 0, 0, 0, 0, 0)
                res = Result(name, tally, float("nan"), f"{type(exc).__name__}: {exc}", False)
            results.append(res)
            t = res.tally
            print(
                f"{res.name:34} {t.published:9} {t.counted:9} {t.duplicated:4} {t.lost:4} "
                f"{t.expected_msgs:8} {t.posted:6} {res.recover_s:9.1f}  "
                f"{'PASS' if res.passed else 'FAIL':6}  {res.note}",
                flush=True,
            )
    passed = sum(r.passed for r in results)
    print(f"(wall time {time.monotonic() - started:.0f} s)")
    print(
        f"faults scenarios={len(results)} passed={passed} "
        f"lost={sum(r.tally.lost for r in results)} "
        f"duplicated={sum(r.tally.duplicated for r in results)} "
        f"double_posts={sum(r.tally.double_posts for r in results)}"
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
