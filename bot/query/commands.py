"""`/triage` subcommands: parse the text, do it, render the answer (no Slack calls here)."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot import slack_ids
from bot.deps import Deps
from bot.durations import parse_duration
from bot.i18n import t
from bot.notify.blocks import SECTION_TEXT_MAX, cut, escape, links_line, merged_line
from bot.oncall.slash import answer_oncall
from bot.query import blocks as qb
from bot.routing.match import SEVERITIES
from bot.routing.router import why_routed
from bot.snoozes import ESCALATING_FACTOR, parse_scope
from bot.store.history import WINDOWS
from bot.store.redis_store import Group
from bot.store.subscriptions import Subscription

ACTIONS = {"ack": "acknowledge", "resolve": "resolve", "unsnooze": "unsnooze", "reopen": "reopen"}
_PATTERN = re.compile(r"^[A-Za-z0-9*?._/-]{1,100}$")
_COUNT = re.compile(r"^x?(\d{1,6})x?$")


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    share: bool = False


def answer(deps: Deps, text: str, *, user: str, channel: str) -> Reply:
    loc, tz = deps.locale_and_tz(channel)
    deps = replace(deps, locale=loc, timezone=tz)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    share = "--share" in words
    words = [w for w in words if w != "--share"]
    if not words or words[0].lower() == "help":
        return Reply(t("cmd.help", loc))
    cmd, args = words[0].lower(), words[1:]
    handler = _COMMANDS.get(cmd)
    if handler is None:
        return Reply(t("cmd.unknown", loc, cmd=escape(cmd)) + "\n" + t("cmd.help", loc))
    reply = handler(deps, args, user, channel)
    return Reply(reply.text, reply.blocks, share)


def _window_and_service(args: list[str], loc: str) -> tuple[str, str | None] | Reply:
    window, service = "24h", None
    for a in args:
        if a in WINDOWS:
            window = a
        elif service is None and _PATTERN.match(a):
            service = a
        else:
            return Reply(t("cmd.bad_argument", loc, value=escape(a)) + "\n" + t("cmd.help", loc))
    return window, service


def _windowed(kind: str, deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    """`top` and `stats`: [service] [1h|24h|7d]."""
    parsed = _window_and_service(args, deps.locale)
    if isinstance(parsed, Reply):
        return parsed
    window, service = parsed
    if kind == "top":
        blocks = qb.top_blocks(
            deps.history.top(deps.clock(), window, service), deps.locale, window, service
        )
    else:
        blocks = qb.stats_blocks(
            deps.history.stats(deps.clock(), window, service), deps.locale, window, service
        )
    header = t(f"query.{kind}_header", deps.locale, scope=service or "*", window=window)
    return Reply(header, blocks)


def _search(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    text = " ".join(args).strip()
    if len(text) < 2:
        return Reply(t("cmd.search_usage", deps.locale))
    groups = deps.history.search(text)
    return Reply(
        t("query.search_header", deps.locale, text=escape(text)),
        qb.search_blocks(groups, deps.locale, text),
    )


def _show(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    loc = deps.locale
    if not args:
        return Reply(t("cmd.needs_id", loc, cmd="show"))
    group = deps.store.load_group(args[0])
    if group is None:
        return Reply(t("error.not_found", loc, gid=escape(args[0])))
    now = deps.clock()
    blocks = qb.show_blocks(
        group,
        loc,
        deps.timezone,
        deps.store.hour_counts(group.id, now, 24),
        deps.history.revisions(group.id),
        deps.store.timeline(group.id),
        links_line(group, loc),
    )
    if (merged := _merge_lines(deps, group)) is not None:
        blocks.insert(2, qb.section(merged))
    cfg = deps.config()
    if cfg is not None:  # which route and owner rule sent it where (config paths, as written)
        why = "\n".join(f"• {escape(w)}" for w in why_routed(cfg, group))
        text = cut(t("query.routed", loc, why=why), SECTION_TEXT_MAX)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return Reply(escape(group.title), blocks)


def _merge_lines(deps: Deps, group: Group) -> str | None:
    """ "Merged into X" and/or "merged from Y, Z" for `/triage show`, or None."""
    lines = []
    if group.get("merged_into"):
        lines.append(merged_line(group, deps.locale))
    if deps.merges is not None and (sources := deps.merges.rules.sources_of(group.id)):
        names = ", ".join(f"`{escape(s)}`" for s in sources[:20])
        more = f" (+{len(sources) - 20})" if len(sources) > 20 else ""
        lines.append(t("query.merged_from", deps.locale, sources=names + more))
    return "\n".join(lines) or None


def _merge(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    """merge <id> into <id> ("into" may be left out)."""
    words = [a for a in args if a.lower() != "into"]
    if len(words) != 2 or deps.merges is None:
        return Reply(t("merge.usage", deps.locale))
    return Reply(deps.merges.merge(words[0], words[1], user, deps.locale).message)


def _unmerge(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    if len(args) != 1 or deps.merges is None:
        return Reply(t("merge.unmerge_usage", deps.locale))
    return Reply(deps.merges.unmerge(args[0], user, deps.locale).message)


def _act(deps: Deps, args: list[str], user: str, channel: str, cmd: str) -> Reply:
    loc = deps.locale
    if not args:
        return Reply(t("cmd.needs_id", loc, cmd=cmd))
    gid = args[0]
    arg: str | float = ""
    scope = ""
    transition = ACTIONS.get(cmd, "snooze_for")
    if cmd == "snooze":
        parsed = _snooze_args(args[1:], loc)
        if isinstance(parsed, Reply):
            return parsed
        transition, arg, scope = parsed
    elif cmd == "resolve" and len(args) > 1:
        if args[1].lower() != "next":
            return Reply(t("cmd.resolve_usage", loc, value=escape(args[1])))
        transition = "resolve_next"
    out = deps.lifecycle.act(gid, transition, user, arg, locale=loc, scope=scope)
    if not out.ok:
        return Reply(out.message)
    return Reply(t("cmd.done", loc, gid=escape(gid), state=t(f"statename.{out.state}", loc)))


def _snooze_seconds(spec: str) -> float | None:
    """A snooze length, in the config file's duration syntax ("30s", "45m", "1h30m", "2d")."""
    try:
        seconds = parse_duration(spec.lower())
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _snooze_args(words: list[str], loc: str) -> tuple[str, str | float, str] | Reply:
    """[30m|1h|10x|escalating [5x]] [key=value]: (transition, arg, scope). A scope alone
    snoozes without an end, for entries with that value only."""
    transition, scope = "", ""
    arg: str | float = ""
    for w in words:
        if "=" in w:
            if (sc := parse_scope(w)) is None or scope:
                return Reply(t("cmd.bad_scope", loc, value=escape(w)))
            scope = sc
        elif w.lower() == "escalating" and not transition:
            transition, arg = "snooze_escalating", ESCALATING_FACTOR
        elif (m := _COUNT.match(w)) and not w.isdigit() and transition in ("", "snooze_escalating"):
            if transition == "snooze_escalating":
                arg = max(2, int(m.group(1)))
            else:
                transition, arg = "snooze_count", int(m.group(1))
        elif not transition and (dur := _snooze_seconds(w)) is not None:
            transition, arg = "snooze_for", dur
        else:
            return Reply(t("cmd.bad_duration", loc, value=escape(w)))
    if not transition:
        transition, arg = ("snooze_for", 0) if scope else ("snooze_for", 3600)
    return transition, arg, scope


