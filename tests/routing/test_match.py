"""Route matching: first match wins, continue fans out, default route, every condition kind."""

from __future__ import annotations

import dataclasses

import pytest

from bot.models import ErrorEvent
from bot.routing.config import Config, parse_config
from bot.routing.match import DEFAULT_ROUTE_INDEX, Destination, route

CONFIG = """
defaults:
  escalate_after: 15m
  repeat_interval: 4h
  timezone: UTC
teams:
  - {name: payments, channel: C0PAYMENTS, oncall: "@payments-oncall", escalate_after: 5m}
  - {name: search, channel: "#search", oncall: [U01AAAA, U02BBBB], locale: ja,
     timezone: Asia/Tokyo}
  - {name: data, channel: C0DATA}
  - {name: sre, channel: G0SRE, oncall: "<!subteam^S0SRE>"}
routes:
  - team: sre                       # 0
    match: {severity: CRITICAL}
    continue: true
  - team: payments                  # 1
    match: {service: payments-*}
  - team: payments                  # 2
    match: {service: "/^(checkout|billing)$/", labels: {env: prod}}
    repeat_interval: 1h
  - team: search                    # 3
    match: {service_regex: "^search-", resource_type: cloud_run_job}
  - team: data                      # 4
    match: {message: 'BigQuery|quota exceeded'}
default_route: {team: sre}
"""


def _config(text: str = CONFIG) -> Config:
    return parse_config(text)


def ev(**kw: object) -> ErrorEvent:
    base: dict[str, object] = {
        "insert_id": "i1",
        "timestamp": 0.0,
        "severity": "ERROR",
        "service": "unknown-svc",
        "resource_type": "cloud_run_revision",
    }
    base.update(kw)
    return ErrorEvent(**base)  # type: ignore[arg-type]


def teams(dests: list[Destination]) -> list[tuple[str, int]]:
    return [(d.team, d.route_index) for d in dests]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # nothing matches: the default route
        (ev(), [("sre", DEFAULT_ROUTE_INDEX)]),
        # glob
        (ev(service="payments-api"), [("payments", 1)]),
        (ev(service="payments"), [("sre", DEFAULT_ROUTE_INDEX)]),  # glob needs the "-"
        (ev(service="xpayments-api"), [("sre", DEFAULT_ROUTE_INDEX)]),  # glob is anchored
        # regex between slashes + labels: both must hold
        (ev(service="checkout", labels={"env": "prod"}), [("payments", 2)]),
        (ev(service="checkout", labels={"env": "staging"}), [("sre", DEFAULT_ROUTE_INDEX)]),
        (ev(service="checkout"), [("sre", DEFAULT_ROUTE_INDEX)]),  # missing label
        (ev(service="checkout-v2", labels={"env": "prod"}), [("sre", DEFAULT_ROUTE_INDEX)]),
        # service_regex (searched) + resource_type
        (ev(service="search-indexer", resource_type="cloud_run_job"), [("search", 3)]),
        (ev(service="search-indexer"), [("sre", DEFAULT_ROUTE_INDEX)]),
        # message regex, searched anywhere in the message
        (ev(message="google.api_core: 403 quota exceeded for x"), [("data", 4)]),
        (ev(message="all fine"), [("sre", DEFAULT_ROUTE_INDEX)]),
        # severity at or above CRITICAL fans out (continue) to the owner
        (ev(severity="CRITICAL", service="payments-api"), [("sre", 0), ("payments", 1)]),
        (ev(severity="EMERGENCY", service="payments-api"), [("sre", 0), ("payments", 1)]),
        (ev(severity="ALERT"), [("sre", 0)]),  # matched: the default route is not added
        (ev(severity="ERROR", service="payments-api"), [("payments", 1)]),
        # first match wins: a payments-* service with a BigQuery message stays with payments
        (ev(service="payments-api", message="BigQuery failed"), [("payments", 1)]),
    ],
)
def test_route_table(event: ErrorEvent, expected: list[tuple[str, int]]) -> None:
    assert teams(route(_config(), event)) == expected


