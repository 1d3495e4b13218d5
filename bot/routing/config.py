"""The routing config file (YAML): which team owns which errors, where they alert, and when.

Validated with pydantic at start-up and by `triage-bot check-config FILE`. Every problem is
reported at once, each with the line of the bad value, its path (`routes[2].match.service`),
what is wrong and a concrete fix. `triage.example.yml` at the repo root documents every key.

Durations are strings of digits and units, largest first: "30s", "15m", "1h30m", "2d".
They are held as seconds (float) once validated.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import hashlib
import os
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, NoReturn

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.fingerprint import DEFAULT_STRATEGY, STRATEGIES
from bot.fingerprint.inapp import NO_RULES, InAppRules
from bot.fingerprint.rules import FingerprintRule
from bot.models import Destination, Timings
from bot.oncall.config import RotationConfig
from bot.oncall.rotation import Rotation
from bot.routing.match import (
    DEFAULT_ROUTE_INDEX,
    SEVERITIES,
    CompiledMatch,
    CompiledRoute,
    OwnerRouting,
    RouteTable,
    StrMatcher,
    compile_matcher,
)
from bot.routing.owners_config import OwnerRuleConfig, OwnersConfig

__all__ = [
    "Config",
    "ConfigError",
    "DefaultRoute",
    "Defaults",
    "ErrorReportingConfig",
    "Match",
    "Problem",
    "Route",
    "Team",
    "add_arguments_check_config",
    "check_config",
    "cmd_check_config",
    "load_config",
    "parse_config",
    "parse_duration",
]

_ERR = "triage_config"  # pydantic error type of every error raised here; ctx carries the fix


def _fail(message: str, fix: str) -> NoReturn:
    raise PydanticCustomError(_ERR, "{message}", {"message": message, "fix": fix})


def _yaml_kind(value: Any) -> str:
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


def _closest(word: str, options: Iterator[str] | list[str] | tuple[str, ...]) -> str | None:
    opts = list(options)
    lowered = {o.lower(): o for o in opts}
    if word.lower() in lowered:
        return lowered[word.lower()]
    hits = difflib.get_close_matches(word, opts, n=1, cutoff=0.6)
    return hits[0] if hits else None


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    hit = _closest(word, options)
    return f"did you mean {hit!r}? " if hit else ""


# --- scalar types -------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+)(ms|w|d|h|m|s)")
_UNIT_S = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_UNIT_ORDER = list(_UNIT_S)
_DURATION_FIX = (
    "write digits and units w, d, h, m, s, ms, largest first, e.g. '30s', '15m', '1h30m'"
)


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0. Raises ValueError with a human message on anything else."""
    s = text.strip()
    pos, total, last = 0, 0.0, -1
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        unit = _UNIT_ORDER.index(m.group(2))
        if unit <= last:
            raise ValueError("units must appear once each, largest first (h before m before s)")
        last, pos = unit, m.end()
        total += int(m.group(1)) * _UNIT_S[m.group(2)]
    if not s or pos != len(s):
        raise ValueError("not a duration")
    return total