def _subscribe(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    loc = deps.locale
    if not args or not _PATTERN.match(args[0]):
        return Reply(t("cmd.subscribe_usage", loc))
    pattern, target, severity = args[0], channel, "ERROR"
    for a in args[1:]:
        # Severity first: "CRITICAL" also has the shape of a channel id (C + capitals).
        if a.upper() in SEVERITIES:
            severity = a.upper()
        elif (ch := slack_ids.channel_ref(a)) is not None:
            target = ch
        else:
            return Reply(
                t("cmd.bad_argument", loc, value=escape(a)) + "\n" + t("cmd.subscribe_usage", loc)
            )
    assert deps.subscriptions is not None
    new = deps.subscriptions.store.add(Subscription(pattern, target, severity, user, deps.clock()))
    deps.subscriptions.invalidate()
    key = "cmd.subscribed" if new else "cmd.subscription_updated"
    return Reply(t(key, loc, pattern=escape(pattern), channel=f"<#{target}>", severity=severity))


def _unsubscribe(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    loc = deps.locale
    if not args:
        return Reply(t("cmd.subscribe_usage", loc))
    target = slack_ids.channel_ref(args[1]) if len(args) > 1 else channel
    if target is None:
        return Reply(t("cmd.bad_argument", loc, value=escape(args[1])))
    assert deps.subscriptions is not None
    removed = deps.subscriptions.store.remove(args[0], target)
    deps.subscriptions.invalidate()
    key = "cmd.unsubscribed" if removed else "cmd.not_subscribed"
    return Reply(t(key, loc, pattern=escape(args[0]), channel=f"<#{target}>"))


def _subscriptions(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    target = slack_ids.channel_ref(args[0]) if args else channel
    if target is None:
        return Reply(t("cmd.bad_argument", deps.locale, value=escape(args[0])))
    assert deps.subscriptions is not None
    subs = deps.subscriptions.store.for_channel(target)
    return Reply(
        t("query.subs_header", deps.locale, channel=f"<#{target}>"),
        qb.subscriptions_blocks(subs, deps.locale, target),
    )


def _oncall(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    text = answer_oncall(
        deps.oncall,
        deps.config(),
        args,
        user=user,
        channel=channel,
        locale=deps.locale,
        tz=deps.timezone,
        now=deps.clock(),
    )
    return Reply(text)


def _incident(deps: Deps, args: list[str], user: str, channel: str) -> Reply:
    from bot.incident.slash import answer_incident

    res = answer_incident(deps.incidents, args, user=user, channel=channel, locale=deps.locale)
    return Reply(res.text, res.blocks)


_COMMANDS: dict[str, Callable[[Deps, list[str], str, str], Reply]] = {
    "oncall": _oncall,
    "incident": _incident,
    "top": functools.partial(_windowed, "top"),
    "stats": functools.partial(_windowed, "stats"),
    "search": _search,
    "show": _show,
    "merge": _merge,
    "unmerge": _unmerge,
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "subscriptions": _subscriptions,
    **{c: functools.partial(_act, cmd=c) for c in (*ACTIONS, "snooze")},
}
