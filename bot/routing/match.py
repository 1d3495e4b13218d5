"""Which teams an error goes to: the route table of a validated Config, applied to one event.

Pure and cheap: every matcher is compiled once, when the config is validated, and each
Config carries its routes already resolved to Destinations (team values merged over the
defaults, route overrides merged over the team). `route()` only evaluates predicates.

Semantics follow Alertmanager: routes are tried in order, the first match wins; a matching
route with `continue: true` lets later routes match too (fan-out); when nothing matched, the
default route receives the event. Destinations are de-duplicated by channel, first one kept.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from bot.models import Destination, ErrorEvent
from bot.routing.owners import CodeLocation, OwnerMatch, OwnerTable, code_location

if TYPE_CHECKING:
    from bot.routing.config import Config

# Cloud Logging LogSeverity, in order, with its numeric values.
SEVERITIES: dict[str, int] = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}

# route_index of a Destination that came from `default_route`.
DEFAULT_ROUTE_INDEX = -1

_GLOB_CHARS = frozenset("*?[")


def severity_rank(severity: str) -> int:
    """Numeric rank of a severity name (or of its numeric form); unknown values rank DEFAULT."""
    rank = SEVERITIES.get(severity.upper())
    if rank is not None:
        return rank
    return int(severity) if severity.isdigit() else 0


@dataclass(frozen=True, slots=True)
class StrMatcher:
    """One string condition as written in the config: exact text, a glob, or a regex.

    `/.../` (or a `*_regex` key) is a regex, searched anywhere in the value: anchor it with
    `^...$` to match the whole value. Text with `*`, `?` or `[` is a glob over the whole value.
    Anything else must be equal.
    """

    raw: str
    kind: Literal["exact", "glob", "regex"]
    regex: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        if self.regex is None:
            return value == self.raw
        if self.kind == "glob":
            return self.regex.match(value) is not None
        return self.regex.search(value) is not None


def is_slash_regex(text: str) -> bool:
    return len(text) >= 2 and text[0] == "/" and text[-1] == "/"


def compile_matcher(text: str, *, regex: bool = False) -> StrMatcher:
    """Compile a condition; raises re.error for a bad regex (the config reports it)."""
    if regex or is_slash_regex(text):
        body = text[1:-1] if not regex else text
        return StrMatcher(text, "regex", re.compile(body))
    if _GLOB_CHARS.intersection(text):
        return StrMatcher(text, "glob", re.compile(fnmatch.translate(text)))
    return StrMatcher(text, "exact")


def _log_id(log_name: str) -> str:
    """`projects/p/logs/run.googleapis.com%2Fstderr` -> `run.googleapis.com/stderr`."""
    _, sep, tail = log_name.partition("/logs/")
    return unquote(tail) if sep else log_name


@dataclass(frozen=True, slots=True)
class CompiledMatch:
    """Every condition of one route's `match:`; all given conditions must hold (AND)."""

    service: StrMatcher | None = None
    resource_type: StrMatcher | None = None
    min_severity: int | None = None
    log_name: StrMatcher | None = None
    labels: tuple[tuple[str, StrMatcher], ...] = ()
    message: re.Pattern[str] | None = None

    def matches(self, event: ErrorEvent) -> bool:
        if self.service is not None and not self.service.matches(event.service):
            return False
        if self.resource_type is not None and not self.resource_type.matches(event.resource_type):
            return False
        if self.min_severity is not None and severity_rank(event.severity) < self.min_severity:
            return False
        if self.log_name is not None and not (
            self.log_name.matches(event.log_name) or self.log_name.matches(_log_id(event.log_name))
        ):
            return False
        if self.labels and not _labels_match(self.labels, event.labels):
            return False
        return self.message is None or self.message.search(event.message) is not None


def _labels_match(wanted: tuple[tuple[str, StrMatcher], ...], labels: Mapping[str, str]) -> bool:
    for key, matcher in wanted:
        value = labels.get(key)
        if value is None or not matcher.matches(value):
            return False
    return True


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    match: CompiledMatch
    destination: Destination
    cont: bool
    owner_code: bool = False  # `owner: code`: the culprit's owning team, else `destination`


@dataclass(frozen=True, slots=True)
class OwnerRouting:
    """`owners:` compiled: the rules, and each team's destination for `owner: code` routes."""

    table: OwnerTable
    teams: Mapping[str, Destination]
    locate: Callable[[ErrorEvent], CodeLocation | None] = code_location  # the culprit's code


@dataclass(frozen=True, slots=True)
class RouteTable:
    routes: tuple[CompiledRoute, ...]
    default: Destination
    owners: OwnerRouting | None = None


@dataclass(frozen=True, slots=True)
class Routed:
    """One destination and why: the route (index, or DEFAULT_ROUTE_INDEX) and, for an
    `owner: code` route, the owner rule that matched (None: no rule matched, so the route's
    own team)."""

    destination: Destination
    route_index: int
    owner: OwnerMatch | None = None
    location: CodeLocation | None = None

    def describe(self) -> str:
        where = (
            "default_route"
            if self.route_index == DEFAULT_ROUTE_INDEX
            else (f"routes[{self.route_index}]")
        )
        out = f"{where} -> {self.destination.team} ({self.destination.channel})"
        if self.owner is not None and self.owner.team is not None:
            out += f"; {self.owner.describe()}"
        elif self.owner is not None:
            out += f"; {self.owner.describe()}, so the route's team"
        elif self.route_index >= 0 and self.location is not None:
            out += f"; no owner rule matches {self.location.describe()}, so the route's team"
        return out


def route(config: Config, event: ErrorEvent) -> list[Destination]:
    """The destinations of one event, in route order, at most one per channel."""
    return route_table(config.table, event)


def route_table(table: RouteTable, event: ErrorEvent) -> list[Destination]:
    return [r.destination for r in route_explained(table, event)]


def route_explained(table: RouteTable, event: ErrorEvent) -> list[Routed]:
    """`route_table` with the reasons, for `triage-bot explain` and `/triage show`."""
    out: list[Routed] = []
    seen: set[str] = set()
    loc: CodeLocation | None = None
    located = False
    for i, r in enumerate(table.routes):
        if not r.match.matches(event):
            continue
        dest, owner = r.destination, None
        if r.owner_code and table.owners is not None:
            if not located:  # parsed once, and only when a route asks for the owner
                loc, located = table.owners.locate(event), True
            owner = table.owners.table.owner(loc)
            if owner is not None and owner.team is not None:
                dest = _with_route(table.owners.teams[owner.team], r.destination)
        if dest.channel not in seen:
            seen.add(dest.channel)
            out.append(Routed(dest, i, owner, loc if r.owner_code else None))
        if not r.cont:
            break
    if not out:
        out.append(Routed(table.default, DEFAULT_ROUTE_INDEX))
    return out


def _with_route(owner_team: Destination, route_dest: Destination) -> Destination:
    """The owning team's channel, on-call, language and timing, under the route's index."""
    return replace(owner_team, route_index=route_dest.route_index)
