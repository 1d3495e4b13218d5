"""Fingerprinting: ErrorEvent -> Fingerprint (versioned group id, title, hashed components).

Each grouping algorithm is a frozen strategy module keyed by its version, the prefix of every
group id it makes (`fp1-…`, `fp2-…`): a deployment's existing groups keep their ids as long as
its strategy stays the same, and a better algorithm is a new version, never an edit of an old
one. `er1` (Error Reporting's own grouping) is not a strategy of its own: it replaces the id
of an event that carries `errorGroups[].id` and falls back to the fingerprint strategy.

Which strategy runs comes from the routing config (`defaults: grouping: {strategy: fp2}`);
without one, `DEFAULT_STRATEGY`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.fingerprint import er1, fp1, fp2
from bot.fingerprint.fp1 import Explanation, FrameDecision, route_template
from bot.fingerprint.inapp import InAppRules
from bot.fingerprint.rules import FingerprintRule, load_rules
from bot.models import ErrorEvent, Fingerprint

Rules = Sequence[FingerprintRule]


@dataclass(frozen=True, slots=True)
class Strategy:
    """A grouping algorithm: `fingerprint` for the pipeline, `explain` for people."""

    version: str
    fingerprint: Callable[[ErrorEvent, Rules, InAppRules | None], Fingerprint]
    explain: Callable[[ErrorEvent, Rules, InAppRules | None], Explanation]
    summary: str


def _fp1_fingerprint(event: ErrorEvent, rules: Rules, in_app: InAppRules | None) -> Fingerprint:
    return fp1.fingerprint(event, rules)  # fp1 predates configurable in-app rules


def _fp1_explain(event: ErrorEvent, rules: Rules, in_app: InAppRules | None) -> Explanation:
    return fp1.explain(event, rules)


STRATEGIES: Mapping[str, Strategy] = {
    "fp1": Strategy(
        "fp1",
        _fp1_fingerprint,
        _fp1_explain,
        "type + top 3 in-app frames, built-in in-app defaults; the first version",
    ),
    "fp2": Strategy(
        "fp2",
        fp2.fingerprint,
        fp2.explain,
        "fp1 plus per-service in-app rules, generated and mangled names, versions in paths, "
        "console/JSON log encoders alike, message (not library frames) when nothing is in-app",
    ),
}
DEFAULT_STRATEGY = "fp2"


def strategy(version: str | None = None) -> Strategy:
    """The strategy of that version (the default when None). KeyError names the known ones."""
    name = version or DEFAULT_STRATEGY
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(
            f"unknown grouping strategy {name!r}; known: {', '.join(STRATEGIES)}"
        ) from None


def fingerprint(
    event: ErrorEvent,
    rules: Rules = (),
    in_app: InAppRules | None = None,
    version: str | None = None,
) -> Fingerprint:
    """The group of an event. Pure and deterministic; every replica computes the same id."""
    return strategy(version).fingerprint(event, rules, in_app)


def explain(
    event: ErrorEvent,
    rules: Rules = (),
    in_app: InAppRules | None = None,
    version: str | None = None,
) -> Explanation:
    """The fingerprint with the reasons: strategy, each frame's fate, notes."""
    return strategy(version).explain(event, rules, in_app)


__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "Explanation",
    "FingerprintRule",
    "FrameDecision",
    "InAppRules",
    "Strategy",
    "er1",
    "explain",
    "fingerprint",
    "load_rules",
    "route_template",
    "strategy",
]
