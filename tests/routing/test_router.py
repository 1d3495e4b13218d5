"""The router (pure): the decision at the start of an episode from the full event, what the
notifier reads back, re-routing after a reload, subscriptions with severity."""

from __future__ import annotations

import json

from bot.models import Destination, ErrorEvent, Group, Subscription, Timings
from bot.routing.config import parse_config
from bot.routing.reload import Snapshot
from bot.routing.router import (
    DEST_FIELD,
    DEST_VERSION_FIELD,
    ROUTE_INPUT_FIELD,
    EpisodeRoute,
    Router,
)

V1 = """\
teams:
  - {name: payments, channel: C0PAY, oncall: ["U0PAYONC"]}
  - {name: sre, channel: C0SRE}
routes:
  - team: payments
    match: {labels: {env: prod}, message: "card"}
default_route: {team: sre}
"""
V2 = V1.replace("team: payments\n    match", "team: sre\n    match")
DEFAULT = Destination("C0ALERTS")


def ev(message: str = "card declined", **labels: str) -> ErrorEvent:
    return ErrorEvent(
        insert_id="i1",
        timestamp=0.0,
        severity="ERROR",
        service="checkout",
        resource_type="cloud_run_revision",
        log_name="projects/p/logs/run.googleapis.com%2Fstderr",
        message=message,
        labels=labels,
    )


class Live:
    def __init__(self, text: str | None) -> None:
        self.set(text)

    def set(self, text: str | None) -> None:
        cfg = parse_config(text) if text is not None else None
        self.snapshot = Snapshot.of(cfg, Timings())


def group(decision: EpisodeRoute | None, *, messages: dict[str, str] | None = None) -> Group:
    fields = {"severity": "ERROR"}
    if decision is not None:
        fields.update(decision.payload())
    return Group(
        id="fp1-a",
        title="CardError",
        service="checkout",
        state="open",
        count=1,
        first=0.0,
        last=0.0,
        ver=1,
        sample="a later sample without the word",
        messages=messages or {},
        fields=fields,
    )


def channels(dests: list[Destination]) -> list[str]:
    return [d.channel for d in dests]


def test_the_episode_is_routed_on_the_full_event() -> None:
    live = Live(V1)
    router = Router(lambda: live.snapshot, DEFAULT)
    prod = router.episode(ev(env="prod"))
    staging = router.episode(ev(env="staging"))
    assert channels(router(group(prod))) == ["C0PAY"]
    assert channels(router(group(staging))) == ["C0SRE"]
    [d] = router(group(prod))
    assert d.team == "payments" and d.mention == "<@U0PAYONC>"
    # what was routed on is kept (labels and the entry's own message) for a re-route
    assert json.loads(prod.input)["labels"] == {"env": "prod"}
    assert json.loads(prod.input)["message"] == "card declined"


def test_without_a_config_the_default_channel() -> None:
    live = Live(None)
    router = Router(lambda: live.snapshot, Destination("C0DEF", locale="ja"))
    assert router(group(router.episode(ev(env="prod")))) == [Destination("C0DEF", locale="ja")]


def test_a_reload_reroutes_a_group_with_no_message_yet_and_persists_it() -> None:
    live = Live(V1)
    persisted: list[tuple[str, EpisodeRoute]] = []
    router = Router(lambda: live.snapshot, DEFAULT, persist=lambda g, d: persisted.append((g, d)))
    g = group(router.episode(ev(env="prod")))
    live.set(V2)
    assert channels(router(g)) == ["C0SRE"]
    [(gid, decision)] = persisted
    assert gid == "fp1-a" and json.loads(decision.dest)[0]["channel"] == "C0SRE"
    assert g.get(DEST_VERSION_FIELD) == router.version(live.snapshot)
    assert channels(router(g)) == ["C0SRE"] and len(persisted) == 1  # decided once


def test_a_group_with_a_message_keeps_its_destinations_after_a_reload() -> None:
    live = Live(V1)
    persisted: list[object] = []
    router = Router(lambda: live.snapshot, DEFAULT, persist=lambda g, d: persisted.append(d))
    g = group(router.episode(ev(env="prod")), messages={"C0PAY": "C0PAY/1.0"})
    live.set(V2)
    assert channels(router(g)) == ["C0PAY"] and persisted == []


def test_a_group_stored_before_routing_at_ingest_is_routed_on_its_stored_fields() -> None:
    live = Live(V1)
    router = Router(lambda: live.snapshot, DEFAULT)
    assert DEST_FIELD not in group(None).fields and ROUTE_INPUT_FIELD not in group(None).fields
    assert channels(router(group(None))) == ["C0SRE"]


def test_subscriptions_follow_the_service_at_or_above_their_severity() -> None:
    live = Live(V1)
    subs = [
        Subscription("check*", "C0FOLLOW"),
        Subscription("checkout", "C0CRIT", severity="CRITICAL"),
        Subscription("checkout", "C0PAY"),  # already a destination: once
    ]
    router = Router(lambda: live.snapshot, DEFAULT, lambda: subs)
    assert channels(router(group(router.episode(ev(env="prod"))))) == ["C0PAY", "C0FOLLOW"]
    g = group(router.episode(ev(env="prod")))
    g.fields["severity"] = "CRITICAL"
    assert channels(router(g)) == ["C0PAY", "C0FOLLOW", "C0CRIT"]
