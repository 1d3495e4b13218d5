"""Where a group's alert goes: decided at ingest, from the full event, when the group's episode
starts (a new group, or the regression of a resolved one), as Alertmanager routes an alert when
it arrives; stored on the group; read by the notifier.

* `Router.episode(event)`: the ingest pipeline's decision for the first event of a group in a
  batch: the routing config's destinations (labels, the entry's own message, log name,
  resource type, severity, service), the config's version, and the fields routed on. The batch
  script stores them on the group only when an episode starts.
* `Router(group)`: the notifier's destinations: the stored ones, plus every channel subscribed
  to the group's service at or below its severity (subscriptions are read at notify time, so a
  new `/triage subscribe` applies to open groups at their next update). A group that has no
  message yet and was routed by another config (the file was reloaded since) is routed again
  from its stored fields; a group with messages keeps its destinations until its next episode.

Pure: no Redis, no Slack. Storing a re-routed decision is the caller's `persist` callback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from bot.models import (
    DEST_FIELD,
    DEST_VERSION_FIELD,
    ROUTE_INPUT_FIELD,
    ROUTE_WHY_FIELD,
    Destination,
    ErrorEvent,
    Group,
    Subscription,
    decode_destinations,
    encode_destinations,
)
from bot.routing.match import route, route_explained, severity_rank
from bot.routing.reload import Snapshot

if TYPE_CHECKING:
    from bot.routing.config import Config

MESSAGE_CHARS = 1500  # of the entry's message kept for re-routing (= the stored sample's)
STACK_CHARS = 8192  # of its stack: enough for the top in-app frames (`owner: code`)


@dataclass(frozen=True, slots=True)
class EpisodeRoute:
    """A routing decision as the batch script stores it (three group hash fields)."""

    dest: str
    version: str
    input: str
    why: str = ""  # route_explained's reasons, a line each

    def payload(self) -> dict[str, str]:
        return {
            DEST_FIELD: self.dest,
            DEST_VERSION_FIELD: self.version,
            ROUTE_INPUT_FIELD: self.input,
            ROUTE_WHY_FIELD: self.why,
        }


def route_input(event: ErrorEvent) -> dict[str, Any]:
    """The fields of an event that routes match on (kept until the group's first message, to
    route it again if the config is reloaded before)."""
    out: dict[str, Any] = {
        "service": event.service,
        "resource_type": event.resource_type,
        "severity": event.severity,
        "log_name": event.log_name,
        "message": event.message[:MESSAGE_CHARS],
        "labels": event.labels,
    }
    if event.stack:
        out["stack"] = event.stack[:STACK_CHARS]
    if event.report_location:
        out["report_location"] = event.report_location
    return out


def input_event(fields: dict[str, Any]) -> ErrorEvent:
    return ErrorEvent(
        insert_id="",
        timestamp=0.0,
        severity=str(fields.get("severity", "ERROR")),
        service=str(fields.get("service", "")),
        resource_type=str(fields.get("resource_type", "")),
        log_name=str(fields.get("log_name", "")),
        message=str(fields.get("message", "")),
        labels={str(k): str(v) for k, v in dict(fields.get("labels") or {}).items()},
        stack=str(fields["stack"]) if fields.get("stack") else None,
        report_location=dict(fields["report_location"]) if fields.get("report_location") else None,
    )


def stored_event(group: Group) -> ErrorEvent:
    """What a group stored before routing moved to ingest holds (no labels; its latest
    sample as the message): only for groups without a stored decision."""
    return ErrorEvent(
        insert_id="",
        timestamp=group.last,
        severity=group.get("severity", "ERROR"),
        service=group.service,
        resource_type=group.get("resource_type"),
        log_name=group.get("log_name"),
        message=group.sample,
    )


class Router:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        default: Destination,
        subscriptions: Callable[[], Sequence[Subscription]] = tuple,
        persist: Callable[[str, EpisodeRoute], None] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.default = default
        self.subscriptions = subscriptions
        self.persist = persist

    def version(self, snap: Snapshot) -> str:
        # Without a config every group goes to the default channel: its name is the version.
        return f"{snap.version}|{self.default.channel}"

    def decide(self, event: ErrorEvent, snap: Snapshot) -> list[Destination]:
        if snap.config is None:
            return [self.default]
        return route(snap.config, event)

    def _decision(self, event: ErrorEvent, snap: Snapshot, raw: str) -> EpisodeRoute:
        if snap.config is None:
            return EpisodeRoute(encode_destinations([self.default]), self.version(snap), raw)
        routed = route_explained(snap.config.table, event)
        return EpisodeRoute(
            encode_destinations([r.destination for r in routed]),
            self.version(snap),
            raw,
            "\n".join(r.describe() for r in routed),
        )

    def episode(self, event: ErrorEvent, snap: Snapshot | None = None) -> EpisodeRoute:
        snap = snap or self.snapshot()
        fields = route_input(event)
        return self._decision(
            event, snap, json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        )

    def owners(self, group: Group) -> list[Destination]:
        """The group's routed destinations (without subscriptions)."""
        stored = group.get(DEST_FIELD)
        snap = self.snapshot()
        if not stored:
            return self.decide(stored_event(group), snap)
        if group.messages or group.get(DEST_VERSION_FIELD) == self.version(snap):
            return decode_destinations(stored)
        # Routed by another config and not shown anywhere yet: route again from what it stored.
        raw = group.get(ROUTE_INPUT_FIELD)
        event = input_event(json.loads(raw)) if raw else stored_event(group)
        decision = self._decision(event, snap, raw)
        group.fields.update(decision.payload())
        if self.persist is not None:
            self.persist(group.id, decision)
        return decode_destinations(decision.dest)

    def __call__(self, group: Group) -> list[Destination]:
        dests = self.owners(group)
        rank = severity_rank(group.get("severity", "ERROR"))
        seen = {d.channel for d in dests}
        base = dests[0] if dests else self.default
        for sub in self.subscriptions():
            if sub.channel in seen or not fnmatchcase(group.service, sub.pattern):
                continue
            if rank < severity_rank(sub.severity):
                continue
            seen.add(sub.channel)
            dests.append(Destination(sub.channel, locale=base.locale, timezone=base.timezone))
        return dests


def why_routed(config: Config, group: Group) -> list[str]:
    """Which route (and, for `owner: code`, which owner rule) sent the group where: as decided
    when its episode started; for a group routed before that was stored, under `config`."""
    stored = group.get(ROUTE_WHY_FIELD)
    if stored:
        return stored.split("\n")
    raw = group.get(ROUTE_INPUT_FIELD)
    event = input_event(json.loads(raw)) if raw else stored_event(group)
    return [r.describe() for r in route_explained(config.table, event)]
