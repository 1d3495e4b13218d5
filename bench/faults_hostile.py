"""Hostile-traffic and operator-mistake scenarios of bench/faults.py (same world, same tally):
nothing lost, nothing doubled, no double posts, plus each scenario's own check."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable

try:
    from bench.faults import (
        ALL_BUGS,
        CHANNEL,
        Grouper,
        Result,
        Tally,
        World,
        make_entries,
        rss_mb,
    )
except ImportError:  # run as a script: bench/ is on sys.path, the repo root is not
    from faults import (  # type: ignore[no-redef]
        ALL_BUGS,
        CHANNEL,
        Grouper,
        Result,
        Tally,
        World,
        make_entries,
        rss_mb,
    )

OUTAGE_S = 15.0
RECOVERY_LIMIT_S = 10.0  # the README's promise after Redis comes back


def _healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _dead_lettered(w: World) -> int:
    return int(w.r.hget(w.keys.counters(), "dead_lettered") or 0)


def scenario_poison(host: str, grouper: Grouper) -> Result:
    """Entries stamped in year 10000 and year 1 (no receiveTimestamp to fall back on) among
    ordinary traffic: dead-lettered with a reason; every other group counted and posted."""
    w = World("poison", host, replicas=2)
    try:
        payloads = make_entries(3000, ALL_BUGS, grouper, w.traffic, seed=21)
        poison = []
        for i, ts in enumerate(["9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00+01:00"] * 25):
            poison.append(
                json.dumps(
                    {
                        "insertId": f"poison-{i}-{uuid.uuid4().hex[:8]}",
                        "timestamp": ts,
                        "severity": "ERROR",
                        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "p"}},
                        "textPayload": f"poison {i}",
                    }
                ).encode()
            )
        mixed = payloads[:1500] + poison + payloads[1500:]
        w.publish(mixed)
        t0 = time.monotonic()
        rec = w.settle(t0)
        dead = _dead_lettered(w)
        return Result(
            "poison timestamps (year 1/10000)",
            w.tally(),
            rec,
            f"{dead}/{len(poison)} dead-lettered",
            extra_ok=dead == len(poison),
        )
    finally:
        w.close()


def _hostile_http(port: int, stop: threading.Event, stats: dict[str, int]) -> None:
    """Five 50 MB POSTs at a time (unsigned) and slow-loris connections, until stopped."""
    while not stop.is_set():
        socks = []
        for _ in range(5):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(
                    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n"
                    b"X-Slack-Signature: v0=bogus\r\n\r\n" + b"x" * 65536
                )
                socks.append(s)
                stats["big"] += 1
            except OSError:
                stats["refused"] += 1
        for _ in range(20):  # headers that never end, one byte at a time
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                socks.append(s)
                stats["slow"] += 1
            except OSError:
                stats["refused"] += 1
        for _ in range(10):
            if stop.wait(0.3):
                break
            for s in socks:
                with contextlib.suppress(OSError):
                    s.sendall(b"a")
        for s in socks:
            s.close()


def scenario_http(host: str, grouper: Grouper) -> Result:
    """Oversized (50 MB declared) and slow (slow-loris) requests against a replica while it
    ingests: its RSS stays bounded and a signed slash command is still acked within 3 s."""
    w = World("http", host, replicas=1)
    try:
        replica = w.replicas[0]
        deadline = time.monotonic() + 20
        while _healthz(replica.port) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        base = rss_mb(replica.pid)
        stop = threading.Event()
        stats = {"big": 0, "slow": 0, "refused": 0}
        attackers = [
            threading.Thread(target=_hostile_http, args=(replica.port, stop, stats), daemon=True)
            for _ in range(2)
        ]
        for t in attackers:
            t.start()
        payloads = make_entries(3000, ALL_BUGS, grouper, w.traffic, seed=22)
        w.publish(payloads)
        t0 = time.monotonic()
        peak, acks = base, []
        url = f"http://127.0.0.1:{replica.port}/slack/events"
        for _ in range(10):
            peak = max(peak, rss_mb(replica.pid))
            started = time.monotonic()
            status, _ = w.slack.send_slash_command(url, "/triage", "top 1h", channel_id=CHANNEL)
            acks.append(time.monotonic() - started if status == 200 else float("inf"))
            time.sleep(0.5)
        rec = w.settle(t0)
        stop.set()
        for t in attackers:
            t.join(10)
        peak = max(peak, rss_mb(replica.pid))
        ok = peak - base < 100 and max(acks) < 3.0
        note = (
            f"{stats['big']} x 50 MB + {stats['slow']} slow conns; RSS {base:.0f}->{peak:.0f} MB; "
            f"slash ack max {max(acks) * 1000:.0f} ms"
        )
        return Result("oversized + slow requests", w.tally(), rec, note, extra_ok=ok)
    finally:
        w.close()


def scenario_replay(host: str, grouper: Grouper) -> Result:
    """U1 acknowledges, U2 un-acknowledges, U1's signed click is replayed: not applied."""
    from bot.store.redis_store import RedisStore

    w = World("replay", host, replicas=2)
    try:
        payloads = make_entries(500, ALL_BUGS[:3], grouper, w.traffic, seed=23)  # no digest
        w.publish(payloads)
        t0 = time.monotonic()
        rec = w.settle(t0, quiet=0)
        store = RedisStore(w.r, w.prefix)
        post = w.top_level_posts()[0]
        ts = str(post.response["ts"])  # type: ignore[index]
        gid = sorted(w.traffic.expected())[0]
        for g in w.traffic.expected():
            if g in json.dumps(post.args.get("blocks") or []):
                gid = g
        # A replica that answers (on a busy machine one may still be starting its HTTP server).
        live = [r for r in w.replicas if _healthz(r.port) == 200]
        end = time.monotonic() + 20
        while not live and time.monotonic() < end:
            time.sleep(0.2)
            live = [r for r in w.replicas if _healthz(r.port) == 200]
        url = f"http://127.0.0.1:{(live or w.replicas)[0].port}/slack/events"

        def state() -> str:
            group = store.load_group(gid)
            return group.state if group is not None else "gone"

        def wait(want: str) -> bool:
            end = time.monotonic() + 10
            while time.monotonic() < end:
                if state() == want:
                    return True
                time.sleep(0.1)
            return False

        w.slack.click_button(url, CHANNEL, ts, "tb_ack", user_id="U1")
        acked = wait("acknowledged")
        click = w.slack.deliveries[-1]
        time.sleep(1.5)  # the message is updated with the Unacknowledge button
        w.slack.click_button(url, CHANNEL, ts, "tb_unack", user_id="U2")
        reopened = wait("open")
        replays = [
            w.slack.resend(click, f"http://127.0.0.1:{r.port}/slack/events")[0] for r in live
        ]
        time.sleep(2)
        final = state()
        ok = acked and reopened and final == "open" and replays == [200] * len(live) and live
        note = f"replayed to {len(live)} replicas: {replays}; state after replay: {final}"
        return Result("replayed signed click", w.tally(), rec, note, extra_ok=ok)
    finally:
        w.close()