def _duration(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        _fail(f"expected a duration such as '15m', got {_yaml_kind(value)}", _DURATION_FIX)
    if not isinstance(value, str):
        _fail(
            f"{value} has no unit", f"write '{value}s' for seconds, or e.g. '15m'; {_DURATION_FIX}"
        )
    try:
        return parse_duration(value)
    except ValueError as exc:
        reason = "" if str(exc) == "not a duration" else f": {exc}"
        _fail(f"{value!r} is not a duration{reason}", _DURATION_FIX)


Duration = Annotated[float, BeforeValidator(_duration)]


def _locale(value: Any) -> str:
    if value in ("en", "ja"):
        return str(value)
    hint = ""
    if isinstance(value, str) and value[:2].lower() in ("en", "ja"):
        hint = f"did you mean {value[:2].lower()!r}? "
    _fail(f"locale must be en or ja, got {_yaml_kind(value)}", f"{hint}use 'en' or 'ja'")


Locale = Annotated[Literal["en", "ja"], BeforeValidator(_locale)]


@functools.cache
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        _fail(
            f"expected an IANA time zone name, got {_yaml_kind(value)}", "e.g. 'Asia/Tokyo', 'UTC'"
        )
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hit = _closest(value, _all_timezones())
        hint = f"did you mean {hit!r}? " if hit else ""
        _fail(
            f"unknown time zone {value!r}",
            f"{hint}use an IANA name (Area/City) such as 'Asia/Tokyo', 'Europe/London' or 'UTC'",
        )
    return value


Timezone = Annotated[str, BeforeValidator(_timezone)]


def _severity(value: Any) -> str:
    names = list(SEVERITIES)
    if isinstance(value, str) and value.upper() in SEVERITIES:
        return value.upper()
    hint = ""
    if isinstance(value, str):
        aliases = {"WARN": "WARNING", "FATAL": "CRITICAL", "ERR": "ERROR", "CRIT": "CRITICAL"}
        hit = aliases.get(value.upper()) or _closest(value.upper(), names)
        hint = f"did you mean {hit!r}? " if hit else ""
    _fail(
        f"unknown severity {value!r}"
        if isinstance(value, str)
        else f"expected a severity name, got {_yaml_kind(value)}",
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
        _fail(
            f"expected text (exact, glob like 'payments-*', or regex between slashes), "
            f"got {_yaml_kind(value)}",
            "write the value as text; quote it if YAML would read it as a number or true/false",
        )
    try:
        return compile_matcher(value)
    except re.error as exc:
        _fail(f"invalid regex {value}: {exc.msg} at position {exc.pos}", _regex_fix(exc))


def _regex(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        _fail(f"expected a regex, got {_yaml_kind(value)}", "write the regex as quoted text")
    body = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "/" else value
    try:
        return re.compile(body)
    except re.error as exc:
        _fail(f"invalid regex {value!r}: {exc.msg} at position {exc.pos}", _regex_fix(exc))


def _regex_matcher(value: Any) -> StrMatcher:
    pattern = _regex(value)
    return StrMatcher(pattern.pattern, "regex", pattern)


Matcher = Annotated[StrMatcher, PlainValidator(_matcher), PlainSerializer(lambda m: m.raw)]
RegexMatcher = Annotated[
    StrMatcher, PlainValidator(_regex_matcher), PlainSerializer(lambda m: m.raw)
]
Regex = Annotated[re.Pattern[str], PlainValidator(_regex), PlainSerializer(lambda p: p.pattern)]

_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]{0,79})$")
_CHANNEL_FIX = "use the channel id ('C0123ABCD', from the channel's details) or '#name' in quotes"


def _channel(value: Any) -> str:
    if value is None:
        _fail(
            "channel is empty",
            "in YAML an unquoted # starts a comment: write channel: '#payments' (quoted) "
            "or the channel id 'C0123ABCD'",
        )
    if not isinstance(value, str):
        _fail(f"expected a channel, got {_yaml_kind(value)}", _CHANNEL_FIX)
    if _CHANNEL.match(value):
        return value
    if _CHANNEL.match(value.upper()) and value[:1] in "cg":
        fix = f"channel ids are upper case: {value.upper()!r}"
    elif re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,79}", value):
        fix = f"write '#{value}' (with # and in quotes) or the channel id"
    elif value.startswith("D"):
        fix = "direct messages are not supported; " + _CHANNEL_FIX
    elif value.startswith("#") and value != value.lower():
        fix = f"Slack channel names are lower case: '{value.lower()}'"
    else:
        fix = _CHANNEL_FIX
    _fail(f"{value!r} is not a Slack channel", fix)


_HANDLE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._-]*$")
_SUBTEAM = re.compile(r"^<!subteam\^S[A-Z0-9]+(?:\|@?[^>]+)?>$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})>$")
_ONCALL_FIX = (
    "use a user group handle ('@sre-oncall', quoted), its mention '<!subteam^S0123ABCD>', "
    "or a list of user ids like ['U0123ABCD', 'U0456EFGH']"
)


def _oncall_item(value: Any) -> str:
    if isinstance(value, str):
        m = _USER_MENTION.match(value)
        if m:
            return m.group(1)
        if _HANDLE.match(value) or _SUBTEAM.match(value) or _USER.match(value):
            return value
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value) and not _USER.match(value.upper()):
            _fail(
                f"{value!r} is not a user group handle or user id",
                f"if it is a user group handle write '@{value}' (quoted); " + _ONCALL_FIX,
            )
    _fail(f"{value!r} is not a user group handle or user id", _ONCALL_FIX)