def test_destination_values_merge_route_team_defaults() -> None:
    config = _config()
    [d] = route(config, ev(service="checkout", labels={"env": "prod"}))
    assert d == Destination(
        team="payments",
        channel="C0PAYMENTS",
        oncall=("@payments-oncall",),
        escalate_after_s=300.0,  # team
        repeat_interval_s=3600.0,  # route
        locale="en",  # defaults
        timezone="UTC",
        route_index=2,
    )
    [s] = route(config, ev(service="search-x", resource_type="cloud_run_job"))
    assert (s.locale, s.timezone, s.oncall) == ("ja", "Asia/Tokyo", ("U01AAAA", "U02BBBB"))
    assert (s.escalate_after_s, s.repeat_interval_s) == (900.0, 14400.0)  # defaults


def test_severity_is_at_or_above_in_cloud_logging_order() -> None:
    text = """
teams: [{name: a, channel: C0A}, {name: b, channel: C0B}]
routes: [{team: a, match: {severity: warning}}]
default_route: {team: b}
"""
    config = parse_config(text)
    order = [
        "DEFAULT",
        "DEBUG",
        "INFO",
        "NOTICE",
        "WARNING",
        "ERROR",
        "CRITICAL",
        "ALERT",
        "EMERGENCY",
    ]
    got = [route(config, ev(severity=s))[0].team for s in order]
    assert got == ["b", "b", "b", "b", "a", "a", "a", "a", "a"]
    assert route(config, ev(severity="error"))[0].team == "a"  # case-insensitive
    assert route(config, ev(severity="500"))[0].team == "a"  # numeric LogSeverity
    assert route(config, ev(severity="BOGUS"))[0].team == "b"  # unknown ranks as DEFAULT


def test_continue_fans_out_and_dedups_by_channel() -> None:
    text = """
teams:
  - {name: data, channel: C0DATA}
  - {name: data-copy, channel: C0DATA}
  - {name: sre, channel: G0SRE}
routes:
  - {team: data, match: {service: etl}, continue: true}
  - {team: data-copy, match: {service: etl}, continue: true}
  - {team: sre, match: {service: "e*"}}
  - {team: data, match: {service: etl}}
default_route: {team: sre}
"""
    dests = route(parse_config(text), ev(service="etl"))
    # data-copy shares data's channel: dropped; sre does not continue, so route 3 is not tried
    assert teams(dests) == [("data", 0), ("sre", 2)]


def test_empty_match_matches_everything_and_resource_log_name() -> None:
    text = """
teams: [{name: a, channel: C0A}, {name: b, channel: C0B}, {name: c, channel: C0C}]
routes:
  - {team: a, match: {resource_type: "k8s_*", log_name: run.googleapis.com/stderr}}
  - {team: b, match: {log_name: "/cloudfunctions/"}}
  - {team: c}
default_route: {team: a}
"""
    config = parse_config(text)
    stderr = "projects/p/logs/run.googleapis.com%2Fstderr"
    assert route(config, ev(resource_type="k8s_container", log_name=stderr))[0].team == "a"
    assert route(config, ev(resource_type="cloud_run_revision", log_name=stderr))[0].team == "c"
    fn = "projects/p/logs/cloudfunctions.googleapis.com%2Fcloud-functions"
    assert route(config, ev(log_name=fn))[0].team == "b"
    assert route(config, ev())[0].team == "c"


def test_labels_all_must_match_glob_and_regex_values() -> None:
    text = """
teams: [{name: a, channel: C0A}, {name: b, channel: C0B}]
routes:
  - {team: a, match: {labels: {env: "prod*", region: "/^asia-/"}}}
default_route: {team: b}
"""
    config = parse_config(text)
    hit = {"env": "prod-eu", "region": "asia-northeast1"}
    assert route(config, ev(labels=hit))[0].team == "a"
    assert route(config, ev(labels={**hit, "region": "us-central1"}))[0].team == "b"
    assert route(config, ev(labels={"env": "prod"}))[0].team == "b"


def test_destination_is_frozen_and_route_is_pure() -> None:
    config = _config()
    event = ev(service="payments-api")
    first = route(config, event)
    assert route(config, event) == first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first[0].team = "x"  # type: ignore[misc]
