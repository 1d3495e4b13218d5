"""Pub/Sub ingest: batched synchronous Pull, a few concurrent pullers, ack after Redis commit.

The streaming-pull callback subscriber hands messages over one at a time; on the emulator it
tops out near 2,000 messages/s. Batched Pull + one Acknowledge per batch moves an order of
magnitude more, and lets one Lua call record the whole batch.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1

from bot.fingerprint import fingerprint
from bot.grouping import redirect
from bot.ingest.logentry import parse_entry
from bot.metrics import Metrics
from bot.models import ErrorEvent, Fingerprint, Rejected, Timings
from bot.routing.reload import Snapshot
from bot.routing.router import Router
from bot.snoozes import GroupLifecycle
from bot.store.redis_store import BatchResult, RedisStore

log = logging.getLogger(__name__)

Fingerprinter = Callable[[ErrorEvent], Fingerprint]

# A JSON escape of a UTF-16 surrogate ("\\ud800"): a lone one decodes to a str that Redis's
# cjson refuses, which would fail the whole batch script, again on every redelivery.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _scrub(value: Any) -> Any:
    """`value` with lone surrogates in its strings replaced by "?" (inside dataclasses too)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _scrub(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


class Pipeline:
    """Payloads -> parsed, fingerprinted, routed, recorded in Redis (one round trip). Raises
    only on a Redis error, in which case nothing of the batch may be acked.

    Each batch reads the config snapshot once: its timings (group_wait, update_interval) and,
    with a router, the destinations of each group of the batch, decided on the group's first
    event in the batch and stored by the script when the group's episode starts."""

    def __init__(
        self,
        store: RedisStore,
        fingerprinter: Fingerprinter = fingerprint,
        clock: Callable[[], float] = time.time,
        on_result: Callable[[BatchResult], None] | None = None,
        *,
        config: Callable[[], Snapshot] | None = None,
        router: Router | None = None,
        lifecycle: Callable[[ErrorEvent], GroupLifecycle] | None = None,
        metrics: Metrics | None = None,
        merges: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.merges = merges  # merge rules, source -> target (bot.store.merges.CachedMerges)
        self.metrics = metrics if metrics is not None else Metrics()
        self.lifecycle = lifecycle  # auto_resolve_after / ack_timeout of a group (its routes)
        self.fingerprinter = fingerprinter
        self.clock = clock
        self.on_result = on_result  # after the batch is committed (e.g. link new groups)
        fixed = Snapshot(None, Timings())
        self.config = config or (lambda: fixed)
        self.router = router

    def process(self, payloads: Sequence[bytes]) -> BatchResult:
        items: list[tuple[ErrorEvent, Fingerprint]] = []
        rejected: list[Rejected] = []
        # Read before the entries, outside their error handling: Redis down fails the batch
        # (nacked, retried), it never dead-letters the entries.
        into = self.merges() if self.merges is not None else {}
        for data in payloads:
            parsed = parse_entry(data)
            if isinstance(parsed, Rejected):
                rejected.append(parsed)
                continue
            if _SURROGATE_ESCAPE.search(data):
                parsed = _scrub(parsed)
            try:
                items.append((parsed, redirect(self.fingerprinter(parsed), into)))
            except Exception as exc:  # edge: a fingerprint bug must not stall the subscription
                log.exception("fingerprint failed for %s", parsed.insert_id)
                rejected.append(
                    Rejected(
                        f"fingerprint failed: {type(exc).__name__}",
                        data[:4096].decode("utf-8", "replace"),
                        parsed.insert_id,
                    )
                )
        snap = self.config()
        routes: dict[str, dict[str, str]] = {}
        if self.router is not None:
            for ev, fp in items:
                if fp.id not in routes:
                    routes[fp.id] = self.router.episode(ev, snap).payload()
        timings = snap.timings
        result = self.store.record_batch(
            items,
            rejected,
            now=self.clock(),
            update_interval=timings.update_interval,
            group_wait=timings.group_wait,
            routes=routes,
            lifecycle=self.lifecycle,
        )
        m = self.metrics
        m.entries_in.inc(len(payloads))
        m.duplicates.inc(result.duplicates)
        m.dead_lettered.inc(result.dead_lettered)
        m.groups_new.inc(sum(1 for d in result.deltas if d.new))
        m.groups_regressed.inc(sum(1 for d in result.deltas if d.regressed))
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # committed already: a follow-up failure must not cause a redelivery
                log.exception("post-batch hook failed")
        return result


STOP_GRACE_S = 6.0  # in-flight batches at SIGTERM; the rest of the shutdown fits in 8 s


class Puller:
    """`threads` pullers on one subscription. Each: Pull up to `max_messages`, keep their ack
    deadline extended while the batch is in flight, process, then Acknowledge the batch."""

    def __init__(
        self,
        subscriber: pubsub_v1.SubscriberClient,
        subscription: str,
        pipeline: Pipeline,
        *,
        threads: int = 3,
        max_messages: int = 500,
        ack_extension_s: int = 60,
        pull_timeout: float = 10.0,
        on_batch: Callable[[BatchResult], None] | None = None,
    ) -> None:
        self.subscriber = subscriber
        self.subscription = subscription
        self.pipeline = pipeline
        self.threads = threads
        self.max_messages = max_messages
        self.ack_extension_s = ack_extension_s
        self.pull_timeout = pull_timeout
        self.on_batch = on_batch
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        # batches being recorded: stop() waits for these, never for a thread blocked in a Pull
        self._flight = threading.Condition()
        self._in_flight = 0
        self.healthy = threading.Event()
        self.last_error: Exception | None = None  # of the latest pull or batch; None: it worked
        self.failures = 0  # failed batches since start (each nacked, then retried)
        self.delays: deque[float] = deque(maxlen=32)  # the latest retry delays, for tests
        self._failing_since: float | None = None
        self._said_at = 0.0

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._run, name=f"puller-{i}", daemon=True)
            t.start()
            self._workers.append(t)

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop pulling; wait (up to `grace_s` in all) for in-flight batches to be recorded and
        acked. A thread still blocked in a Pull holds no messages: it is not waited for, and
        what such a Pull returns after the stop is nacked at once (Cloud Run sends SIGKILL 10 s
        after SIGTERM)."""
        with self._flight:
            self._stop.set()
            self._flight.wait_for(lambda: self._in_flight == 0, timeout=grace_s)

    def _run(self) -> None:
        backoff = RETRY_FIRST_S
        while not self._stop.is_set():
            try:
                self.pull_once()
                backoff = RETRY_FIRST_S
                self._recovered()
            except Exception as exc:  # edge of the ingest loop: log, back off, go on
                self.healthy.clear()
                self._failed(exc, backoff)
                self.delays.append(backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)

    def _failed(self, exc: Exception, delay: float) -> None:
        """One line when a failure streak starts and one a minute while it lasts: a wrong
        REDIS_URL must not write two tracebacks a second. An unexpected error (a bug, not an
        outage) keeps its traceback."""
        now = time.monotonic()
        self.last_error = exc
        self.failures += 1
        first = self._failing_since is None
        since = self._failing_since = now if self._failing_since is None else self._failing_since
        if isinstance(exc, redis.RedisError | gexc.GoogleAPICallError | OSError):
            if first or now - self._said_at >= 60:
                self._said_at = now
                where = (
                    "Redis (check REDIS_URL)" if isinstance(exc, redis.RedisError) else "Pub/Sub"
                )
                log.warning(
                    "ingest: %s failed: %s: %s; retrying every %.0f s at most%s",
                    where,
                    type(exc).__name__,
                    str(exc)[:200],
                    RETRY_MAX_S,
                    "" if first else f" (failing for {now - since:.0f} s)",
                )
            else:
                log.debug("ingest batch failed again: %s", type(exc).__name__)
        else:
            log.exception("ingest batch failed; nacked, it will be redelivered")

    def _recovered(self) -> None:
        if self._failing_since is not None:
            log.info("ingest: recovered after %.1f s", time.monotonic() - self._failing_since)
            self._failing_since = None

    def pull_once(self) -> int:
        """Pull one batch and handle it; returns how many messages were acked."""
        timeout = self.pull_timeout
        try:
            resp = self.subscriber.pull(
                request={"subscription": self.subscription, "max_messages": self.max_messages},
                timeout=timeout,
            )
        except gexc.DeadlineExceeded:
            return 0
        self.healthy.set()
        self.last_error = None
        # The raw protobuf, not proto-plus wrappers: attribute access on the wrappers costs
        # microseconds per field, which adds up at thousands of messages per second.
        msgs = resp._pb.received_messages
        if not msgs:
            return 0
        ack_ids = [m.ack_id for m in msgs]
        with self._flight:  # checked and counted at once: stop() sees this batch or none
            stopping = self._stop.is_set()
            if not stopping:
                self._in_flight += 1
        if stopping:  # a late Pull's messages go back, unprocessed
            self._nack(ack_ids)
            return 0
        try:
            return self._handle(msgs, ack_ids)
        finally:
            with self._flight:
                self._in_flight -= 1
                self._flight.notify_all()

    def _handle(self, msgs: Any, ack_ids: list[str]) -> int:
        """Record a pulled batch, then ack it."""
        started = time.perf_counter()
        try:
            with _Lease(self.subscriber, self.subscription, ack_ids, self.ack_extension_s):
                result = self.pipeline.process([m.message.data for m in msgs])
        except Exception:
            self._nack(ack_ids)
            raise
        # Committed in Redis: now, and only now, ack.
        for i in range(0, len(ack_ids), 2000):
            self.subscriber.acknowledge(
                request={"subscription": self.subscription, "ack_ids": ack_ids[i : i + 2000]}
            )
        self.pipeline.metrics.batch_seconds.observe(time.perf_counter() - started)
        if self.on_batch is not None:
            self.on_batch(result)
        return len(ack_ids)

    def _nack(self, ack_ids: list[str]) -> None:
        """Not recorded: hand the batch back at once (deadline 0) rather than let it wait out
        its ack deadline (60 s by default), so ingest resumes within RETRY_MAX_S of recovery.
        The failing puller itself backs off; Pub/Sub's own retry policy paces redelivery."""
        try:
            for i in range(0, len(ack_ids), 2000):
                self.subscriber.modify_ack_deadline(
                    request={
                        "subscription": self.subscription,
                        "ack_ids": ack_ids[i : i + 2000],
                        "ack_deadline_seconds": 0,
                    }
                )
        except gexc.GoogleAPICallError as exc:  # the deadline then expires by itself
            log.warning("could not nack a failed batch (%s)", type(exc).__name__)


FIRST_EXTENSION_S = 5.0
# Retry delays of a failing puller: 0.5 s doubling to 5 s, so that after a Redis outage ingest
# resumes within about 5 s (the README promises recovery in under 10 s).
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0


class _Lease:
    """Extends the ack deadline of an in-flight batch every `extension/2` seconds until done."""

    def __init__(
        self, subscriber: pubsub_v1.SubscriberClient, sub: str, ack_ids: list[str], ext: int
    ) -> None:
        self.subscriber, self.sub, self.ack_ids, self.ext = subscriber, sub, ack_ids, ext
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Lease:
        self._thread = threading.Thread(target=self._extend, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _extend(self) -> None:
        # Batches normally finish in milliseconds, before any extension. One that takes longer
        # is extended after FIRST_EXTENSION_S (below the shortest usual subscription deadline,
        # 10 s), then every ext/2, so it is not redelivered while still being processed.
        wait = min(FIRST_EXTENSION_S, self.ext / 2)
        while not self._done.wait(wait):
            wait = self.ext / 2
            try:
                self.subscriber.modify_ack_deadline(
                    request={
                        "subscription": self.sub,
                        "ack_ids": self.ack_ids,
                        "ack_deadline_seconds": self.ext,
                    }
                )
            except gexc.GoogleAPICallError:
                log.warning("could not extend the ack deadline of an in-flight batch")