def _oncall_list(value: Any) -> Any:
    if value is None:
        _fail(
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
        _fail(
            f"team name must be a word (letters, digits, - _ .), got {_yaml_kind(value)}",
            "e.g. name: payments",
        )
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(f"expected a whole number of at least 1, got {_yaml_kind(value)}", "e.g. 10")
    return value


# --- models -------------------------------------------------------------------------------------

_STRICT = ConfigDict(extra="forbid", frozen=True)

_GROUPING_WORDS = ("fingerprint", "error_reporting")


def _grouping(value: Any) -> Any:
    """`grouping:` as a mapping, or one word: a strategy version, `fingerprint` (the default
    strategy) or `error_reporting` (Error Reporting's groups over the default strategy)."""
    if value is None or isinstance(value, Mapping):
        return value if value is not None else {}
    words = (*_GROUPING_WORDS, *STRATEGIES)
    if value == "fingerprint":
        return {}
    if value == "error_reporting":
        return {"error_reporting": True}
    if isinstance(value, str) and value in STRATEGIES:
        return {"strategy": value}
    hint = _did_you_mean(value, words) if isinstance(value, str) else ""
    _fail(
        f"expected a mapping such as {{strategy: {DEFAULT_STRATEGY}}} or one of "
        f"{', '.join(words)}, "
        f"got {_yaml_kind(value)}",
        f"{hint}write e.g. grouping: {{strategy: {DEFAULT_STRATEGY}}}",
    )


def _strategy(value: Any) -> str:
    if isinstance(value, str) and value in STRATEGIES:
        return value
    hint = _did_you_mean(str(value), list(STRATEGIES))
    _fail(
        f"unknown grouping strategy {value!r}",
        f"{hint}use one of {', '.join(STRATEGIES)} (changing it regroups errors once)",
    )


class Grouping(BaseModel):
    """Which fingerprint strategy groups errors, and whether Error Reporting's groups win."""

    model_config = _STRICT

    strategy: Annotated[str, BeforeValidator(_strategy)] | None = None  # None: the default
    error_reporting: bool = False  # use errorGroups[].id when an entry carries one


def _patterns(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str) or not item:
                _fail(
                    f"expected a module prefix or path part, got {_yaml_kind(item)}",
                    "write text such as 'com.example.' or '/src/app/', quoted if needed",
                )
    return value


Patterns = Annotated[tuple[str, ...], BeforeValidator(_patterns)]


class InAppRule(BaseModel):
    """Frames of the service's own code (`include`) and code that is not (`exclude`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    service: Matcher | None = None  # None: every service
    include: Patterns = ()
    exclude: Patterns = ()

    @model_validator(mode="after")
    def _something(self) -> InAppRule:
        if not self.include and not self.exclude:
            _fail(
                "an in_app rule needs include or exclude",
                "add include: ['com.example.'] and/or exclude: ['com.example.generated.']",
            )
        return self


class Defaults(BaseModel):
    """Values every team gets unless it overrides them."""

    model_config = _STRICT

    locale: Locale = "en"
    timezone: Timezone = "UTC"
    escalate_after: Duration = 900.0  # 15m: mention on-call when nobody acknowledged
    repeat_interval: Duration = 14400.0  # 4h: re-post a still-firing, unacknowledged group
    group_wait: Duration = 0.0  # wait before the first post of a new group
    update_interval: Duration = 30.0  # debounce of message updates (counts, last seen)
    digest_threshold: Annotated[int, BeforeValidator(_positive_int)] = 10
    grouping: Annotated[Grouping, BeforeValidator(_grouping)] = Field(default_factory=Grouping)


class Team(BaseModel):
    model_config = _STRICT

    name: Annotated[str, BeforeValidator(_team_name)]
    channel: Annotated[str, BeforeValidator(_channel)]
    oncall: Oncall = ()
    escalate_after: Duration | None = None
    repeat_interval: Duration | None = None
    locale: Locale | None = None
    timezone: Timezone | None = None
    rotation: RotationConfig | None = None  # who is on call (bot.oncall)

    @field_validator("name")
    @classmethod
    def _unique(cls, v: str, info: ValidationInfo) -> str:
        ctx = info.context
        if isinstance(ctx, dict) and "seen_teams" in ctx:
            seen: dict[str, None] = ctx["seen_teams"]
            if v in seen:
                _fail(
                    f"team {v!r} is defined twice",
                    "team names must be unique: rename one, or merge the two entries",
                )
            seen[v] = None
        return v


def _check_team_ref(value: str, info: ValidationInfo) -> str:
    ctx = info.context
    teams = ctx.get("teams") if isinstance(ctx, dict) else None
    if teams is not None and value not in teams:
        _fail(f"unknown team {value!r}", _unknown_team_fix(value, teams))
    return value


def _unknown_team_fix(value: str, teams: list[str]) -> str:
    if not teams:
        return f"no teams are defined: add team {value!r} under teams:"
    return (
        f"{_did_you_mean(value, teams)}team {value!r} is not defined; defined teams: "
        f"{', '.join(teams)}. Use one of them or add it under teams:"
    )


class Match(BaseModel):
    """Conditions on an event; all that are given must hold. An empty match matches all."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    service: Matcher | None = None
    service_regex: RegexMatcher | None = None
    resource_type: Matcher | None = None
    severity: Severity | None = None  # this severity and above
    log_name: Matcher | None = None  # full name, or the log id such as run.googleapis.com/stderr
    labels: dict[str, Matcher] = Field(default_factory=dict)
    message: Regex | None = None  # searched in the message

    @field_validator("*", mode="before")
    @classmethod
    def _not_empty(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            _fail(
                f"{info.field_name} is empty",
                "give it a value, or remove the key (an empty value would match every event); "
                "quote values starting with * or @",
            )
        return v

    @model_validator(mode="after")
    def _one_service(self) -> Match:
        if self.service is not None and self.service_regex is not None:
            _fail(
                "both service and service_regex are set",
                "keep one: service_regex: '^pay.*$' is the same as service: '/^pay.*$/'",
            )
        return self

    def compile(self) -> CompiledMatch:
        return CompiledMatch(
            service=self.service or self.service_regex,
            resource_type=self.resource_type,
            min_severity=SEVERITIES[self.severity] if self.severity else None,
            log_name=self.log_name,
            labels=tuple(self.labels.items()),
            message=self.message,
        )


TeamRef = Annotated[str, BeforeValidator(_team_name)]


class Route(BaseModel):
    model_config = _STRICT

    team: TeamRef
    match: Match = Field(default_factory=Match)
    continue_: bool = Field(default=False, alias="continue")
    owner: Literal["code"] | None = None  # the team owning the culprit's code (owners:) instead
    escalate_after: Duration | None = None
    repeat_interval: Duration | None = None

    @field_validator("team")
    @classmethod
    def _team_ref(cls, v: str, info: ValidationInfo) -> str:
        return _check_team_ref(v, info)


class DefaultRoute(BaseModel):
    """Receives every event that no route matched."""

    model_config = _STRICT

    team: TeamRef
    escalate_after: Duration | None = None
    repeat_interval: Duration | None = None

    @field_validator("team")
    @classmethod
    def _team_ref(cls, v: str, info: ValidationInfo) -> str:
        return _check_team_ref(v, info)


class ErrorReportingConfig(BaseModel):
    model_config = _STRICT

    project: Annotated[str, Field(min_length=1)]
    sync: bool = False


class Config(BaseModel):
    """A validated routing config. `table` is the compiled form `match.route` evaluates."""

    model_config = _STRICT

    defaults: Defaults = Field(default_factory=Defaults)
    teams: tuple[Team, ...] = Field(min_length=1)
    routes: tuple[Route, ...] = ()
    default_route: DefaultRoute
    fingerprint_rules: tuple[FingerprintRule, ...] = ()  # bot.fingerprint.rules, in order
    error_reporting: ErrorReportingConfig | None = None
    in_app: tuple[InAppRule, ...] = ()  # every rule whose service matches applies, in order
    owners: OwnersConfig | None = None  # code ownership (bot.routing.owners_config)

    _table: RouteTable = PrivateAttr()
    _version: str = PrivateAttr(default="")
    _in_app_cache: dict[str, InAppRules] = PrivateAttr(default_factory=dict)

    def in_app_for(self, service: str) -> InAppRules:
        """The in-app rules of a service: the patterns of every matching `in_app` rule."""
        if not self.in_app:
            return NO_RULES
        got = self._in_app_cache.get(service)
        if got is None:
            rules = [r for r in self.in_app if r.service is None or r.service.matches(service)]
            got = InAppRules(
                tuple(p for r in rules for p in r.include),
                tuple(p for r in rules for p in r.exclude),
            )
            if len(self._in_app_cache) >= 4096:  # services are few; bound it anyway
                self._in_app_cache.clear()
            self._in_app_cache[service] = got
        return got

    @model_validator(mode="after")
    def _compile(self) -> Config:
        # References are checked per field when validated through this module (context);
        # this covers models built directly in code.
        names = [t.name for t in self.teams]
        problems = [
            f"team {t!r} is defined twice" for t in {n for n in names if names.count(n) > 1}
        ]
        refs: list[Route | DefaultRoute] = [*self.routes, self.default_route]
        for r in refs:
            if r.team not in names:
                problems.append(_unknown_team_fix(r.team, names))
        if problems:
            _fail("; ".join(problems), "fix the team names")
        if self.owners is None and any(r.owner for r in self.routes):
            _fail(
                "a route says owner: code but there is no owners: section",
                "add owners: with rules (path/package/go -> team) or codeowners_file: CODEOWNERS",
            )
        teams = {t.name: t for t in self.teams}
        routes = tuple(
            CompiledRoute(
                r.match.compile(),
                self._destination(teams[r.team], i, r),
                r.continue_,
                owner_code=r.owner == "code",
            )
            for i, r in enumerate(self.routes)
        )
        default = self._destination(
            teams[self.default_route.team], DEFAULT_ROUTE_INDEX, self.default_route
        )
        owners = None
        if self.owners is not None:
            owners = OwnerRouting(
                self.owners.table,
                {n: self._destination(t, DEFAULT_ROUTE_INDEX, None) for n, t in teams.items()},
            )
        self._table = RouteTable(routes, default, owners)
        return self

    def _destination(self, team: Team, index: int, r: Route | DefaultRoute | None) -> Destination:
        d = self.defaults

        def pick(*values: float | None) -> float:
            return next(v for v in values if v is not None)

        return Destination(
            team=team.name,
            channel=team.channel,
            oncall=team.oncall,
            escalate_after_s=pick(
                r.escalate_after if r else None, team.escalate_after, d.escalate_after
            ),
            repeat_interval_s=pick(
                r.repeat_interval if r else None, team.repeat_interval, d.repeat_interval
            ),
            locale=team.locale or d.locale,
            timezone=team.timezone or d.timezone,
            route_index=index,
        )

    @property
    def table(self) -> RouteTable:
        return self._table

    @property
    def version(self) -> str:
        """A hash of the text it was parsed from: groups remember which config routed them."""
        return self._version

    def timings(self, base: Timings) -> Timings:
        """`base` (the environment's) with this config's `defaults:` timings."""
        d = self.defaults
        return replace(
            base,
            update_interval=d.update_interval,
            group_wait=d.group_wait,
            digest_threshold=d.digest_threshold,
            escalate_after=d.escalate_after,
            repeat_interval=d.repeat_interval,
        )

    def team(self, name: str) -> Team:
        return next(t for t in self.teams if t.name == name)

    def rotation(self, name: str) -> Rotation | None:
        """The team's on-call schedule, in its time zone (None: no rotation, or a user group)."""
        team = self.team(name)
        if team.rotation is None:
            return None
        return team.rotation.compile(team.timezone or self.defaults.timezone)


# Models by path with list indexes removed: for "unknown key" suggestions.
_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Config,
    ("defaults",): Defaults,
    ("teams",): Team,
    ("routes",): Route,
    ("routes", "match"): Match,
    ("default_route",): DefaultRoute,
    ("error_reporting",): ErrorReportingConfig,
    ("fingerprint_rules",): FingerprintRule,
    ("defaults", "grouping"): Grouping,
    ("in_app",): InAppRule,
    ("owners",): OwnersConfig,
    ("owners", "rules"): OwnerRuleConfig,
    ("teams", "rotation"): RotationConfig,
}


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


# --- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 1-based line of the bad value in the file; 0 when it concerns the whole file
    path: str  # e.g. "routes[2].match.service"; "" for the file itself
    message: str  # what is wrong
    fix: str  # how to fix it

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}:" if self.line else f"{file}:"
        what = f" {self.path}:" if self.path else ""
        return f"{where}{what} {self.message} — {self.fix}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem], file: str = "<config>") -> None:
        self.problems = problems
        self.file = file
        super().__init__("\n".join(p.format(file) for p in problems))


