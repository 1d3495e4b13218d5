"""The `triage-bot` command. Each subcommand lives with the code it drives; this only dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> ("module:function", help). The function takes the parsed args and returns an exit code;
# the module also exposes `add_arguments_<name>(parser)` when the subcommand has arguments.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "bot.app:cmd_serve",
        "run the bot: Slack HTTP endpoint, /healthz, Pub/Sub ingest, notifier",
    ),
    "fingerprint": (
        "bot.fingerprint.cli:cmd_fingerprint",
        "print insertId<TAB>group-id per LogEntry line",
    ),
    "explain": (
        "bot.fingerprint.cli:cmd_explain",
        "show what was hashed for each LogEntry and why",
    ),
    "correlate": (
        "bot.incident.cli:cmd_correlate",
        "print the incident candidates in LogEntry lines, with the evidence they share",
    ),
    "check-config": ("bot.routing.config.cli:cmd_check_config", "validate a routing config file"),
    "demo": (
        "triage_sandbox.demo:cmd_demo",
        "run the bot locally against stand-ins with demo traffic",
    ),
}


def _load(target: str):  # type: ignore[no-untyped-def]
    mod_name, func = target.split(":")
    try:
        return importlib.import_module(mod_name), func
    except ModuleNotFoundError as exc:
        if exc.name != "triage_sandbox":
            raise
        # The stand-ins are a separate package, never in the production image.
        raise SystemExit(
            "triage-bot: the demo needs the local sandbox, which is not installed: "
            "run it from a clone with 'make demo' (or pip install -e ./sandbox)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="triage-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    for name, (target, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_)
        # Only import the module of the subcommand actually asked for (start-up cost).
        if argv and argv[0] == name:
            mod, _ = _load(target)
            adder = getattr(mod, f"add_arguments_{name.replace('-', '_')}", None)
            if adder is not None:
                adder(p)
    args = parser.parse_args(argv)
    mod, func = _load(COMMANDS[args.command][0])
    return int(getattr(mod, func)(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
