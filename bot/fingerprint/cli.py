"""`triage-bot fingerprint` and `triage-bot explain`: group LogEntry JSON lines offline.

No Redis, no Slack: each line is parsed and fingerprinted exactly as the ingest path does,
with the routing config's grouping (`--config`, else TRIAGE_CONFIG when that file exists):
its strategy, fingerprint rules and in-app rules (without a config naming a strategy,
GROUPING_STRATEGY's, as the bot). `--strategy` overrides the strategy. `explain --redis` also
reads the merge rules of the bot's Redis (REDIS_URL, REDIS_PREFIX): which group an entry's
group was merged into (`/triage merge`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from bot.fingerprint import STRATEGIES, InAppRules, Strategy, er1, load_rules, strategy
from bot.fingerprint.explain import render_explanation
from bot.fingerprint.inapp import NO_RULES
from bot.fingerprint.rules import FingerprintRule, RuleError
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent, Rejected


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.jsonl", help="LogEntry JSON, one a line; - = stdin")
    parser.add_argument(
        "--rules",
        metavar="RULES.yaml",
        help="YAML file: a list of fingerprint rules, or a mapping with `fingerprint_rules:`",
    )
    parser.add_argument(
        "--config",
        metavar="TRIAGE.yml",
        help="routing config whose grouping to use (default: TRIAGE_CONFIG if that file exists)",
    )
    parser.add_argument(
        "--strategy",
        choices=list(STRATEGIES),
        help="fingerprint strategy version (default: the config's, else the built-in default)",
    )


def add_arguments_fingerprint(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)


def add_arguments_explain(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)  # with --config, also where each entry is routed and which rule decided
    parser.add_argument(
        "--redis",
        action="store_true",
        help="also show merge rules (`/triage merge`) from the bot's Redis: REDIS_URL "
        "(default redis://127.0.0.1:6379/0) and REDIS_PREFIX (default tb)",
    )


def _lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from sys.stdin.buffer
        return
    with open(path, "rb") as fh:
        yield from fh


class _Grouping:
    """What the pipeline's fingerprinter would apply, from the command line's options."""

    def __init__(self, args: argparse.Namespace, rules: list[FingerprintRule]) -> None:
        from bot.routing.config import Config, load_config

        self.config: Config | None = None
        path = getattr(args, "config", None) or os.environ.get("TRIAGE_CONFIG")
        if path and (getattr(args, "config", None) or os.path.exists(path)):
            self.config = load_config(path)  # ConfigError: reported by the caller
        cfg = self.config
        version = (
            getattr(args, "strategy", None)
            or (cfg.defaults.grouping.strategy if cfg else None)
            or os.environ.get("GROUPING_STRATEGY", "").lower()
            or None
        )
        self.strategy: Strategy = strategy(version)
        self.rules = rules or (list(cfg.fingerprint_rules) if cfg else [])
        self.error_reporting = bool(cfg and cfg.defaults.grouping.error_reporting)

    def in_app(self, event: ErrorEvent) -> InAppRules:
        return self.config.in_app_for(event.service) if self.config else NO_RULES


def _setup(args: argparse.Namespace, name: str) -> _Grouping | None:
    from bot.routing.config import ConfigError

    try:
        return _Grouping(args, _rules(getattr(args, "rules", None)))
    except (OSError, RuleError) as exc:
        print(f"triage-bot {name}: {exc}", file=sys.stderr)
    except KeyError as exc:  # GROUPING_STRATEGY names no strategy
        print(f"triage-bot {name}: GROUPING_STRATEGY: {exc.args[0]}", file=sys.stderr)
    except ConfigError as exc:
        print(f"triage-bot {name}: the config has problems:\n{exc}", file=sys.stderr)
    return None


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
    grouping = _setup(args, "fingerprint")
    if grouping is None:
        return 2
    run, rules, in_app = grouping.strategy.fingerprint, grouping.rules, grouping.in_app
    with_er = grouping.error_reporting
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
            fp = run(ev, rules, in_app(ev))
            if with_er:
                fp = er1.over(ev, fp)
            write(f"{ev.insert_id}\t{fp.id}\n")
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
    grouping = _setup(args, "explain")
    if grouping is None:
        return 2
    config = grouping.config
    status = 0
    merges: dict[str, str] = {}
    if getattr(args, "redis", False):
        got = _merge_rules()
        if got is None:
            return 2
        merges = got
    try:
        for n, raw in enumerate(_lines(args.file), 1):
            if not raw.strip():
                continue
            ev = parse_entry(raw.rstrip(b"\r\n"))
            if isinstance(ev, Rejected):
                print(f"{ev.insert_id or f'line {n}'}\trejected: {ev.reason}", file=out)
                status = 1
                continue
            in_app = grouping.in_app(ev)
            exp = grouping.strategy.explain(ev, grouping.rules, in_app)
            print(render_explanation(ev.insert_id, exp, in_app), file=out)
            if (target := merges.get(exp.fingerprint.id)) is not None:
                print(f"  merged into: {target} (/triage merge: its entries count there)", file=out)
            if config is not None:  # where the bot would send it, and which rule decided
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


def _merge_rules() -> dict[str, str] | None:
    """source gid -> final target from the bot's Redis, or None (said why on stderr)."""
    import redis

    from bot.store.keys import Keys
    from bot.store.merges import MergeStore, resolve

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        store = MergeStore(redis.Redis.from_url(url), Keys(os.environ.get("REDIS_PREFIX", "tb")))
        into = {s: r.into for s, r in store.rules().items()}
    except (redis.RedisError, ValueError) as exc:
        print(
            f"triage-bot explain: cannot read merge rules from {url} ({type(exc).__name__}: "
            f"{exc}): check REDIS_URL, or leave out --redis",
            file=sys.stderr,
        )
        return None
    return {s: resolve(into, s) for s in into}
