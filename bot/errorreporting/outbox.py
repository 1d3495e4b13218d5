"""All Redis access of the Error Reporting sync: the push outbox, the links and the API budget.

Every state change is one Lua script (lua/*.lua) with its keys in KEYS, all under one hash tag;
`now` and TTLs come from the caller. Python gets typed results back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bot.store.keys import Keys
from bot.store.scripts import Scripts

_LUA = Path(__file__).parent / "lua"
CALLS_TTL_S = 120  # a per-minute counter outlives its minute by a little


@dataclass(frozen=True, slots=True)
class Ttls:
    job_s: int = 2 * 86400  # a pending push (longer than the sync gives up after)
    link_s: int = 30 * 86400  # a link, after the bot's last enqueue/link for the group


@dataclass(frozen=True, slots=True)
class Job:
    """A push this replica holds the lease on."""

    gid: str
    seq: str
    error_group_id: str
    status: str
    attempts: int  # failed attempts so far
    first_at: float  # when this status was queued


@dataclass(frozen=True, slots=True)
class Finished:
    result: str  # done | retry | dropped | superseded | gone
    attempts: int  # attempts made for this status, this one included (0 if not known)


@dataclass(frozen=True, slots=True)
class Link:
    gid: str
    error_group_id: str
    known: str  # the Error Reporting status last known to match ("" if never known)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _scores(rows: Any) -> dict[str, float]:
    return {_s(member): float(score) for member, score in rows}


def minute_of(now: float) -> int:
    return int(now // 60)


class ErsStore:
    def __init__(self, client: redis.Redis, prefix: str = "tb", ttls: Ttls | None = None) -> None:
        self.r = client
        self.keys = Keys(prefix)
        self.ttls = ttls or Ttls()
        self.scripts = Scripts(client, _LUA)

    def _call(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return self.scripts.call(name, keys, args)

    # ---- links ------------------------------------------------------------------------------

    def link(self, gid: str, error_group_id: str, known: str, *, check_at: float = 0.0) -> None:
        """Link a group to its Error Reporting group (kept if already linked to it) and keep the
        link alive; `known` is the status Error Reporting is assumed to have if nothing is
        known yet. The group is checked once `check_at` is older than the check interval."""
        k = self.keys
        pipe = self.r.pipeline(transaction=True)
        pipe.hget(k.ers_link(gid), "eg")
        pipe.hsetnx(k.ers_link(gid), "known", known)
        pipe.hset(k.ers_link(gid), "eg", error_group_id)
        pipe.expire(k.ers_link(gid), self.ttls.link_s)
        pipe.zadd(k.ers_linked(), {gid: check_at}, nx=True)
        pipe.expire(k.ers_linked(), self.ttls.link_s)
        old = pipe.execute()[0]
        if old is not None and _s(old) != error_group_id:  # relinked: what was known is moot
            self.r.hset(k.ers_link(gid), "known", known)

    def load_links(self, gids: Sequence[str]) -> list[Link | None]:
        pipe = self.r.pipeline(transaction=False)
        for gid in gids:
            pipe.hmget(self.keys.ers_link(gid), "eg", "known")
        out: list[Link | None] = []
        for gid, (eg, known) in zip(gids, pipe.execute(), strict=True):
            out.append(
                None if eg is None else Link(gid, _s(eg), "" if known is None else _s(known))
            )
        return out

    def unlink(self, gids: Sequence[str]) -> None:
        if not gids:
            return
        pipe = self.r.pipeline(transaction=False)
        pipe.zrem(self.keys.ers_linked(), *gids)
        for gid in gids:
            pipe.delete(self.keys.ers_link(gid))
        pipe.execute()

    def linked(self) -> dict[str, float]:
        """gid -> last checked; for tests and diagnostics."""
        return _scores(self.r.zrange(self.keys.ers_linked(), 0, -1, withscores=True))

    # ---- push outbox ------------------------------------------------------------------------

    def enqueue(self, gid: str, error_group_id: str, status: str, now: float) -> str:
        """Queue a push; returns 'queued' or 'in_sync' (nothing to push). One round trip."""
        k = self.keys
        return _s(
            self._call(
                "enqueue",
                [k.ers_outbox(), k.ers_job(gid), k.ers_linked(), k.ers_link(gid)],
                [gid, error_group_id, status, now, self.ttls.job_s, self.ttls.link_s],
            )
        )

    def due(self, now: float, limit: int) -> list[str]:
        raw = self.r.zrangebyscore(self.keys.ers_outbox(), "-inf", now, start=0, num=limit)
        return [_s(m) for m in raw]

    def lease(self, gids: Sequence[str], now: float, lease_until: float, calls: int) -> list[Job]:
        """Take the lease on those of `gids` still due; one round trip."""
        if not gids:
            return []
        k = self.keys
        replies = self.scripts.run(
            [
                (
                    "lease",
                    [k.ers_outbox(), k.ers_job(gid), k.ers_calls(minute_of(now))],
                    [gid, now, lease_until, calls, CALLS_TTL_S],
                )
                for gid in gids
            ]
        )
        jobs = []
        for gid, res in zip(gids, replies, strict=True):
            if res:
                seq, eg, status, attempts, first_at = (_s(x) for x in res)
                jobs.append(Job(gid, seq, eg, status, int(attempts), float(first_at)))
        return jobs

    def finish(
        self,
        job: Job,
        outcome: str,
        now: float,
        *,
        next_at: float = 0.0,
        error: str = "",
    ) -> Finished:
        k = self.keys
        res = self._call(
            "finish",
            [k.ers_outbox(), k.ers_job(job.gid), k.ers_link(job.gid)],
            [job.gid, job.seq, outcome, now, next_at, error, job.status, self.ttls.link_s],
        )
        return Finished(_s(res[0]), int(res[1]))

    def pending(self) -> dict[str, float]:
        """gid -> due (or lease end) of every queued push; for tests and diagnostics."""
        return _scores(self.r.zrange(self.keys.ers_outbox(), 0, -1, withscores=True))

    def job_fields(self, gid: str) -> dict[str, str]:
        return {_s(a): _s(b) for a, b in self.r.hgetall(self.keys.ers_job(gid)).items()}

    # ---- pull -------------------------------------------------------------------------------

    def claim_pull(
        self, now: float, checked_before: float, want: int, per_minute: int
    ) -> list[str]:
        if want <= 0:
            return []
        k = self.keys
        res = self._call(
            "claim_pull",
            [k.ers_linked(), k.ers_calls(minute_of(now))],
            [now, checked_before, want, per_minute, CALLS_TTL_S],
        )
        return [_s(m) for m in res]

    def pulled(self, gid: str, error_group_id: str, status: str, now: float, read_at: float) -> str:
        """Record a status read (sent at `read_at`); 'changed' means the bot should apply it."""
        k = self.keys
        args = [error_group_id, status, now, read_at]
        return _s(self._call("pulled", [k.ers_job(gid), k.ers_link(gid)], args))

    def calls_in_minute(self, now: float) -> int:
        v = self.r.get(self.keys.ers_calls(minute_of(now)))
        return 0 if v is None else int(v)
