"""``triage-bot check-config FILE``: every problem with its line and fix, or a summary of the
teams and routes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from bot.fingerprint import DEFAULT_STRATEGY
from bot.routing.config.loader import base_dir, parse, read
from bot.routing.config.model import Route


def add_arguments_check_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the routing config (YAML) to validate")


def _describe(r: Route) -> str:
    m = r.match
    parts = [
        f"{name}={matcher.raw}"
        for name, matcher in (
            ("service", m.service),
            ("service_regex", m.service_regex),
            ("resource_type", m.resource_type),
            ("log_name", m.log_name),
        )
        if matcher is not None
    ]
    if m.severity:
        parts.append(f"severity>={m.severity}")
    parts += [f"labels.{k}={v.raw}" for k, v in m.labels.items()]
    if m.message:
        parts.append(f"message=/{m.message.pattern}/")
    cond = " ".join(parts) or "(everything)"
    owner = " (owner: code, else this team)" if r.owner else ""
    return f"{cond} -> {r.team}{owner}{' (continue)' if r.continue_ else ''}"


def cmd_check_config(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    file = os.fspath(args.file)
    text, problems = read(file)
    config = None
    if text is not None:
        config, problems = parse(text, base_dir(file))
    if problems or config is None:
        for p in problems:
            out(p.format(file))
        out(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
        return 1
    out(
        f"{file}: OK — {len(config.teams)} team{'s' if len(config.teams) != 1 else ''}, "
        f"{len(config.routes)} route{'s' if len(config.routes) != 1 else ''} "
        f"+ default route -> {config.default_route.team}"
    )
    g = config.defaults.grouping
    out(
        f"  grouping: strategy {g.strategy or DEFAULT_STRATEGY + ' (the default)'}"
        + (", Error Reporting groups when present" if g.error_reporting else "")
    )
    for ia in config.in_app:
        where = ia.service.raw if ia.service is not None else "every service"
        out(f"  in_app {where}: include {list(ia.include)} exclude {list(ia.exclude)}")
    for t in config.teams:
        out(
            f"  team {t.name}: {t.channel}" + (f" oncall {', '.join(t.oncall)}" if t.oncall else "")
        )
        if t.rotation is not None:
            rot = t.rotation
            who = f"user group {rot.usergroup}" if rot.usergroup else ", ".join(rot.members)
            out(f"    rotation: {who}" + ("" if rot.usergroup else f", handoff {rot.handoff}"))
    for i, r in enumerate(config.routes):
        out(f"  route[{i}]: {_describe(r)}")
    if config.owners is not None:
        for rule in config.owners.table.rules:
            out(f"  owner: {rule.describe()}")
    return 0
