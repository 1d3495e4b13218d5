"""`/triage` subcommands: parse the text, do it, render the answer (no Slack calls here)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from bot.deps import Deps
from bot.i18n import t
from bot.lifecycle import parse_duration
from bot.notify.blocks import View, alert_blocks, escape

ACTIONS = {"ack": "acknowledge", "resolve": "resolve", "unsnooze": "unsnooze", "reopen": "reopen"}


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    share: bool = False


def _usage(loc: str) -> Reply:
    return Reply(t("cmd.help", loc))


def answer(deps: Deps, text: str, *, user: str, channel: str) -> Reply:
    loc = deps.locale
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    share = "--share" in words
    words = [w for w in words if w != "--share"]
    if not words or words[0] == "help":
        return _usage(loc)
    cmd, args = words[0].lower(), words[1:]
    if cmd in ACTIONS or cmd == "snooze":
        if not args:
            return Reply(t("cmd.needs_id", loc, cmd=cmd))
        gid = args[0]
        arg: str | float = ""
        transition = ACTIONS.get(cmd, "snooze_for")
        if cmd == "snooze":
            dur = parse_duration(args[1]) if len(args) > 1 else 3600
            if dur is None:
                return Reply(t("cmd.bad_duration", loc, value=escape(args[1])))
            arg = dur
        out = deps.lifecycle.act(gid, transition, user, arg, locale=loc)
        return Reply(t("cmd.done", loc, gid=gid, state=out.state) if out.ok else out.message)
    if cmd == "show":
        if not args:
            return Reply(t("cmd.needs_id", loc, cmd=cmd))
        group = deps.store.load_group(args[0])
        if group is None:
            return Reply(t("error.not_found", loc, gid=escape(args[0])))
        now = deps.notifier.clock()
        view = View(
            now=now,
            locale=loc,
            tz=deps.timezone,
            minutes=deps.store.minute_counts(group.id, now),
            hours=deps.store.hour_counts(group.id, now),
        )
        blocks = [b for b in alert_blocks(group, view) if b.get("type") != "actions"]
        return Reply(escape(group.title), blocks, share)
    return Reply(t("cmd.unknown", loc, cmd=escape(cmd)) + "\n" + t("cmd.help", loc))