def scenario_oom(host: str, grouper: Grouper) -> Result:
    """Redis at maxmemory with noeviction (writes refused) for 10 s under load, then given
    room: /healthz says 503 meanwhile, nothing is lost or doubled once it has room."""
    w = World("oom", host, replicas=2, redis_args=("--maxmemory-policy", "noeviction"))
    try:
        warm = make_entries(300, ALL_BUGS, grouper, w.traffic, seed=24)
        w.publish(warm)
        w.settle(time.monotonic(), quiet=0)
        used = int(w.r.info("memory")["used_memory"])
        w.r.config_set("maxmemory", str(max(1, used // 2)))  # this scenario's own server
        w.publish(make_entries(4000, ALL_BUGS, grouper, w.traffic, seed=25))
        time.sleep(3)
        during = [_healthz(r.port) for r in w.replicas]
        time.sleep(7)
        w.r.config_set("maxmemory", "0")
        t0 = time.monotonic()
        rec = w.settle(t0)
        after = [_healthz(r.port) for r in w.replicas]
        ok = all(s == 503 for s in during) and all(s == 200 for s in after)
        note = f"/healthz during OOM {during}, after {after}"
        return Result("maxmemory + noeviction (OOM) 10 s", w.tally(), rec, note, extra_ok=ok)
    finally:
        w.close()


def scenario_eviction_refused(host: str, grouper: Grouper) -> Result:
    """A Redis with maxmemory-policy allkeys-lru: the bot refuses to start, with one line."""
    w = World("evict", host, replicas=1, redis_args=("--maxmemory-policy", "allkeys-lru"))
    try:
        replica = w.replicas[0]
        assert replica.proc is not None
        started = time.monotonic()
        try:
            code = replica.proc.wait(30)
        except Exception:
            code = None
        took = time.monotonic() - started
        lines = [ln for ln in replica.output().splitlines() if ln.strip()]
        ok = code == 2 and len(lines) == 1 and "maxmemory-policy is allkeys-lru" in lines[0]
        note = f"exit {code} in {took:.1f}s: {lines[-1][:90] if lines else ''}"
        return Result("eviction policy refused", w.tally(), took, note, extra_ok=ok)
    finally:
        w.close()


def scenario_recovery(host: str, grouper: Grouper) -> Result:
    """Redis killed for OUTAGE_S under load, restarted (AOF): everything counted within
    RECOVERY_LIMIT_S of the restart (failed batches are nacked, pullers retry every <= 5 s)."""
    w = World("recovery", host, replicas=2, durable_redis=True, ack_deadline=60)
    try:
        warm = make_entries(300, ALL_BUGS, grouper, w.traffic, seed=26)
        w.publish(warm)
        w.settle(time.monotonic(), quiet=0)
        w.redis.kill()
        w.publish(make_entries(5000, ALL_BUGS, grouper, w.traffic, seed=27))
        time.sleep(OUTAGE_S)
        w.redis.start()
        t0 = time.monotonic()
        rec = w.settle(t0)
        ok = rec <= RECOVERY_LIMIT_S
        note = f"down {OUTAGE_S:.0f}s, ack deadline 60 s; all counted {rec:.1f}s after restart"
        return Result("Redis outage: recovery <= 10 s", w.tally(), rec, note, extra_ok=ok)
    finally:
        w.close()


HOSTILE: dict[str, Callable[[str, Grouper], Result]] = {
    "poison": scenario_poison,
    "http": scenario_http,
    "replay": scenario_replay,
    "oom": scenario_oom,
    "evict": scenario_eviction_refused,
    "recovery": scenario_recovery,
}

__all__ = ["HOSTILE", "Tally"]
