"""Grouping of real error layouts, per runtime and per strategy: GA and pairwise precision.

usage: python bench/real_grouping.py [--peer-traces DIR]

1. tests/fixtures/real/corpus (the real-layout fixtures and their recurrence variants, see
   tests/fixtures/real/vary.py).
2. ../shared/corpus/peer-traces when present: each raw sample wrapped three ways (textPayload,
   a logback-style jsonPayload {message, stack_trace}, Error Reporting's ReportedErrorEvent),
   all in ONE service (so two bugs can merge), each form varied 5 times by vary.py.

GA (Loghub's grouping accuracy) and pairwise precision/recall as `../shared/corpus/score.py`
defines them. Prints one line per corpus, runtime and strategy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.fingerprint import STRATEGIES, fingerprint  # noqa: E402
from bot.ingest.logentry import parse_entry  # noqa: E402
from bot.models import ErrorEvent  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "real"
PEER = ROOT.parent / "shared" / "corpus" / "peer-traces"
_REPORTED = "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"


def _vary() -> Any:
    spec = importlib.util.spec_from_file_location("vary", REAL / "vary.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def runtime_of(bug: str, lang: str | None = None) -> str:
    key = (lang or bug.split("-", 1)[0]).lower()
    return {"go": "Go", "jvm": "JVM", "kotlin": "JVM", "java": "JVM", "py": "Python"}.get(
        key, {"python": "Python", "node": "Node"}.get(key, key)
    )


def score(truth: dict[str, str], pred: dict[str, str]) -> tuple[float, float, float]:
    """(GA, pairwise precision, pairwise recall)."""
    t_members: dict[str, set[str]] = defaultdict(set)
    p_members: dict[str, set[str]] = defaultdict(set)
    for k, v in truth.items():
        t_members[v].add(k)
        p_members[pred[k]].add(k)
    ok = sum(1 for k in truth if p_members[pred[k]] == t_members[truth[k]])
    tp = fp = fn = 0
    for members in p_members.values():
        for a, b in combinations(sorted(members), 2):
            if truth[a] == truth[b]:
                tp += 1
            else:
                fp += 1
    for members in t_members.values():
        for a, b in combinations(sorted(members), 2):
            if pred[a] != pred[b]:
                fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return ok / len(truth), precision, recall


def peer_entries(directory: Path) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(insertId, bug, runtime, LogEntry) for every peer sample, form and variant."""
    vary = _vary()
    for path in sorted(directory.glob("*.txt")):
        header, _, body = path.read_text(encoding="utf-8").partition("\n")
        lang = next((p.split(":", 1)[1].strip() for p in header.split("|") if "lang:" in p), "")
        first = body.strip().split("\n", 1)[0]
        resource = {"type": "cloud_run_revision", "labels": {"service_name": "peer"}}
        base = {"timestamp": "2024-05-01T10:00:00Z", "severity": "ERROR", "resource": resource}
        forms = [
            {**base, "textPayload": body},
            {**base, "jsonPayload": {"message": first, "stack_trace": body}},
            {**base, "jsonPayload": {"@type": _REPORTED, "message": body}},
        ]
        rng = random.Random(path.name)
        for f, form in enumerate(forms):
            for v in range(6):
                iid = f"{path.stem}.{f}.{v}"
                yield (
                    iid,
                    path.stem,
                    runtime_of("", lang),
                    (dict(form, insertId=iid) if v == 0 else vary.variant(form, rng, iid)),
                )


def real_entries() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for iid, bug, entry in _vary().corpus():
        yield iid, bug, runtime_of(bug), entry


def report(name: str, rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
    data = list(rows)
    events = {}
    for iid, _bug, _rt, entry in data:
        ev = parse_entry(json.dumps(entry))
        assert isinstance(ev, ErrorEvent), ev
        events[iid] = ev
    runtimes = sorted({rt for _, _, rt, _ in data})
    for version in STRATEGIES:
        pred = {iid: fingerprint(ev, version=version).id for iid, ev in events.items()}
        for rt in [*runtimes, "all"]:
            truth = {iid: bug for iid, bug, r, _ in data if rt in ("all", r)}
            ga, p, r = score(truth, {k: pred[k] for k in truth})
            bugs = len(set(truth.values()))
            print(
                f"{name:12s} {rt:7s} {version}  GA {ga:.3f}  precision {p:.3f}  recall {r:.3f}"
                f"  ({len(truth)} entries, {bugs} bugs)"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--peer-traces", type=Path, default=PEER)
    args = ap.parse_args()
    report("real-layout", real_entries())
    if args.peer_traces.is_dir():
        report("peer-traces", peer_entries(args.peer_traces))
    else:
        print(f"peer-traces: {args.peer_traces} not found, skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
