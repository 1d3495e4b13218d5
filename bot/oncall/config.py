"""The `rotation:` of a team in the routing config (bot.oncall.rotation computes from it).

```yaml
teams:
  - name: payments
    channel: "#payments"
    oncall: "@payments-oncall"    # the fallback, mentioned after the person on call
    rotation:
      members: [U01ALICE, U02BOB]  # Slack user ids, in order
      handoff: mon 09:00          # weekday and time of the handoff (or a time: daily rotations)
      length: 1w                  # shift length (default 1w; 1d for daily, or any duration)
      start: 2026-12-07           # members[0]'s first shift starts at the first handoff from here
      timezone: Europe/Berlin     # default: the team's timezone
  - name: search
    channel: "#search"
    rotation:
      usergroup: S0123ABCD        # who is in this Slack user group is on call (usergroups.users.list)
```
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from bot import slack_ids
from bot.oncall.rotation import WEEK_S, Rotation, parse_handoff

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _fail(message: str, fix: str) -> Any:
    from bot.routing.config.fields import fail  # the config package imports this module

    fail(message, fix)


class RotationConfig(BaseModel):
    model_config = _STRICT

    members: tuple[str, ...] = ()
    usergroup: str | None = None
    handoff: str = "mon 09:00"
    length: float = WEEK_S
    start: dt.date | None = None
    timezone: str | None = None

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, v: Any) -> Any:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list | tuple) or not items:
            _fail("members must be a list of Slack user ids", "e.g. members: [U01ALICE, U02BOB]")
        for m in items:
            if not slack_ids.is_user(m):
                _fail(
                    f"{m!r} is not a Slack user id",
                    "use the member ids (profile > ⋮ > Copy member ID), e.g. U0123ABCD",
                )
        return tuple(items)

    @field_validator("usergroup", mode="before")
    @classmethod
    def _usergroup(cls, v: Any) -> Any:
        if isinstance(v, str) and v.startswith("<!subteam^"):
            v = v.removeprefix("<!subteam^").split("|")[0].rstrip(">")
        if not slack_ids.is_usergroup(v):
            _fail(
                f"{v!r} is not a Slack user group id",
                "use the group's id S0123ABCD (its mention is <!subteam^S0123ABCD>)",
            )
        return v

    @field_validator("handoff", mode="before")
    @classmethod
    def _handoff(cls, v: Any) -> Any:
        try:
            parse_handoff(str(v))
        except ValueError as exc:
            _fail(str(exc), "write a weekday and 24 h time such as 'mon 09:00' or just '09:00'")
        return str(v)

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, v: Any) -> Any:
        from bot.routing.config.fields import check_duration

        seconds = check_duration(v)
        if seconds <= 0:
            _fail("length must be more than 0", "e.g. length: 1w")
        return seconds

    @field_validator("timezone", mode="before")
    @classmethod
    def _tz(cls, v: Any) -> Any:
        from bot.routing.config.fields import check_timezone

        return check_timezone(v)

    @model_validator(mode="after")
    def _one_source(self) -> RotationConfig:
        if bool(self.members) == bool(self.usergroup):
            _fail(
                "a rotation needs members (a schedule) or usergroup (its members are on call), "
                "not both"
                if self.members
                else "a rotation needs members or usergroup",
                "e.g. members: [U01ALICE, U02BOB] with handoff: 'mon 09:00', "
                "or usergroup: S0123ABCD",
            )
        return self

    def compile(self, team_timezone: str) -> Rotation | None:
        """The schedule (None for a user group: Slack knows who is in it)."""
        if not self.members:
            return None
        day, at = parse_handoff(self.handoff)
        kw: dict[str, Any] = {}
        if self.start is not None:
            kw["start"] = self.start
        return Rotation(
            self.members,
            timezone=self.timezone or team_timezone,
            weekday=day,
            at=at,
            length_s=self.length,
            **kw,
        )
