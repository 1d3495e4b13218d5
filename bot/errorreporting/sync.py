"""Two-way sync of group status between the bot and Error Reporting.

Push: a human action in Slack calls `enqueue(gid, error_group_id, state)`: one Redis script
call that queues the wanted status in an outbox (the latest status per group wins). `run_once`
(any replica; a lease makes one do each push) reads the Error Reporting group and writes it back
with the new resolution status; a failure is tried again with backoff, reported once through
`on_failure(gid, message)`, and given up (reported again) after `give_up_after_s`.

Pull: `run_once` also checks a few linked groups (oldest-checked first, within a per-minute API
budget shared by the replicas) and calls `apply(gid, bot_state)` for each whose status was
changed in the console. No ping-pong: the status last pushed or pulled is remembered per group
(`known`), `enqueue` of that same status is a no-op, and a pulled status is not applied while a
push from the bot is pending (the bot's newer intent wins)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from google.cloud.errorreporting_v1beta1 import ErrorGroupServiceClient

from bot.errorreporting.client import DEFAULT_TIMEOUT_S, ApiError, ErrorReportingApi
from bot.errorreporting.outbox import ErsStore, Job, Ttls
from bot.errorreporting.policy import SyncPolicy, gives_up, retry_delay
from bot.errorreporting.status import normalize_er_status, to_bot_state, to_er_status

log = logging.getLogger(__name__)

PUSH_CALLS = 2  # get_group + update_group


def _ignore(gid: str, message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class PushReport:
    done: list[str] = field(default_factory=list)  # pushed (or already so in Error Reporting)
    retrying: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # given up, or a permanent error

    @property
    def attempts(self) -> int:
        return len(self.done) + len(self.retrying) + len(self.dropped)


def wanted_status(state: str) -> str:
    """The Error Reporting status for a bot state (or an Error Reporting status name)."""
    status = to_er_status(state) or normalize_er_status(state)
    if status is None:
        raise ValueError(f"no Error Reporting status for {state!r}")
    return status


class ErrorReportingSync:
    def __init__(
        self,
        redis_client: redis.Redis,
        prefix: str,
        project: str,
        client: ErrorGroupServiceClient,
        *,
        clock: Callable[[], float] = time.time,
        on_failure: Callable[[str, str], None] = _ignore,
        apply: Callable[[str, str], None] | None = None,
        on_recovered: Callable[[str, str], None] | None = None,
        policy: SyncPolicy | None = None,
        ttls: Ttls | None = None,
        rng: random.Random | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.store = ErsStore(redis_client, prefix, ttls)
        self.api = ErrorReportingApi(client, project, timeout)
        self.clock = clock
        self.on_failure = on_failure
        self.on_recovered = on_recovered
        self.apply = apply
        self.policy = policy or SyncPolicy()
        self.rng = rng if rng is not None else random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- called by the bot ------------------------------------------------------------------

    def enqueue(self, gid: str, error_group_id: str, state: str) -> str:
        """Queue the push of a bot state (after a human action); 'queued' or 'in_sync'.
        One Redis call: never waits for Error Reporting."""
        return self.store.enqueue(gid, error_group_id, wanted_status(state), self.clock())

    def link(self, gid: str, error_group_id: str, state: str = "open") -> None:
        """Have a group's Error Reporting status polled, without pushing anything (e.g. when a
        group with an `error_group` is first posted; calling it again keeps the link alive).
        `state` is the bot's state now: a different status in Error Reporting is pulled."""
        self.store.link(gid, error_group_id, wanted_status(state))

    # ---- the work ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Push what is due, then one rate-limited pull round; returns the number of pushes
        attempted plus groups checked."""
        report = self.push_due()
        checked = self._pull()
        return report.attempts + checked[0]

    def push_due(self) -> PushReport:
        p = self.policy
        now = self.clock()
        jobs = self.store.lease(self.store.due(now, p.push_batch), now, now + p.lease_s, PUSH_CALLS)
        report = PushReport()
        for job in jobs:
            self._push(job, report)
        return report

    def pull(self) -> list[tuple[str, str]]:
        """One pull round: the (gid, bot_state) changes found (and passed to `apply`)."""
        return self._pull()[1]

    # ---- internals --------------------------------------------------------------------------

    def _push(self, job: Job, report: PushReport) -> None:
        try:
            self.api.set_status(job.error_group_id, job.status)
        except ApiError as exc:
            self._push_failed(job, exc, report)
            return
        fin = self.store.finish(job, "done", self.clock())
        report.done.append(job.gid)
        if fin.result == "done" and job.attempts and self.on_recovered is not None:
            msg = (
                f"Error Reporting group {job.error_group_id} set to {job.status} "
                f"after {job.attempts + 1} attempts"
            )
            self._call(self.on_recovered, job.gid, msg)

    def _push_failed(self, job: Job, exc: ApiError, report: PushReport) -> None:
        now = self.clock()
        failures = job.attempts + 1
        target = f"Error Reporting group {job.error_group_id} to {job.status}"
        if exc.retryable and not gives_up(self.policy, job.first_at, now):
            delay = retry_delay(self.policy, failures, self.rng)
            fin = self.store.finish(job, "retry", now, next_at=now + delay, error=exc.message)
            report.retrying.append(job.gid)
            log.warning("could not set %s (attempt %d): %s", target, failures, exc.message)
            if fin.result == "retry" and fin.attempts == 1:
                msg = f"Could not set {target}: {exc.message}. Retrying in the background."
                self._call(self.on_failure, job.gid, msg)
            return
        fin = self.store.finish(job, "drop", now, error=exc.message)
        report.dropped.append(job.gid)
        log.error("gave up setting %s after %d attempts: %s", target, failures, exc.message)
        if fin.result == "dropped":
            why = "gave up" if exc.retryable else "cannot"
            msg = f"Could not set {target} ({why}, after {failures} attempts): {exc.message}"
            self._call(self.on_failure, job.gid, msg)

    def _pull(self) -> tuple[int, list[tuple[str, str]]]:
        p = self.policy
        now = self.clock()
        gids = self.store.claim_pull(
            now, now - p.check_interval_s, p.pull_batch, p.pulls_per_minute
        )
        changes: list[tuple[str, str]] = []
        gone: list[str] = []
        checked = 0
        for gid, link in zip(gids, self.store.load_links(gids), strict=True):
            if link is None:
                gone.append(gid)
                continue
            checked += 1
            read_at = self.clock()
            try:
                status = self.api.get_status(link.error_group_id)
            except ApiError as exc:
                if exc.not_found:
                    log.info("Error Reporting group %s is gone: unlinked", link.error_group_id)
                    gone.append(gid)
                    continue
                log.warning(
                    "could not read Error Reporting group %s: %s", link.error_group_id, exc.message
                )
                if exc.retryable:
                    break  # the API is unwell: the rest waits for a later round
                continue
            result = self.store.pulled(gid, link.error_group_id, status, self.clock(), read_at)
            if result != "changed":
                continue
            state = to_bot_state(status)
            if state is None:
                continue
            changes.append((gid, state))
            if self.apply is not None:
                self._call(self.apply, gid, state)
        self.store.unlink(gone)
        return checked, changes

    @staticmethod
    def _call(callback: Callable[[str, str], None], gid: str, arg: str) -> None:
        try:
            callback(gid, arg)
        except Exception:  # the bot's callback: its failure must not stop the sync
            log.exception("Error Reporting sync callback failed for %s", gid)

    # ---- thread -----------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="errorreporting-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2 * DEFAULT_TIMEOUT_S + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # edge of the sync loop
                log.exception("Error Reporting sync pass failed; the outbox keeps the work")
            self._stop.wait(self.policy.interval_s)
