"""Connects the Error Reporting sync to the bot: Slack actions push statuses, console changes
come back as transitions, new linked groups are registered, failures become thread notices."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from bot.errorreporting.client import make_client
from bot.errorreporting.sync import ErrorReportingSync
from bot.lifecycle import Lifecycle
from bot.store.redis_store import BatchResult, Group, RedisStore

log = logging.getLogger(__name__)
ACTOR = "error-reporting"
MUTE_S = 30 * 86400  # MUTED has no end in Error Reporting; the bot snoozes for 30 days

# (current bot state, wanted bot state) -> transitions, in order
STEPS: dict[tuple[str, str], list[tuple[str, str | float]]] = {
    ("resolved", "open"): [("reopen", "")],
    ("acknowledged", "open"): [("unacknowledge", "")],
    ("snoozed", "open"): [("unsnooze", "")],
    ("open", "resolved"): [("resolve", "")],
    ("acknowledged", "resolved"): [("resolve", "")],
    ("snoozed", "resolved"): [("resolve", "")],
    ("open", "acknowledged"): [("acknowledge", "")],
    ("resolved", "acknowledged"): [("reopen", ""), ("acknowledge", "")],
    ("snoozed", "acknowledged"): [("unsnooze", ""), ("acknowledge", "")],
    ("open", "snoozed"): [("snooze_for", MUTE_S)],
    ("acknowledged", "snoozed"): [("snooze_for", MUTE_S)],
    ("resolved", "snoozed"): [("reopen", ""), ("snooze_for", MUTE_S)],
}


def build_sync(
    client: redis.Redis,
    prefix: str,
    project: str,
    endpoint: str | None,
    store: RedisStore,
    lifecycle: Lifecycle,
    clock: Callable[[], float],
) -> tuple[ErrorReportingSync, Callable[[BatchResult], None]]:
    """The sync, hooked into `lifecycle`; returns it and the pipeline's post-batch hook."""

    def on_failure(gid: str, message: str) -> None:
        store.push_notice(gid, {"kind": "er_sync_failed", "message": message, "now": clock()})

    def apply(gid: str, wanted: str) -> None:
        group = store.load_group(gid)
        if group is None:
            return
        for transition, arg in STEPS.get((group.state, wanted), []):
            lifecycle.act(gid, transition, ACTOR, arg)

    sync = ErrorReportingSync(
        client,
        prefix,
        project,
        make_client(endpoint),
        clock=clock,
        on_failure=on_failure,
        apply=apply,
    )

    def on_change(group: Group, state: str) -> None:
        if group.get("error_group"):
            sync.enqueue(group.id, group.get("error_group"), state)

    lifecycle.on_change = on_change

    def on_result(result: BatchResult) -> None:
        new = [d.id for d in result.deltas if d.new or d.regressed]
        if not new:
            return
        for group in store.load_groups(new):
            if group is not None and group.get("error_group"):
                sync.link(group.id, group.get("error_group"), group.state)

    return sync, on_result
