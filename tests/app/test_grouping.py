"""The pipeline's fingerprinter: config rules and the Error Reporting grouping hint."""

from __future__ import annotations

import json
import random
import time

from triage_sandbox.traffic import BUGS, entry

from bot.grouping import make_fingerprinter
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent
from bot.routing.config import parse_config

BASE = "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"


def event(bug: int, seed: int, er_id: str | None = None) -> ErrorEvent:
    e = entry(BUGS[bug], random.Random(seed), time.time())
    if er_id:
        e["errorGroups"] = [{"id": er_id}]
    ev = parse_entry(json.dumps(e))
    assert isinstance(ev, ErrorEvent)
    return ev


def test_without_config_it_is_the_fingerprint() -> None:
    fp = make_fingerprinter(lambda: None)
    assert fp(event(0, 1)).id == fp(event(0, 2)).id
    assert fp(event(0, 1)).id != fp(event(3, 1)).id


def test_error_reporting_grouping_uses_the_group_id_when_present() -> None:
    cfg = parse_config("defaults:\n  grouping: error_reporting\n" + BASE)
    fp = make_fingerprinter(lambda: cfg)
    a, b = fp(event(0, 1, "G1")), fp(event(3, 1, "G1"))
    assert a.id == b.id and a.id.startswith("er1-")
    assert fp(event(0, 1, "G2")).id != a.id
    own = make_fingerprinter(lambda: None)
    assert fp(event(0, 1)).id == own(event(0, 1)).id  # no errorGroups: falls back


def test_config_rules_apply() -> None:
    cfg = parse_config(
        BASE
        + "fingerprint_rules:\n  - service: orders-*\n    fingerprint: [orders-everything]\n    title: Orders are failing\n"
    )
    fp = make_fingerprinter(lambda: cfg)
    a, b = fp(event(0, 1)), fp(event(1, 1))
    assert a.id == b.id and a.title == "Orders are failing"
