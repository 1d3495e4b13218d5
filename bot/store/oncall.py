"""On-call overrides taken from Slack (`/triage oncall take`), kept in Redis per team."""

from __future__ import annotations

import json

import redis

from bot.oncall.rotation import Override
from bot.store.keys import Keys

KEEP_AFTER_END_S = 86400.0  # an expired override stays a day (for `/triage oncall` history)


class OverrideStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = client, keys

    def add(self, team: str, o: Override, now: float) -> None:
        """One MULTI: store it, drop overrides ended a day ago, keep the key a day past its
        last end (every key has a TTL)."""
        key = self.keys.oncall_overrides(team)
        member = json.dumps({"user": o.user, "start": o.start, "end": o.end, "by": o.by})
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(key, {member: o.end})
        pipe.zremrangebyscore(key, "-inf", now - KEEP_AFTER_END_S)
        pipe.zrange(key, -1, -1, withscores=True)
        *_, last = pipe.execute()
        last_end = float(last[0][1]) if last else o.end
        self.r.expire(key, max(1, int(last_end - now + KEEP_AFTER_END_S)))

    def active(self, team: str, now: float) -> list[Override]:
        """Overrides that have not ended at `now` (some may start later)."""
        raw = self.r.zrangebyscore(self.keys.oncall_overrides(team), f"({now}", "+inf")
        out = []
        for item in raw:
            try:
                d = json.loads(item)  # type: ignore[arg-type]
                out.append(Override(str(d["user"]), float(d["start"]), float(d["end"]), d["by"]))
            except (ValueError, KeyError, TypeError):  # a foreign member: never fatal
                continue
        return out
