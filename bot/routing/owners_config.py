"""The `owners:` section of the routing config: code ownership rules and a CODEOWNERS file.

```yaml
owners:
  rules:                       # tried first, in order; the first match wins (as routes)
    - path: /services/payments/      # CODEOWNERS syntax
      team: payments
    - package: com.acme.billing      # a JVM package and its sub-packages
      team: billing
    - go: github.com/acme/mono/search/...   # a Go package pattern
      team: search
  codeowners_file: CODEOWNERS  # optional, relative to the config file; its LAST match wins
  codeowners_teams:            # optional: CODEOWNERS owner -> config team
    "@acme/payments-devs": payments
```
A route with `owner: code` sends to the team owning the culprit frame (bot.routing.owners).
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from bot.routing.owners import (
    OwnerRule,
    OwnerTable,
    PatternError,
    codeowners_rules,
    parse_codeowners,
    rule,
)

_STRICT = ConfigDict(extra="forbid", frozen=True)
_KINDS = ("path", "package", "go")


def _fail(message: str, fix: str) -> Any:
    # the config module's error type (imported here: it imports this module)
    from bot.routing.config.fields import fail

    fail(message, fix)


def _teams(info: ValidationInfo) -> list[str] | None:
    ctx = info.context
    teams = ctx.get("teams") if isinstance(ctx, dict) else None
    return list(teams) if teams is not None else None


class OwnerRuleConfig(BaseModel):
    """One rule: exactly one of path / package / go, and the owning team."""

    model_config = _STRICT

    team: str
    path: str | None = None
    package: str | None = None
    go: str | None = None

    @model_validator(mode="after")
    def _one_kind(self, info: ValidationInfo) -> OwnerRuleConfig:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            _fail(
                f"an owner rule needs exactly one of path, package, go; got "
                f"{', '.join(given) or 'none'}",
                "e.g. {path: /services/payments/, team: payments} "
                "or {package: com.acme.billing, team: billing}",
            )
        kind = given[0]
        try:
            rule(kind, getattr(self, kind), self.team, "")  # type: ignore[arg-type]
        except PatternError as exc:
            _fail(str(exc), exc.fix)
        teams = _teams(info)
        if teams is not None and self.team not in teams:
            from bot.routing.config.fields import unknown_team_fix

            _fail(f"unknown team {self.team!r}", unknown_team_fix(self.team, teams))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _KINDS if getattr(self, k) is not None)

    @property
    def pattern(self) -> str:
        return str(getattr(self, self.kind))


class OwnersConfig(BaseModel):
    model_config = _STRICT

    rules: tuple[OwnerRuleConfig, ...] = ()
    codeowners_file: str | None = None
    codeowners_teams: dict[str, str] = Field(default_factory=dict)

    _table: OwnerTable = PrivateAttr(default_factory=OwnerTable)

    @model_validator(mode="after")
    def _compile(self, info: ValidationInfo) -> OwnersConfig:
        teams = _teams(info)
        ctx = info.context if isinstance(info.context, dict) else {}
        if teams is not None:
            for handle, team in self.codeowners_teams.items():
                if team not in teams:
                    from bot.routing.config.fields import unknown_team_fix

                    _fail(
                        f"codeowners_teams maps {handle} to unknown team {team!r}",
                        unknown_team_fix(team, teams),
                    )
        rules: list[OwnerRule] = [
            rule(r.kind, r.pattern, r.team, f"owners.rules[{i}]")  # type: ignore[arg-type]
            for i, r in enumerate(self.rules)
        ]
        if self.codeowners_file is not None:
            rules += self._file_rules(str(ctx.get("base_dir", ".")), teams)
        if not rules:
            _fail(
                "owners has no rules and no codeowners_file",
                "add rules: [{path: /services/payments/, team: payments}] or "
                "codeowners_file: CODEOWNERS",
            )
        self._table = OwnerTable(tuple(rules))
        return self

    def _file_rules(self, base_dir: str, teams: list[str] | None) -> list[OwnerRule]:
        name = self.codeowners_file or ""
        path = name if os.path.isabs(name) else os.path.join(base_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _fail(
                f"cannot read CODEOWNERS file {path}: {reason}",
                "give the path relative to this config file (e.g. .github/CODEOWNERS) "
                "and check it is UTF-8 text",
            )
        lines, problems = parse_codeowners(text)
        known = teams if teams is not None else list(set(self.codeowners_teams.values()))
        rules, more = codeowners_rules(lines, known, self.codeowners_teams, name)
        problems += more
        if problems:
            shown = "; ".join(f"{name}:{p.line}: {p.message} ({p.fix})" for p in problems[:5])
            extra = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
            _fail(f"{shown}{extra}", "fix those CODEOWNERS lines or map their owners to teams")
        return rules

    @property
    def table(self) -> OwnerTable:
        return self._table
