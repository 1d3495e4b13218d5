"""The config file's scalar types (durations, locales, time zones, severities, matchers,
channels, on-call references, team names) as pydantic annotated types. Each rejects a bad value
with a pydantic error of type ``ERR`` whose context carries the message and a concrete fix."""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, NoReturn

from pydantic import BeforeValidator, PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

from bot import slack_ids
from bot.durations import FIX as DURATION_FIX
from bot.durations import parse_duration
from bot.routing.match import SEVERITIES, StrMatcher, compile_matcher

ERR = "triage_config"  # pydantic error type of every error raised here; ctx carries the fix


def fail(message: str, fix: str) -> NoReturn:
    raise PydanticCustomError(ERR, "{message}", {"message": message, "fix": fix})


def yaml_kind(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def closest(word: str, options: Iterator[str] | list[str] | tuple[str, ...]) -> str | None:
    opts = list(options)
    lowered = {o.lower(): o for o in opts}
    if word.lower() in lowered:
        return lowered[word.lower()]
    hits = difflib.get_close_matches(word, opts, n=1, cutoff=0.6)
    return hits[0] if hits else None


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    hit = closest(word, options)
    return f"did you mean {hit!r}? " if hit else ""


# --- scalar types -------------------------------------------------------------------------------


def check_duration(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        fail(f"expected a duration such as '15m', got {yaml_kind(value)}", DURATION_FIX)
    if not isinstance(value, str):
        fail(f"{value} has no unit", f"write '{value}s' for seconds, or e.g. '15m'; {DURATION_FIX}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        reason = "" if str(exc) == "not a duration" else f": {exc}"
        fail(f"{value!r} is not a duration{reason}", DURATION_FIX)


Duration = Annotated[float, BeforeValidator(check_duration)]


def _locale(value: Any) -> str:
    if value in ("en", "ja"):
        return str(value)
    hint = ""
    if isinstance(value, str) and value[:2].lower() in ("en", "ja"):
        hint = f"did you mean {value[:2].lower()!r}? "
    fail(f"locale must be en or ja, got {yaml_kind(value)}", f"{hint}use 'en' or 'ja'")


Locale = Annotated[Literal["en", "ja"], BeforeValidator(_locale)]


@functools.cache
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        fail(f"expected an IANA time zone name, got {yaml_kind(value)}", "e.g. 'Asia/Tokyo', 'UTC'")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hit = closest(value, _all_timezones())
        hint = f"did you mean {hit!r}? " if hit else ""
        fail(
            f"unknown time zone {value!r}",
            f"{hint}use an IANA name (Area/City) such as 'Asia/Tokyo', 'Europe/London' or 'UTC'",
        )
    return value


Timezone = Annotated[str, BeforeValidator(check_timezone)]


def _severity(value: Any) -> str:
    names = list(SEVERITIES)
    if isinstance(value, str) and value.upper() in SEVERITIES:
        return value.upper()
    hint = ""
    if isinstance(value, str):
        aliases = {"WARN": "WARNING", "FATAL": "CRITICAL", "ERR": "ERROR", "CRIT": "CRITICAL"}
        hit = aliases.get(value.upper()) or closest(value.upper(), names)
        hint = f"did you mean {hit!r}? " if hit else ""
    fail(
        f"unknown severity {value!r}"
        if isinstance(value, str)
        else f"expected a severity name, got {yaml_kind(value)}",
        f"{hint}use one of {', '.join(names)} (the route matches that severity and above)",
    )


Severity = Annotated[str, BeforeValidator(_severity)]


def _regex_fix(exc: re.error) -> str:
    return (
        f"correct the pattern at position {exc.pos} ({exc.msg}); escape a literal ( ) [ ] . * + ? "
        "with a backslash and put the value in single quotes so YAML keeps it, e.g. '\\(retry\\)'"
    )


def _matcher(value: Any) -> StrMatcher:
    if isinstance(value, StrMatcher):
        return value
    if not isinstance(value, str):
        fail(
            f"expected text (exact, glob like 'payments-*', or regex between slashes), "
            f"got {yaml_kind(value)}",
            "write the value as text; quote it if YAML would read it as a number or true/false",
        )
    try:
        return compile_matcher(value)
    except re.error as exc:
        fail(f"invalid regex {value}: {exc.msg} at position {exc.pos}", _regex_fix(exc))


def _regex(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        fail(f"expected a regex, got {yaml_kind(value)}", "write the regex as quoted text")
    body = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "/" else value
    try:
        return re.compile(body)
    except re.error as exc:
        fail(f"invalid regex {value!r}: {exc.msg} at position {exc.pos}", _regex_fix(exc))


def _regex_matcher(value: Any) -> StrMatcher:
    pattern = _regex(value)
    return StrMatcher(pattern.pattern, "regex", pattern)


Matcher = Annotated[StrMatcher, PlainValidator(_matcher), PlainSerializer(lambda m: m.raw)]
RegexMatcher = Annotated[
    StrMatcher, PlainValidator(_regex_matcher), PlainSerializer(lambda m: m.raw)
]
Regex = Annotated[re.Pattern[str], PlainValidator(_regex), PlainSerializer(lambda p: p.pattern)]

_CHANNEL_FIX = "use the channel id ('C0123ABCD', from the channel's details) or '#name' in quotes"


def _channel(value: Any) -> str:
    if value is None:
        fail(
            "channel is empty",
            "in YAML an unquoted # starts a comment: write channel: '#payments' (quoted) "
            "or the channel id 'C0123ABCD'",
        )
    if not isinstance(value, str):
        fail(f"expected a channel, got {yaml_kind(value)}", _CHANNEL_FIX)
    if slack_ids.is_channel(value) or slack_ids.is_channel_name(value):
        return value
    if slack_ids.is_channel(value.upper()) and value[:1] in "cg":
        fix = f"channel ids are upper case: {value.upper()!r}"
    elif re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,79}", value):
        fix = f"write '#{value}' (with # and in quotes) or the channel id"
    elif value.startswith("D"):
        fix = "direct messages are not supported; " + _CHANNEL_FIX
    elif value.startswith("#") and value != value.lower():
        fix = f"Slack channel names are lower case: '{value.lower()}'"
    else:
        fix = _CHANNEL_FIX
    fail(f"{value!r} is not a Slack channel", fix)


_HANDLE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._-]*$")
_ONCALL_FIX = (
    "use a user group handle ('@sre-oncall', quoted), its mention '<!subteam^S0123ABCD>', "
    "or a list of user ids like ['U0123ABCD', 'U0456EFGH']"
)


def _oncall_item(value: Any) -> str:
    if isinstance(value, str):
        m = slack_ids.USER_MENTION.fullmatch(value)
        if m:
            return m.group(1)
        if (
            _HANDLE.match(value)
            or slack_ids.USERGROUP_MENTION.fullmatch(value)
            or slack_ids.is_user(value)
        ):
            return value
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value) and not slack_ids.is_user(
            value.upper()
        ):
            fail(
                f"{value!r} is not a user group handle or user id",
                f"if it is a user group handle write '@{value}' (quoted); " + _ONCALL_FIX,
            )
    fail(f"{value!r} is not a user group handle or user id", _ONCALL_FIX)


def _oncall_list(value: Any) -> Any:
    if value is None:
        fail(
            "oncall is empty",
            "in YAML an unquoted @ is not allowed: quote it, oncall: '@sre-oncall', "
            "or remove the key if the team has no on-call",
        )
    return [value] if isinstance(value, str) else value


Oncall = Annotated[
    tuple[Annotated[str, BeforeValidator(_oncall_item)], ...], BeforeValidator(_oncall_list)
]

_TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _team_name(value: Any) -> str:
    if not isinstance(value, str) or not _TEAM_NAME.match(value):
        fail(
            f"team name must be a word (letters, digits, - _ .), got {yaml_kind(value)}",
            "e.g. name: payments",
        )
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        fail(f"expected a whole number of at least 1, got {yaml_kind(value)}", "e.g. 10")
    return value


TeamName = Annotated[str, BeforeValidator(_team_name)]
ChannelRef = Annotated[str, BeforeValidator(_channel)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]


def unknown_team_fix(value: str, teams: list[str]) -> str:
    if not teams:
        return f"no teams are defined: add team {value!r} under teams:"
    return (
        f"{did_you_mean(value, teams)}team {value!r} is not defined; defined teams: "
        f"{', '.join(teams)}. Use one of them or add it under teams:"
    )
