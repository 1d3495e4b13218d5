"""Which teams an error goes to: the route table of a validated Config, applied to one event.

Pure and cheap: every matcher is compiled once, when the config is validated, and each
Config carries its routes already resolved to Destinations (bot.models; team values merged over
the defaults, route overrides merged over the team). `route()` only evaluates predicates.

Semantics follow Alertmanager: routes are tried in order, the first match wins; a matching
route with `continue: true` lets later routes match too (fan-out); when nothing matched, the
default route receives the event. Destinations are de-duplicated by channel, first one kept.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from bot.models import Destination, ErrorEvent

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


@dataclass(frozen=True, slots=True)
class RouteTable:
    routes: tuple[CompiledRoute, ...]
    default: Destination


def route(config: Config, event: ErrorEvent) -> list[Destination]:
    """The destinations of one event, in route order, at most one per channel."""
    return route_table(config.table, event)


def route_table(table: RouteTable, event: ErrorEvent) -> list[Destination]:
    out: list[Destination] = []
    seen: set[str] = set()
    for r in table.routes:
        if not r.match.matches(event):
            continue
        if r.destination.channel not in seen:
            seen.add(r.destination.channel)
            out.append(r.destination)
        if not r.cont:
            break
    if not out:
        out.append(table.default)
    return out
