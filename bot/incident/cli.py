"""`triage-bot correlate FILE.jsonl`: the incident candidates in a file of LogEntry lines.

Offline, like `triage-bot explain`: each line is parsed and fingerprinted as ingest does (same
--config/--rules/--strategy), grouped, and the groups whose episodes start within --window
seconds of each other and share a visible cause are printed as candidates, with the shared
evidence; the groups left on their own are listed after them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.fingerprint import er1
from bot.fingerprint.cli import _add_common, _lines, _setup, _silence
from bot.incident.correlate import (
    DEFAULT_MIN_GROUPS,
    DEFAULT_WINDOW,
    GroupEpisode,
    correlate,
    explain,
)
from bot.ingest.logentry import parse_entry
from bot.models import Rejected


def add_arguments_correlate(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument(
        "--window",
        type=float,
        default=DEFAULT_WINDOW,
        help=f"seconds between episode starts that can be one outage (default {DEFAULT_WINDOW:g})",
    )
    parser.add_argument(
        "--min-groups",
        type=int,
        default=DEFAULT_MIN_GROUPS,
        help=f"groups a candidate needs at least (default {DEFAULT_MIN_GROUPS})",
    )


def cmd_correlate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    grouping = _setup(args, "correlate")
    if grouping is None:
        return 2
    if args.window < 0 or args.min_groups < 1:
        print(
            "triage-bot correlate: --window must be >= 0 and --min-groups >= 1",
            file=sys.stderr,
        )
        return 2
    groups: dict[str, GroupEpisode] = {}
    rejected = 0
    try:
        for raw in _lines(args.file):
            if not raw.strip():
                continue
            ev = parse_entry(raw.rstrip(b"\r\n"))
            if isinstance(ev, Rejected):
                rejected += 1
                continue
            fp = grouping.strategy.fingerprint(ev, grouping.rules, grouping.in_app(ev))
            if grouping.error_reporting:
                fp = er1.over(ev, fp)
            g = groups.get(fp.id)
            if g is None:
                g = groups[fp.id] = GroupEpisode(fp.id, ev.service, fp.title, ev.timestamp)
            g.add(ev)
        episodes = list(groups.values())
        out.write(explain(correlate(episodes, args.window, args.min_groups), episodes))
        out.flush()
    except BrokenPipeError:
        _silence(out)
        return 0
    except OSError as exc:
        print(f"triage-bot correlate: {exc}", file=sys.stderr)
        return 1
    if rejected:
        print(
            f"triage-bot correlate: skipped {rejected} rejected lines "
            "(`triage-bot explain` says why)",
            file=sys.stderr,
        )
    return 0
