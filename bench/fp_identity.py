"""Identity check for speed work on a released strategy: every input we have -> its result.

usage: python bench/fp_identity.py OUT.jsonl [--check BASELINE.jsonl] [--strategy fp2]

Runs the strategy over every input in reach: tests/fixtures/logentries, tests/fixtures/real
(the fixtures and their committed variant corpus), ../shared/corpus (visible, Loghub-2k, and
the peer traces wrapped as bench/real_grouping.py wraps them), plus seeded mutations of every
trace (lines dropped, repeated, cut short, re-indented) and multi-goroutine dumps built from
the Go traces, so parser edge cases are covered too.
Each input is fingerprinted with no rules, with per-service in-app rules and with custom
fingerprint rules, and explained; the parsed ErrorEvent is recorded as well (the bench parses).

Two passes in one process, the second in reverse order over warm caches, must agree (a cache
never changes a result); OUT gets one JSON line per input. With --check, OUT must equal the
baseline byte for byte; the first differing inputs are printed. Exit status 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.real_grouping import peer_entries, real_entries  # noqa: E402
from bot.fingerprint import explain, fingerprint, load_rules  # noqa: E402
from bot.fingerprint.inapp import InAppRules  # noqa: E402
from bot.ingest.logentry import parse_entry  # noqa: E402
from bot.models import ErrorEvent  # noqa: E402

SHARED = Path("/work/shared/corpus")
if not SHARED.is_dir():
    SHARED = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"

IN_APP = (
    None,
    InAppRules(include=("github.com/", "com.google.", "node_modules/express"), exclude=("main",)),
    InAppRules(exclude=("com.", "app/", "/app/", "github.com/acme/")),
)
RULES = load_rules(
    [
        {"frame": "*handle*", "fingerprint": ["{{ default }}", "{{ function }}", "{{ module }}"]},
        {"message": r"(?i)timeout|refused", "fingerprint": ["{{ service }}", "{{ message }}"]},
        {"type": "*Error", "title": "[t] {{ default }} / {{ type }} / {{ message }}"},
    ]
)


def _inputs() -> Iterator[tuple[str, bytes]]:
    for f in sorted((FIXTURES / "logentries").glob("*.json")):
        yield f"logentries/{f.name}", json.dumps(json.loads(f.read_text())).encode()
    for f in sorted((FIXTURES / "real").glob("*.json")):
        for i, form in enumerate(json.loads(f.read_text())["forms"]):
            yield f"real/{f.name}.{i}", json.dumps(form).encode()
    for iid, _bug, _rt, entry in real_entries():
        yield f"real-corpus/{iid}", json.dumps(entry).encode()
    for corpus in ("visible", "loghub2k"):
        path = SHARED / corpus / "entries.jsonl"
        if path.is_file():
            with path.open("rb") as fh:
                for n, line in enumerate(fh):
                    if line.strip():
                        yield f"{corpus}/{n}", line.rstrip(b"\n")
    peer = SHARED / "peer-traces"
    if peer.is_dir():
        for iid, _bug, _rt, entry in peer_entries(peer):
            yield f"peer/{iid}", json.dumps(entry).encode()


def _mutations(name: str, text: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    lines = text.split("\n")
    n = len(lines)
    for k in range(4):
        ls = list(lines)
        op = rng.randrange(6)
        i = rng.randrange(n)
        if op == 0:
            del ls[i]
        elif op == 1:
            ls.insert(i, ls[i])
        elif op == 2:
            ls = ls[: max(1, i)]
        elif op == 3:
            ls[i] = ls[i].lstrip()
        elif op == 4:
            ls[i] = "\t" + ls[i]
        else:
            cut = rng.randrange(len(text) + 1)
            yield f"{name}~{k}", text[:cut]
            continue
        yield f"{name}~{k}", "\n".join(ls)


def _all_inputs() -> list[tuple[str, bytes]]:
    out = list(_inputs())
    rng = random.Random(20261203)
    extra: list[tuple[str, bytes]] = []
    for name, raw in out:
        ev = parse_entry(raw)
        if not isinstance(ev, ErrorEvent):
            continue
        text = ev.stack or (ev.message if "\n" in ev.message else None)
        if not text:
            continue
        for mname, mtext in _mutations(name, text, rng):
            entry = {
                "insertId": mname,
                "timestamp": "2024-05-01T10:00:00Z",
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": ev.service}},
                "textPayload": mtext,
            }
            extra.append((mname, json.dumps(entry).encode()))
    return out + extra + _dumps([raw for _, raw in extra if b"goroutine " in raw], rng)


def _dumps(go: list[bytes], rng: random.Random) -> list[tuple[str, bytes]]:
    """Multi-goroutine dumps (GOTRACEBACK=all): a Go trace followed by other traces'
    goroutines, with and without frames before the next header, and a header in a message."""
    texts = [str(json.loads(raw)["textPayload"]) for raw in go]
    out: list[tuple[str, bytes]] = []
    for n, text in enumerate(texts):
        others = [texts[rng.randrange(len(texts))] for _ in range(rng.randrange(1, 9))]
        tails = [t[t.find("goroutine ") :] for t in others if "goroutine " in t]
        variants = [
            text + "\n\n" + "\n\n".join(tails),
            text.replace("goroutine ", "goroutine 7 [select]:\ngoroutine ", 1),
            "panic: goroutine 9 exited:\n" + text + "\n" + "\n".join(tails),
            text.rstrip("\n") + "\r\ngoroutine 3 [chan receive]:\r\n" + "\r\n".join(tails),
        ]
        for k, body in enumerate(variants):
            entry = {
                "insertId": f"dump/{n}.{k}",
                "timestamp": "2024-05-01T10:00:00Z",
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": "dump"}},
                "textPayload": body,
            }
            out.append((f"dump/{n}.{k}", json.dumps(entry).encode()))
    return out


def _fp(fp: Any) -> list[Any]:
    return [fp.id, fp.title, fp.culprit, list(fp.frames), [list(c) for c in fp.components]]


def _record(name: str, raw: bytes, version: str) -> str:
    ev = parse_entry(raw)
    rec: dict[str, Any] = {"input": name}
    if not isinstance(ev, ErrorEvent):
        rec["rejected"] = repr(ev)
        return json.dumps(rec, ensure_ascii=False)
    rec["event"] = hashlib.blake2b(repr(ev).encode(), digest_size=8).hexdigest()
    rec["fp"] = [_fp(fingerprint(ev, in_app=rules, version=version)) for rules in IN_APP]
    rec["rules"] = _fp(fingerprint(ev, RULES, version=version))
    rec["explain"] = [
        [
            _fp(ex.fingerprint),
            ex.strategy,
            ex.runtime,
            [[repr(d.frame), d.kept, d.why] for d in ex.frames],
            list(ex.notes),
        ]
        for ex in (explain(ev, version=version), explain(ev, RULES, IN_APP[1], version=version))
    ]
    return json.dumps(rec, ensure_ascii=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--check", default=None, help="baseline file OUT must equal")
    ap.add_argument("--strategy", default="fp2")
    args = ap.parse_args()
    inputs = _all_inputs()
    first = [_record(name, raw, args.strategy) for name, raw in inputs]
    second = [_record(name, raw, args.strategy) for name, raw in reversed(inputs)][::-1]
    bad = 0
    if first != second:
        diffs = [(a, b) for a, b in zip(first, second, strict=True) if a != b]
        print(
            f"cold and warm passes differ on {len(diffs)} inputs, e.g.:\n{diffs[0][0]}\n{diffs[0][1]}"
        )
        bad = 1
    text = "\n".join(first) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    print(f"{len(first)} inputs, sha256 {digest} -> {args.out}")
    if args.check:
        base = Path(args.check).read_text(encoding="utf-8").split("\n")
        now = text.split("\n")
        diffs = [(a, b) for a, b in zip(base, now, strict=False) if a != b]
        if diffs or len(base) != len(now):
            print(f"DIFFERS from {args.check}: {len(diffs)} lines ({len(base)} vs {len(now)})")
            for a, b in diffs[:3]:
                print(f"- {a[:600]}\n+ {b[:600]}")
            bad = 1
        else:
            print(f"identical to {args.check}")
    return bad


if __name__ == "__main__":
    raise SystemExit(main())
