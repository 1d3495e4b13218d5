"""Declared incidents in Redis: the incident hash, its timeline, and two indexes (channel ->
incident, group -> incident). Human-paced (a few writes per click), so plain MULTI blocks
rather than Lua; every key has a TTL, refreshed on each write, and every key comes from
bot.store.keys."""

from __future__ import annotations

from collections.abc import Sequence

import redis

from bot.incident.model import Event, Incident, Status
from bot.store.keys import Keys

INCIDENT_TTL_S = 90 * 86400  # an incident and its timeline stay 90 days after the last change
MAX_EVENTS = 2000  # timeline entries kept per incident


def _s(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


class IncidentStore:
    def __init__(self, client: redis.Redis, keys: Keys, ttl_s: int = INCIDENT_TTL_S) -> None:
        self.r, self.keys, self.ttl = client, keys, ttl_s

    def save(self, inc: Incident, events: Sequence[Event] = ()) -> None:
        """Write the incident (whole) and append `events`; the indexes follow (each key has a
        hash tag of its own, so they are separate commands: every write is idempotent)."""
        k = self.keys
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(k.incident(inc.id), mapping=inc.to_fields())
        pipe.expire(k.incident(inc.id), self.ttl)
        if events:
            pipe.rpush(k.incident_events(inc.id), *(e.to_json() for e in events))
            pipe.ltrim(k.incident_events(inc.id), -MAX_EVENTS, -1)
        pipe.expire(k.incident_events(inc.id), self.ttl)
        pipe.expire(k.incident_seen(inc.id), self.ttl)
        pipe.execute()
        side = self.r.pipeline(transaction=False)
        if inc.channel:
            side.set(k.incident_of_channel(inc.channel), inc.id, ex=self.ttl)
        for gid in inc.groups:
            side.set(k.incident_of_group(gid), inc.id, ex=self.ttl)
        if inc.status is Status.RESOLVED:
            side.zrem(k.incidents_open(), inc.id)
        else:
            side.zadd(k.incidents_open(), {inc.id: inc.declared_at})
        side.expire(k.incidents_open(), self.ttl)
        side.execute()

    def add_events(self, iid: str, events: Sequence[Event]) -> None:
        if not events:
            return
        key = self.keys.incident_events(iid)
        pipe = self.r.pipeline(transaction=True)
        pipe.rpush(key, *(e.to_json() for e in events))
        pipe.ltrim(key, -MAX_EVENTS, -1)
        pipe.expire(key, self.ttl)
        pipe.execute()

    def load(self, iid: str) -> Incident | None:
        raw = self.r.hgetall(self.keys.incident(iid))
        if not raw:
            return None
        return Incident.from_fields({_s(a): _s(b) for a, b in raw.items()})

    def events(self, iid: str) -> list[Event]:
        out = []
        for raw in self.r.lrange(self.keys.incident_events(iid), 0, -1):
            e = Event.from_json(raw)
            if e is not None:
                out.append(e)
        return out

    def by_channel(self, channel: str) -> Incident | None:
        iid = self.r.get(self.keys.incident_of_channel(channel))
        return self.load(_s(iid)) if iid else None

    def of_group(self, gid: str) -> str | None:
        iid = self.r.get(self.keys.incident_of_group(gid))
        return _s(iid) if iid else None

    def open_ids(self, limit: int = 100) -> list[str]:
        return [_s(m) for m in self.r.zrange(self.keys.incidents_open(), 0, limit - 1)]

    def seen(self, iid: str) -> dict[str, str]:
        return {_s(a): _s(b) for a, b in self.r.hgetall(self.keys.incident_seen(iid)).items()}

    def set_seen(self, iid: str, marks: dict[str, str]) -> None:
        if not marks:
            return
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.keys.incident_seen(iid), mapping=marks)
        pipe.expire(self.keys.incident_seen(iid), self.ttl)
        pipe.execute()
