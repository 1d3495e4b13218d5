"""Who is on call, for the notifier and `/triage oncall`: the config's rotation, the overrides
in Redis, a Slack user group's members (cached), at an injected time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.oncall.rotation import NowNext, Override, now_and_next, on_call
from bot.routing.config import Config
from bot.store.oncall import OverrideStore

log = logging.getLogger(__name__)

USERGROUP_CACHE_S = 60.0  # a user group's members are read from Slack at most once a minute


@dataclass(frozen=True, slots=True)
class TeamOnCall:
    team: str
    schedule: NowNext
    fallback: tuple[str, ...]  # the team's configured `oncall` handles
    has_rotation: bool


class OnCall:
    def __init__(
        self,
        store: OverrideStore,
        config: Callable[[], Config | None],
        usergroup_members: Callable[[str], list[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.config, self.clock = store, config, clock
        self._members = usergroup_members
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def usergroup(self, group: str, now: float) -> list[str]:
        if self._members is None:
            return []
        with self._lock:
            hit = self._cache.get(group)
            if hit is not None and now - hit[0] < USERGROUP_CACHE_S:
                return hit[1]
        try:
            members = list(self._members(group))
        except Exception as exc:  # Slack down: the last known members, else nobody
            log.warning("usergroups.users.list %s failed: %s", group, exc)
            return hit[1] if hit is not None else []
        with self._lock:
            self._cache[group] = (now, members)
        return members

    def team(self, name: str, now: float | None = None) -> TeamOnCall | None:
        cfg = self.config()
        if cfg is None or name not in {t.name for t in cfg.teams}:
            return None
        now = self.clock() if now is None else now
        team = cfg.team(name)
        rot = cfg.rotation(name)
        group = team.rotation.usergroup if team.rotation is not None else None
        members = self.usergroup(group, now) if group else []
        overrides = self.store.active(name, now)
        return TeamOnCall(
            name, now_and_next(now, rot, overrides, members), team.oncall, team.rotation is not None
        )

    def current(self, name: str, now: float) -> tuple[str, ...]:
        """User ids on call now for the team (() when it has no rotation, override or group)."""
        cfg = self.config()
        if cfg is None or name not in {t.name for t in cfg.teams}:
            return ()
        team = cfg.team(name)
        group = team.rotation.usergroup if team.rotation is not None else None
        members = self.usergroup(group, now) if group else []
        return on_call(now, cfg.rotation(name), self.store.active(name, now), members).users

    def take(self, name: str, user: str, until: float, now: float) -> Override:
        o = Override(user, now, until, by=user)
        self.store.add(name, o, now)
        return o
