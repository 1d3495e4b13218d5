"""`triage-bot fingerprint` and `triage-bot explain`: group LogEntry JSON lines offline.

No Redis, no Slack: each line is parsed and fingerprinted exactly as the ingest path does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from bot.fingerprint import explain, fingerprint, load_rules
from bot.fingerprint.explain import render_explanation
from bot.fingerprint.rules import FingerprintRule, RuleError
from bot.ingest.logentry import parse_entry
from bot.models import Rejected


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.jsonl", help="LogEntry JSON, one a line; - = stdin")
    parser.add_argument(
        "--rules",
        metavar="RULES.yaml",
        help="YAML file: a list of fingerprint rules, or a mapping with `fingerprint_rules:`",
    )


def add_arguments_fingerprint(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)


def add_arguments_explain(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument(
        "--config",
        metavar="triage.yml",
        help="a routing config: also say where each entry is routed and which rule decided "
        "(routes, owner rules); its fingerprint_rules apply unless --rules is given",
    )


def _lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from sys.stdin.buffer
        return
    with open(path, "rb") as fh:
        yield from fh


def _rules(path: str | None) -> list[FingerprintRule]:
    if not path:
        return []
    import yaml

    with open(path, encoding="utf-8") as fh:
        doc: Any = yaml.safe_load(fh)
    if isinstance(doc, dict):
        doc = doc.get("fingerprint_rules") or []
    return load_rules(doc)


def _silence(out: TextIO) -> None:
    """After a broken pipe: point the stream's descriptor at /dev/null, so the flush at exit
    does not print "Exception ignored ... BrokenPipeError" (the recipe in Python's docs)."""
    try:
        fd = out.fileno()
    except (OSError, ValueError):  # not a real file (tests pass a StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def cmd_fingerprint(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        rules = _rules(getattr(args, "rules", None))
    except (OSError, RuleError) as exc:
        print(f"triage-bot fingerprint: {exc}", file=sys.stderr)
        return 2
    skipped = 0
    write = out.write
    try:
        for raw in _lines(args.file):
            if not raw.strip():
                continue
            ev = parse_entry(raw.rstrip(b"\r\n"))
            if isinstance(ev, Rejected):
                if ev.insert_id:
                    write(f"{ev.insert_id}\trejected\n")
                else:
                    skipped += 1
                continue
            write(f"{ev.insert_id}\t{fingerprint(ev, rules).id}\n")
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader is gone, which is not an error
        _silence(out)
        return 0
    except OSError as exc:
        print(f"triage-bot fingerprint: {exc}", file=sys.stderr)
        return 1
    if skipped:
        print(
            f"triage-bot fingerprint: skipped {skipped} rejected lines without insertId",
            file=sys.stderr,
        )
    return 0


def cmd_explain(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        rules = _rules(getattr(args, "rules", None))
    except (OSError, RuleError) as exc:
        print(f"triage-bot explain: {exc}", file=sys.stderr)
        return 2
    config = None
    if getattr(args, "config", None):
        from bot.routing.config import ConfigError, load_config

        try:
            config = load_config(args.config)
        except ConfigError as exc:
            print(f"triage-bot explain: {exc}", file=sys.stderr)
            return 2
        if not getattr(args, "rules", None):
            rules = list(config.fingerprint_rules)
    status = 0
    try:
        for n, raw in enumerate(_lines(args.file), 1):
            if not raw.strip():
                continue
            ev = parse_entry(raw.rstrip(b"\r\n"))
            if isinstance(ev, Rejected):
                print(f"{ev.insert_id or f'line {n}'}\trejected: {ev.reason}", file=out)
                status = 1
                continue
            print(render_explanation(ev.insert_id, explain(ev, rules)), file=out)
            if config is not None:
                from bot.routing.match import route_explained

                for r in route_explained(config.table, ev):
                    print(f"  routed: {r.describe()}", file=out)
        out.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
    except BrokenPipeError:  # `... | head`: the reader is gone, which is not an error
        _silence(out)
        return status
    except OSError as exc:
        print(f"triage-bot explain: {exc}", file=sys.stderr)
        return 1
    return status
