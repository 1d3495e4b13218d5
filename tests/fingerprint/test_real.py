"""Real-layout fixtures (tests/fixtures/real): every file through every strategy, and fp2's
grouping of their recurrence variants (one bug, one group; no two bugs in one group)."""

from __future__ import annotations

import importlib.util
import json
import os
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from bot.fingerprint import STRATEGIES, explain, fingerprint
from bot.fingerprint.inapp import InAppRules
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent

FIXTURES = Path(__file__).parent.parent / "fixtures"
REAL = FIXTURES / "real"
SNAPSHOT = Path(__file__).parent / "snapshots" / "strategies.json"


def _vary() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vary", REAL / "vary.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _event(entry: dict[str, object]) -> ErrorEvent:
    ev = parse_entry(json.dumps(entry))
    assert isinstance(ev, ErrorEvent), ev
    return ev


def _fixture_events() -> dict[str, ErrorEvent]:
    out: dict[str, ErrorEvent] = {}
    for f in sorted((FIXTURES / "logentries").glob("*.json")):
        out[f"logentries/{f.stem}"] = _event(json.loads(f.read_text()))
    for f in sorted(REAL.glob("*.json")):
        for i, form in enumerate(json.loads(f.read_text())["forms"]):
            out[f"real/{f.stem}.{i}"] = _event(form)
    return out


def test_every_fixture_through_every_strategy() -> None:
    """Sentry's habit: a snapshot of each fixture under each strategy. A change to a released
    strategy shows here; rerun with UPDATE_SNAPSHOTS=1 only for a strategy not yet released."""
    got: dict[str, dict[str, object]] = {}
    events = _fixture_events()
    for version in STRATEGIES:
        got[version] = {
            name: [fp.id, fp.title, [list(c) for c in fp.components]]
            for name, ev in events.items()
            for fp in [fingerprint(ev, version=version)]
        }
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert got == json.loads(SNAPSHOT.read_text())


def test_every_fixture_file_says_where_its_layout_was_seen() -> None:
    for f in REAL.glob("*.json"):
        fx = json.loads(f.read_text())
        assert len(fx["layout"]) > 40 and fx["bug"] and fx["forms"], f.name


def test_committed_corpus_is_the_scripts_output(tmp_path: Path) -> None:
    """tests/fixtures/real/corpus is what vary.py writes (so score.py scores the fixtures)."""
    assert _vary().main(["vary.py", str(tmp_path)]) == 0
    for name in ("entries.jsonl", "labels.tsv"):
        assert (tmp_path / name).read_bytes() == (REAL / "corpus" / name).read_bytes(), name


def _groups(version: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    by_bug: dict[str, set[str]] = defaultdict(set)
    by_group: dict[str, set[str]] = defaultdict(set)
    for _iid, bug, entry in _vary().corpus():
        fp = fingerprint(_event(entry), version=version).id
        by_bug[bug].add(fp)
        by_group[fp].add(bug)
    return by_bug, by_group


def test_fp2_one_bug_one_group_across_recurrences_and_encoders() -> None:
    by_bug, by_group = _groups("fp2")
    split = {b: len(g) for b, g in by_bug.items() if len(g) > 1}
    merged = [sorted(b) for b in by_group.values() if len(b) > 1]
    assert not split and not merged, (split, merged)


def test_fp1_is_kept_as_it_was_and_splits_these() -> None:
    """fp1 stays for existing groups: it still splits what fp2 fixes (so fp2 is a new version)."""
    by_bug, _ = _groups("fp1")
    assert len([b for b, g in by_bug.items() if len(g) > 1]) >= 10


def _real(name: str, form: int = 0) -> ErrorEvent:
    return _event(json.loads((REAL / f"{name}.json").read_text())["forms"][form])


def test_node_crash_preamble_and_properties_block() -> None:
    x = explain(_real("node-unhandled-pg-refused"))
    assert ("type", "Error") in x.fingerprint.components
    assert ("value", "connect ECONNREFUSED <*>") in x.fingerprint.components
    # nothing is in-app: the frame that threw (never its line) and the message tell bugs apart
    assert [v for k, v in x.fingerprint.components if k == "frame"] == [
        "node:net TCPConnectWrap.afterConnect"
    ]
    assert x.fingerprint.title.startswith("Error: connect ECONNREFUSED")
    fetch = explain(_real("node-fetch-failed-cause"))
    assert ("frame", "orders/page.js loadOrders") in fetch.fingerprint.components


def test_console_and_json_encoders_give_one_group_and_keep_the_error() -> None:
    for name in ("go-zap-declined", "go-logrus-duplicate", "go-slog-upload", "go-zerolog-dequeue"):
        assert fingerprint(_real(name, 0)).id == fingerprint(_real(name, 1)).id, name
    assert (
        fingerprint(_real("go-zap-declined")).id
        != fingerprint(_real("go-zap-processor-timeout")).id
    )


def test_in_app_rules_of_the_service_change_what_is_hashed() -> None:
    ev = _real("go-vendor-thirdparty")
    default = explain(ev).fingerprint.components
    assert ("frame", "github.com/acme/pricing/quote (*Engine).unitPrice") in default
    assert not any("third_party" in v for _, v in default)
    rules = InAppRules(include=("github.com/acme/pricing/third_party/",), exclude=("main",))
    mine = explain(ev, in_app=rules)
    kept = [v for k, v in mine.fingerprint.components if k == "frame"]
    assert kept[0] == "github.com/acme/pricing/third_party/decimal (*Big).Quo"
    assert "main main" not in kept
    assert any("service include" in d.why for d in mine.frames)


@pytest.mark.parametrize(
    ("name", "frame"),
    [
        ("jvm-hibernate-proxy", "com.acme.shop.Customer getEmail"),
        ("jvm-javassist-npe", "com.acme.inv.Reorder lambda$planAll"),
        ("kotlin-ktor-quota", "com.acme.quota.QuotaService reserve"),
        ("node-minified-tenant", "dist/server.js handleRequestError"),
        ("py-gae-deploy-dir", "s~acme-crm/contacts.py get"),
        ("py-egg-version", "partner_sdk/client.py _get"),
    ],
)
def test_generated_mangled_and_versioned_names_are_reduced(name: str, frame: str) -> None:
    x = explain(_real(name))
    seen = [f"{d.frame.module} {d.frame.function}" for d in x.frames]
    assert frame in seen, seen
