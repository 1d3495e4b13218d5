"""`/triage oncall [team]` and `/triage oncall take [team] [2h | until mon 09:00]` (the text of
the answer; bot.query.commands wires it). Every answer to a person says what to write."""

from __future__ import annotations

from bot import slack_ids
from bot.durations import parse_duration
from bot.i18n import t
from bot.notify.blocks import escape, fmt_time
from bot.oncall.rotation import OnCall as Who
from bot.oncall.rotation import until_time
from bot.oncall.service import OnCall, TeamOnCall
from bot.routing.config import Config

DEFAULT_TAKE_S = 3600.0  # `take` without a time, when no shift ends: one hour


def _who(users: tuple[str, ...]) -> str:
    return " ".join(f"<@{u}>" for u in users)


def _handle(h: str) -> str:
    """A configured fallback as Slack shows it: a user group's mention or a user id as the
    mention it is, anything else (a bare @handle) as escaped text."""
    if slack_ids.USERGROUP_MENTION.fullmatch(h):
        return h
    return f"<@{h}>" if slack_ids.is_user(h) else escape(h)


def _team_of(cfg: Config, channel: str) -> str | None:
    return next((tm.name for tm in cfg.teams if tm.channel == channel), None)


def answer_oncall(
    service: OnCall | None,
    cfg: Config | None,
    args: list[str],
    *,
    user: str,
    channel: str,
    locale: str,
    tz: str,
    now: float,
) -> str:
    if cfg is None or service is None:
        return t("oncall.no_config", locale)
    names = [tm.name for tm in cfg.teams]
    take = bool(args) and args[0].lower() == "take"
    rest = args[1:] if take else list(args)
    team = None
    if rest and rest[0] in names:
        team, rest = rest[0], rest[1:]
    elif rest and not take:
        return t("oncall.unknown_team", locale, team=escape(rest[0]), teams=", ".join(names))
    team = team or _team_of(cfg, channel)
    if team is None:
        return t("oncall.no_team", locale, example=names[0], teams=", ".join(names))
    team_tz = cfg.team(team).timezone or cfg.defaults.timezone
    if take:
        until = _until(rest, service, team, now, team_tz)
        if until is None:
            return (
                t("oncall.bad_until", locale, value=escape(" ".join(rest)))
                + "\n"
                + t("oncall.usage", locale)
            )
        service.take(team, user, until, now)
        return t("oncall.took", locale, team=team, until=fmt_time(until, tz))
    if rest:
        return t("oncall.usage", locale)
    info = service.team(team, now)
    assert info is not None
    return _render(info.schedule.now, info, locale, tz)


def _until(rest: list[str], service: OnCall, team: str, now: float, tz: str) -> float | None:
    if not rest:
        info = service.team(team, now)
        end = info.schedule.now.until if info is not None else None
        return end if end is not None else now + DEFAULT_TAKE_S
    if rest[0].lower() == "until":
        try:
            return until_time(" ".join(rest[1:]), now, tz)
        except ValueError:
            return None
    if len(rest) != 1:
        return None
    try:
        seconds = parse_duration(rest[0])
    except ValueError:
        return None
    return now + seconds if seconds > 0 else None


def _render(cur: Who, info: TeamOnCall, locale: str, tz: str) -> str:
    lines = []
    if not cur.users:
        lines.append(t("oncall.nobody", locale, team=info.team))
    else:
        source = t(f"oncall.source.{cur.source}", locale)
        if cur.until is not None:
            lines.append(
                t(
                    "oncall.now",
                    locale,
                    team=info.team,
                    who=_who(cur.users),
                    until=fmt_time(cur.until, tz),
                    source=source,
                )
            )
        else:
            lines.append(
                t("oncall.now_open", locale, team=info.team, who=_who(cur.users), source=source)
            )
    nxt, at = info.schedule.next, info.schedule.next_at
    if nxt is not None and at is not None and nxt.users:
        lines.append(t("oncall.next", locale, who=_who(nxt.users), at=fmt_time(at, tz)))
    if info.fallback:
        lines.append(t("oncall.fallback", locale, fallback=" ".join(map(_handle, info.fallback))))
    return "\n".join(lines)
