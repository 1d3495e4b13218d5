"""Ingest throughput on Google's Pub/Sub emulator: a bare streaming-pull callback subscriber that
only acks (a) against the bot's full pipeline (b): batched Pull, parse, fingerprint, one Redis
round trip per batch, batched Acknowledge; no Slack.

    .venv/bin/python bench/ingest.py [-n 50000] [--pullers 6] [--processes 2] [--corpus DIR]

Both read the same N entries (the visible corpus, repeated with fresh insertIds) from two
subscriptions of one topic. Last line: `ingest bare_per_s=<n> pipeline_per_s=<n> ratio=<x>`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import redis
from google.cloud import pubsub_v1
from google.pubsub_v1 import PublisherClient as GapicPublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage_sandbox.pubsub_emulator import PubSubEmulator

from bench.pubsub_bare import streaming_rate
from bot.ingest.pull import Pipeline, Puller
from bot.store.keys import Keys
from bot.store.redis_store import RedisStore

PROJECT = "triage-bench"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/corpus/visible"


def entries(corpus: Path, n: int) -> list[bytes]:
    base = [json.loads(line) for line in (corpus / "entries.jsonl").open(encoding="utf-8")]
    out = []
    for i in range(n):
        e = dict(base[i % len(base)])
        e["insertId"] = f"{e['insertId']}-{i // len(base)}"
        out.append(json.dumps(e).encode())
    return out


def subscriber(host: str) -> pubsub_v1.SubscriberClient:
    return pubsub_v1.SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(host))
    )


def publish_all(host: str, topic: str, payloads: list[bytes]) -> float:
    pub = GapicPublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host))
    )
    batches = [payloads[i : i + 1000] for i in range(0, len(payloads), 1000)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(lambda b: pub.publish(topic=topic, messages=[{"data": d} for d in b]), batches)
        )
    return len(payloads) / (time.perf_counter() - t0)


def _pipeline_worker(
    host: str,
    sub: str,
    redis_url: str,
    prefix: str,
    pullers: int,
    counter: mp.Value,
    stop: mp.Event,
) -> None:  # type: ignore[type-arg]
    store = RedisStore(redis.Redis.from_url(redis_url), prefix)
    lock = threading.Lock()

    def on_batch(result: object) -> None:
        pass

    puller = Puller(
        subscriber(host),
        sub,
        Pipeline(store),
        threads=pullers,
        max_messages=1000,
        pull_timeout=2.0,
        on_batch=on_batch,
    )
    original = puller.pull_once

    def counted() -> int:
        n = original()
        if n:
            with lock, counter.get_lock():
                counter.value += n
        return n

    puller.pull_once = counted  # type: ignore[method-assign]
    puller.start()
    stop.wait()
    puller.stop()


def pipeline_rate(
    host: str, sub: str, n: int, redis_url: str, prefix: str, pullers: int, processes: int
) -> tuple[float, int]:
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    stop = ctx.Event()
    procs = [
        ctx.Process(
            target=_pipeline_worker, args=(host, sub, redis_url, prefix, pullers, counter, stop)
        )
        for _ in range(processes)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    while counter.value < n:
        time.sleep(0.01)
        if time.perf_counter() - t0 > 600:
            raise TimeoutError(f"pipeline acked {counter.value} of {n}")
    elapsed = time.perf_counter() - t0
    stop.set()
    for p in procs:
        p.join(30)
    return n / elapsed, counter.value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--pullers", type=int, default=4, help="pull threads per process")
    ap.add_argument("--processes", type=int, default=2, help="bot processes (replicas)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    payloads = entries(args.corpus, args.n)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    r = redis.Redis.from_url(args.redis_url)
    with PubSubEmulator() as emu:
        host = emu.host
        sub_client = subscriber(host)
        topic = f"projects/{PROJECT}/topics/logs"
        GapicPublisherClient(
            transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host))
        ).create_topic(name=topic)
        bare_sub = f"projects/{PROJECT}/subscriptions/bare"
        pipe_sub = f"projects/{PROJECT}/subscriptions/pipeline"
        for s in (bare_sub, pipe_sub):
            sub_client.create_subscription(
                request={"name": s, "topic": topic, "ack_deadline_seconds": 60}
            )
        pub_rate = publish_all(host, topic, payloads)
        print(f"published {args.n} entries at {pub_rate:,.0f}/s (emulator on {host})")
        bare = streaming_rate(host, bare_sub, args.n)
        print(f"(a) bare streaming-pull callback, ack only: {bare:,.0f} entries/s")
        rate, acked = pipeline_rate(
            host, pipe_sub, args.n, args.redis_url, prefix, args.pullers, args.processes
        )
        store = RedisStore(r, prefix)
        counts = store.counters()
        groups = sum(r.zcard(store.keys.index(s)) for s in range(16))
        print(
            f"(b) pipeline ({args.processes} processes x {args.pullers} pullers): "
            f"{rate:,.0f} entries/s; acked {acked}, groups {groups}, "
            f"dead-lettered {counts.get('dead_lettered', 0)}"
        )
    for key in r.scan_iter(match=Keys(prefix).pattern(), count=1000):
        r.delete(key)
    print(f"ingest bare_per_s={bare:.0f} pipeline_per_s={rate:.0f} ratio={rate / bare:.2f}")


if __name__ == "__main__":
    main()