Loc = tuple[int | str, ...]


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_at(root: yaml.Node, loc: Loc, *, key: bool = False) -> yaml.Node:
    """The deepest node along `loc` (the key node of the last step when `key`)."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node = k if key and i == len(loc) - 1 else v
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _line(root: yaml.Node, loc: Loc, *, key: bool = False) -> int:
    return _node_at(root, loc, key=key).start_mark.line + 1


_MISSING_FIX: dict[str, str] = {
    "name": "add name: <team name>, e.g. name: payments",
    "channel": "add channel: 'C0123ABCD' (the channel id) or channel: '#payments' (quoted)",
    "project": "add project: <GCP project id>",
}

_EXPECTED: dict[str, str] = {
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list (lines starting with '- ')",
    "tuple_type": "a list (lines starting with '- ')",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "literal_error": "one of {expected}",
}


def _to_problem(err: Mapping[str, Any], root: yaml.Node, teams: list[str]) -> Problem | None:
    loc: Loc = tuple(err["loc"])
    kind: str = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    path = _path(loc)
    if kind == _ERR:
        return Problem(_line(root, loc), path, ctx["message"], ctx["fix"])
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _MODELS.get(tuple(p for p in loc[:-1] if isinstance(p, str)))
        valid = _keys_of(model) if model else []
        hint = _did_you_mean(key, valid) if valid else ""
        fix = f"{hint}valid keys here: {', '.join(valid)}" if valid else "remove it"
        return Problem(_line(root, loc, key=True), path, f"unknown key {key!r}", fix)
    if kind == "missing":
        key = str(loc[-1])
        if key == "default_route":
            names = ", ".join(teams) or "<team>"
            fix = (
                f"add at the top level: default_route: {{team: {teams[0] if teams else 'sre'}}} "
                f"(one of: {names}); it receives every error no route matches"
            )
        elif key == "team":
            fix = f"add team: <name> naming one of: {', '.join(teams) or '(no teams defined)'}"
        elif key == "teams":
            fix = "add a teams: list with at least one team (name, channel, oncall)"
        else:
            fix = _MISSING_FIX.get(key, f"add {key}:")
        return Problem(_line(root, loc[:-1]), path, f"missing required key {key!r}", fix)
    if kind == "too_short":
        given = err.get("input")
        if isinstance(given, list | tuple) and len(given) >= int(ctx.get("min_length", 1)):
            return None  # pydantic also counts the items that failed: those are reported already
        what = "team (name, channel, oncall)" if loc == ("teams",) else "entry"
        return Problem(_line(root, loc), path, "must not be empty", f"add at least one {what}")
    if kind == "string_too_short":
        return Problem(_line(root, loc), path, "must not be empty", "give it a value")
    if kind in _EXPECTED:
        expected = _EXPECTED[kind].format(expected=ctx.get("expected", ""))
        got = _yaml_kind(err.get("input"))
        fix = f"write {expected} here"
        if kind == "literal_error":
            fix = f"{_did_you_mean(str(err.get('input')), _literal_options(ctx))}use {expected}"
        elif err.get("input") is None:
            fix += ", or remove the key"
        return Problem(_line(root, loc), path, f"expected {expected}, got {got}", fix)
    if kind == "value_error":  # a ValueError from a model of another module (fingerprint rules)
        text = str(err["msg"]).removeprefix("Value error, ")
        message, _, fix = text.partition("; ")
        return Problem(_line(root, loc), path, message, fix or _generic_fix(loc))
    return Problem(_line(root, loc), path, str(err["msg"]), _generic_fix(loc))


def _generic_fix(loc: Loc) -> str:
    if loc and loc[0] == "fingerprint_rules":
        return "see the keys documented in bot/fingerprint/rules.py"
    return "see triage.example.yml for the form"


def _literal_options(ctx: Mapping[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def _duplicate_keys(node: yaml.Node, loc: Loc = ()) -> Iterator[Problem]:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                line = k.start_mark.line + 1
                if k.value in first:
                    yield Problem(
                        line,
                        _path((*loc, k.value)),
                        f"duplicate key {k.value!r} (first at line {first[k.value]})",
                        "remove one of them: YAML silently keeps only the last",
                    )
                first.setdefault(k.value, line)
                yield from _duplicate_keys(v, (*loc, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i))


def _yaml_fix(problem: str) -> str:
    p = problem.lower()
    if "'@'" in p or "'`'" in p:
        return "a value starting with @ or ` must be quoted, e.g. oncall: '@sre-oncall'"
    if "undefined alias" in p or "alias" in p:
        return "a value starting with * is read as a YAML alias: quote it, e.g. service: '*-api'"
    if "'\\t'" in p or "tab" in p:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in p:
        return "quote a value that contains ': ', or check the indentation of this line"
    return "fix the YAML syntax here: check indentation, and quote values with : # @ * or `"


def _parse(text: str, base_dir: str = ".") -> tuple[Config | None, list[Problem]]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = f"YAML syntax error: {exc.problem or exc.context}"
        return None, [Problem(line, "", message, _yaml_fix(str(exc.problem)))]
    except yaml.YAMLError as exc:
        return None, [Problem(0, "", f"YAML error: {exc}", _yaml_fix(str(exc)))]
    finally:
        loader.dispose()
    if root is None or data is None:
        return None, [
            Problem(1, "", "the file is empty", "start from triage.example.yml at the repo root")
        ]
    if not isinstance(data, dict):
        return None, [
            Problem(
                root.start_mark.line + 1,
                "",
                f"expected a mapping of sections at the top level, got {_yaml_kind(data)}",
                "the file holds keys: " + ", ".join(_keys_of(Config)),
            )
        ]
    problems = list(_duplicate_keys(root))
    raw_teams = data.get("teams")
    teams: list[str] = []
    if isinstance(raw_teams, list):
        teams = [
            t["name"] for t in raw_teams if isinstance(t, dict) and isinstance(t.get("name"), str)
        ]
    context: dict[str, Any] = {"seen_teams": {}, "base_dir": base_dir}
    if isinstance(raw_teams, list):
        context["teams"] = list(dict.fromkeys(teams))
    config: Config | None = None
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [
            p for e in exc.errors() if (p := _to_problem(e, root, list(context.get("teams", []))))
        ]
    problems.sort(key=lambda p: p.line)
    return (config if not problems else None), problems


def parse_config(text: str, file: str = "<config>") -> Config:
    """Validate YAML text; raises ConfigError listing every problem."""
    config, problems = _parse(text, _base_dir(file))
    if config is None:
        raise ConfigError(problems, file)
    config._version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return config


def _base_dir(file: str) -> str:
    """Where relative paths in a config file (codeowners_file) start: the file's directory."""
    return os.path.dirname(os.path.abspath(file)) if not file.startswith("<") else "."


def _read(path: str | os.PathLike[str]) -> tuple[str | None, list[Problem]]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [
            Problem(
                0,
                "",
                f"cannot read the file: {reason}",
                "check the path (the FILE argument or TRIAGE_CONFIG) and that it is UTF-8 text",
            )
        ]


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the config file; raises ConfigError listing every problem."""
    text, problems = _read(path)
    if text is None:
        raise ConfigError(problems, os.fspath(path))
    return parse_config(text, os.fspath(path))


def check_config(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of the config file, sorted by line; [] when it is valid."""
    text, problems = _read(path)
    if text is None:
        return problems
    return _parse(text, _base_dir(os.fspath(path)))[1]


# --- triage-bot check-config --------------------------------------------------------------------


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
    text, problems = _read(file)
    config = None
    if text is not None:
        config, problems = _parse(text, _base_dir(file))
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
    for r in config.in_app:
        where = r.service.raw if r.service is not None else "every service"
        out(f"  in_app {where}: include {list(r.include)} exclude {list(r.exclude)}")
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
