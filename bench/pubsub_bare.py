"""How fast can a bare subscriber drain a Pub/Sub endpoint? (no parsing, no Redis, no Slack)

Publishes N small messages in 1000-message Publish calls (timed on its own), then drains one
subscription with a ``SubscriberClient.subscribe`` streaming-pull callback that only acks, and
another with a few threads looping synchronous ``pull`` + one batched ``acknowledge`` per pull.

    .venv/bin/python -m bench.pubsub_bare                 # Google's emulator, 50,000 messages
    .venv/bin/python -m bench.pubsub_bare --backend standin -n 20000
    .venv/bin/python -m bench.pubsub_bare --host 127.0.0.1:8085   # an emulator already running

``bare_streaming_rate(host, project, n)`` is the reusable piece: the ceiling any pipeline built
on the callback subscriber can reach on that endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.api_core import exceptions
from google.cloud import pubsub_v1
from google.pubsub_v1 import PublisherClient as GapicPublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
from triage_sandbox.pubsub_emulator import PubSubEmulator
from triage_sandbox.pubsub_standin import PubSubStandIn

PROJECT = "triage-bench"
PUBLISH_BATCH = 1000
PAYLOAD_BYTES = 64
_names = itertools.count(1)


def _subscriber(host: str) -> pubsub_v1.SubscriberClient:
    channel = grpc.insecure_channel(host)
    return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))


def _publisher(host: str) -> GapicPublisherClient:
    channel = grpc.insecure_channel(host)
    return GapicPublisherClient(transport=PublisherGrpcTransport(channel=channel))


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{int(time.time())}-{next(_names)}"


def prepare(
    host: str, project: str, n_messages: int, n_subscriptions: int = 1, publish_threads: int = 2
) -> tuple[list[str], float]:
    """A fresh topic with ``n_subscriptions`` subscriptions, each holding ``n_messages``.

    Returns the subscription paths and the publish rate (messages/s, 1000 per Publish call).
    """
    publisher = _publisher(host)
    subscriber = _subscriber(host)
    topic = publisher.topic_path(project, _unique("bench"))
    publisher.create_topic(name=topic)
    subs = []
    for _ in range(n_subscriptions):
        sub = subscriber.subscription_path(project, _unique("bench-sub"))
        subscriber.create_subscription(
            request={"name": sub, "topic": topic, "ack_deadline_seconds": 60}
        )
        subs.append(sub)
    subscriber.close()

    payload = b"x" * PAYLOAD_BYTES
    batches = [
        [{"data": payload, "attributes": {"seq": str(i)}} for i in range(start, end)]
        for start in range(0, n_messages, PUBLISH_BATCH)
        for end in [min(start + PUBLISH_BATCH, n_messages)]
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(publish_threads) as pool:
        list(pool.map(lambda batch: publisher.publish(topic=topic, messages=batch), batches))
    elapsed = time.perf_counter() - started
    publisher.transport.close()
    return subs, n_messages / elapsed


def streaming_rate(host: str, subscription: str, n_messages: int, timeout: float = 600) -> float:
    """Drain ``subscription`` with a callback subscriber that only acks; messages/s."""
    subscriber = _subscriber(host)
    seen: set[str] = set()
    lock = threading.Lock()
    done = threading.Event()
    finished_at = 0.0

    def callback(message: pubsub_v1.subscriber.message.Message) -> None:
        nonlocal finished_at
        message.ack()
        with lock:
            seen.add(message.message_id)
            if len(seen) >= n_messages and not done.is_set():
                finished_at = time.perf_counter()
                done.set()

    started = time.perf_counter()
    future = subscriber.subscribe(subscription, callback)
    try:
        if not done.wait(timeout):
            raise TimeoutError(f"streaming pull got {len(seen)} of {n_messages} in {timeout} s")
    finally:
        future.cancel()
        with contextlib.suppress(Exception):
            future.result(timeout=30)
        subscriber.close()
    return n_messages / (finished_at - started)


def batched_pull_rate(
    host: str,
    subscription: str,
    n_messages: int,
    threads: int = 4,
    max_messages: int = 1000,
    timeout: float = 600,
) -> float:
    """Drain ``subscription`` with ``threads`` loops of Pull + one Acknowledge each; messages/s."""
    subscriber = _subscriber(host)
    lock = threading.Lock()
    done = threading.Event()
    acked = 0
    finished_at = 0.0
    give_up = time.monotonic() + timeout

    def worker() -> None:
        nonlocal acked, finished_at
        while not done.is_set() and time.monotonic() < give_up:
            try:
                response = subscriber.pull(
                    subscription=subscription, max_messages=max_messages, timeout=3.0
                )
            except exceptions.DeadlineExceeded:
                continue
            ack_ids = [m.ack_id for m in response.received_messages]
            if not ack_ids:
                continue
            subscriber.acknowledge(subscription=subscription, ack_ids=ack_ids)
            with lock:
                acked += len(ack_ids)
                if acked >= n_messages and not done.is_set():
                    finished_at = time.perf_counter()
                    done.set()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
    subscriber.close()
    if not done.is_set():
        raise TimeoutError(f"batched pull acked {acked} of {n_messages} in {timeout} s")
    return n_messages / (finished_at - started)


def bare_streaming_rate(host: str, project: str, n_messages: int) -> float:
    """Messages/s a bare callback subscriber (ack only) drains from a fresh subscription.

    Creates its own topic and subscription on ``host`` (an emulator-style "host:port"),
    publishes ``n_messages`` (not timed), then times the drain.
    """
    (subscription,), _ = prepare(host, project, n_messages)
    return streaming_rate(host, subscription, n_messages)


@contextlib.contextmanager
def _endpoint(backend: str, host: str | None) -> Iterator[str]:
    if host is not None:
        yield host
        return
    server: PubSubEmulator | PubSubStandIn
    server = PubSubEmulator() if backend == "emulator" else PubSubStandIn()
    with server:
        yield server.host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--messages", type=int, default=50_000)
    parser.add_argument("--backend", choices=["emulator", "standin"], default="emulator")
    parser.add_argument("--host", help="use a running endpoint instead of starting one")
    parser.add_argument("--pull-threads", type=int, default=4)
    args = parser.parse_args()
    n = args.messages

    with _endpoint(args.backend, args.host) as host:
        label = args.host or args.backend
        cpus = os.cpu_count()
        print(f"endpoint: {label} ({host}), {n:,} messages of {PAYLOAD_BYTES} B, {cpus} CPUs")
        (stream_sub, pull_sub), publish = prepare(host, PROJECT, n, n_subscriptions=2)
        rows = [(f"publish, {PUBLISH_BATCH} per call, 2 threads", publish)]
        rows.append(("streaming-pull callback, ack only", streaming_rate(host, stream_sub, n)))
        pulled = batched_pull_rate(host, pull_sub, n, threads=args.pull_threads)
        rows.append((f"pull(max_messages=1000) + acknowledge, {args.pull_threads} threads", pulled))
        for name, rate in rows:
            print(f"  {name:<48} {rate:>10,.0f} msg/s")
        print(f"  {'batched pull / streaming callback':<48} {pulled / rows[1][1]:>10.1f}x")


if __name__ == "__main__":
    main()
