"""The routing config's models: defaults, teams, routes and the default route, compiled into
the :class:`~bot.routing.match.RouteTable` that ``match.route`` evaluates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.fingerprint import DEFAULT_STRATEGY, STRATEGIES
from bot.fingerprint.inapp import NO_RULES, InAppRules
from bot.fingerprint.rules import FingerprintRule
from bot.models import Destination, ErrorEvent, Timings
from bot.oncall.config import RotationConfig
from bot.oncall.rotation import Rotation
from bot.routing.config.fields import (
    ChannelRef,
    Duration,
    Locale,
    Matcher,
    Oncall,
    PositiveInt,
    Regex,
    RegexMatcher,
    Severity,
    TeamName,
    Timezone,
    did_you_mean,
    fail,
    unknown_team_fix,
    yaml_kind,
)
from bot.routing.match import (
    DEFAULT_ROUTE_INDEX,
    SEVERITIES,
    CompiledMatch,
    CompiledRoute,
    OwnerRouting,
    RouteTable,
    route_explained,
)
from bot.routing.owners import CodeLocation, code_location
from bot.routing.owners_config import OwnersConfig
from bot.snoozes import GroupLifecycle

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
    hint = did_you_mean(value, words) if isinstance(value, str) else ""
    fail(
        f"expected a mapping such as {{strategy: {DEFAULT_STRATEGY}}} or one of "
        f"{', '.join(words)}, "
        f"got {yaml_kind(value)}",
        f"{hint}write e.g. grouping: {{strategy: {DEFAULT_STRATEGY}}}",
    )


def _strategy(value: Any) -> str:
    if isinstance(value, str) and value in STRATEGIES:
        return value
    hint = did_you_mean(str(value), list(STRATEGIES))
    fail(
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
                fail(
                    f"expected a module prefix or path part, got {yaml_kind(item)}",
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
            fail(
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
    digest_threshold: PositiveInt = 10
    grouping: Annotated[Grouping, BeforeValidator(_grouping)] = Field(default_factory=Grouping)
    auto_resolve_after: Duration = 0.0  # resolve a group with no event for this long (0: never)
    ack_timeout: Duration = 0.0  # remind the acknowledger of a still-firing group (0: never)


class Team(BaseModel):
    model_config = _STRICT

    name: TeamName
    channel: ChannelRef
    oncall: Oncall = ()
    escalate_after: Duration | None = None
    repeat_interval: Duration | None = None
    locale: Locale | None = None
    timezone: Timezone | None = None
    rotation: RotationConfig | None = None  # who is on call (bot.oncall)
    auto_resolve_after: Duration | None = None
    ack_timeout: Duration | None = None

    @field_validator("name")
    @classmethod
    def _unique(cls, v: str, info: ValidationInfo) -> str:
        ctx = info.context
        if isinstance(ctx, dict) and "seen_teams" in ctx:
            seen: dict[str, None] = ctx["seen_teams"]
            if v in seen:
                fail(
                    f"team {v!r} is defined twice",
                    "team names must be unique: rename one, or merge the two entries",
                )
            seen[v] = None
        return v


def _check_team_ref(value: str, info: ValidationInfo) -> str:
    ctx = info.context
    teams = ctx.get("teams") if isinstance(ctx, dict) else None
    if teams is not None and value not in teams:
        fail(f"unknown team {value!r}", unknown_team_fix(value, teams))
    return value


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
            fail(
                f"{info.field_name} is empty",
                "give it a value, or remove the key (an empty value would match every event); "
                "quote values starting with * or @",
            )
        return v

    @model_validator(mode="after")
    def _one_service(self) -> Match:
        if self.service is not None and self.service_regex is not None:
            fail(
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


TeamRef = TeamName


class Route(BaseModel):
    model_config = _STRICT

    team: TeamRef
    match: Match = Field(default_factory=Match)
    continue_: bool = Field(default=False, alias="continue")
    owner: Literal["code"] | None = None  # the team owning the culprit's code (owners:) instead
    escalate_after: Duration | None = None
    repeat_interval: Duration | None = None
    auto_resolve_after: Duration | None = None

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
    auto_resolve_after: Duration | None = None

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
    _in_app_cache: dict[str, InAppRules] = PrivateAttr(default_factory=dict)
    _version: str = PrivateAttr(default="")

    def _locate(self, event: ErrorEvent) -> CodeLocation | None:
        """The culprit's code as this config's grouping strategy sees it (fp2: with the
        service's in-app rules), for `owner: code` routes."""
        from bot.fingerprint.fp2 import stacktrace as fp2

        if (self.defaults.grouping.strategy or DEFAULT_STRATEGY) != "fp2":
            return code_location(event)
        cfg = fp2.config_of(self.in_app_for(event.service))
        return code_location(event, lambda text: fp2.parse_stacktrace(text, cfg))

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
                problems.append(unknown_team_fix(r.team, names))
        if problems:
            fail("; ".join(problems), "fix the team names")
        if self.owners is None and any(r.owner for r in self.routes):
            fail(
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
                self._locate,
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
            rotation=team.rotation is not None,
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

    def lifecycle(self, event: ErrorEvent) -> GroupLifecycle:
        """auto_resolve_after and ack_timeout of the event's first destination: its route's,
        else its team's, else the defaults (bot.snoozes)."""
        first = route_explained(self.table, event)[0]
        r: Route | DefaultRoute = (
            self.routes[first.route_index] if first.route_index >= 0 else self.default_route
        )
        team = self.team(first.destination.team)
        d = self.defaults
        ar = next(
            v
            for v in (r.auto_resolve_after, team.auto_resolve_after, d.auto_resolve_after)
            if v is not None
        )
        at = team.ack_timeout if team.ack_timeout is not None else d.ack_timeout
        return GroupLifecycle(ar, at)

    def rotation(self, name: str) -> Rotation | None:
        """The team's on-call schedule, in its time zone (None: no rotation, or a user group)."""
        team = self.team(name)
        if team.rotation is None:
            return None
        return team.rotation.compile(team.timezone or self.defaults.timezone)
