"""All Redis access. Lua scripts do every state change atomically; a batch is one round trip."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bot.models import ROUTE_INPUT_FIELD, ErrorEvent, Fingerprint, Group, Rejected
from bot.snoozes import GroupLifecycle, scopes_of
from bot.store.keys import NSHARDS, Keys, shard_of
from bot.store.scripts import Call, Scripts

DLQ_CAP = 10_000
# Redis itself cannot be reached: every caller's problem, never one group's (the notifier lets
# these through to its loop instead of counting them against the group it was handling).
UNREACHABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
SAMPLE_CHARS = 1500


@dataclass(frozen=True, slots=True)
class Retention:
    group_s: int = 90 * 86400  # group record, after last seen
    minutes_s: int = 2 * 3600  # per-minute counts (last hour's sparkline, spike detection)
    hours_s: int = 2 * 86400  # hourly rankings and tallies = per-hour counts (24 h sparkline)
    seen_s: int = 25 * 3600  # insertIds, for deduplication (kept 24 h + slack)
    # A group's TTL is set again at most this often (not on every batch): it may expire this
    # much before `group_s` after its last occurrence.
    refresh_s: int = 3600

    def minute_slots(self, spike: SpikePolicy | None) -> int:
        """Per-minute slots kept: the retention, and never fewer than spike detection reads."""
        need = spike.recent_min + spike.baseline_min if spike is not None else 0
        return max(self.minutes_s // 60, need, 60)


@dataclass(frozen=True, slots=True)
class SpikePolicy:
    """A spike: the last `recent_min` minutes' rate >= `factor` x the per-minute rate of the
    `baseline_min` minutes before, and >= `min_rate` per minute; for groups at least `min_age_s`
    old (a new group's first message is its own notice); one notice per `cooldown_s`."""

    factor: float = 5.0
    min_rate: float = 10.0
    recent_min: int = 5
    baseline_min: int = 60
    cooldown_s: float = 3600.0
    min_age_s: float = 15 * 60.0

    def payload(self) -> dict[str, float]:
        return {
            "factor": self.factor,
            "min_rate": self.min_rate,
            "recent": self.recent_min,
            "baseline": self.baseline_min,
            "cooldown": self.cooldown_s,
            "min_age": self.min_age_s,
        }


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    """Storm control for one channel: once more than `threshold` groups are due for their first
    message there within `window_s`, further new groups are listed in a digest message (at most
    `max_size` per digest) for as long as new groups keep coming (`window_s` after the last)."""

    threshold: int = 10
    window_s: float = 60.0
    max_size: int = 40


@dataclass(frozen=True, slots=True)
class Digest:
    channel: str
    n: int
    ref: str  # "CHANNEL/TS" once posted, else ""
    ver: int
    gids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupDelta:
    id: str
    new: bool
    regressed: bool
    added: int
    count: int
    state: str
    notify: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    deltas: tuple[GroupDelta, ...]
    duplicates: int
    dead_lettered: int

    @property
    def new_groups(self) -> list[str]:
        return [d.id for d in self.deltas if d.new]


@dataclass(frozen=True, slots=True)
class TransitionResult:
    status: str  # ok | noop | not_found | invalid
    state: str
    detail: str = ""


class RedisStore:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "tb",
        retention: Retention | None = None,
        spike: SpikePolicy | None = SpikePolicy(),
    ) -> None:
        self.r = client
        self.keys = Keys(prefix)
        self.retention = retention or Retention()
        self.spike = spike
        self.scripts = Scripts(client)

    def _run(self, calls: Sequence[Call], extra: Iterable[Any] = ()) -> list[Any]:
        """Run scripts (and extra pipeline commands) in one round trip (bot/store/scripts.py)."""
        return self.scripts.run(calls, extra)

    # ---- ingest -------------------------------------------------------------------------

    def record_batch(
        self,
        items: Sequence[tuple[ErrorEvent, Fingerprint]],
        rejected: Sequence[Rejected] = (),
        *,
        now: float,
        update_interval: float = 30.0,
        group_wait: float = 0.0,
        lifecycle: Callable[[ErrorEvent], GroupLifecycle] | None = None,
        routes: Mapping[str, Mapping[str, str]] | None = None,
    ) -> BatchResult:
        """Record a batch: dedup by insertId, create/update groups, schedule notifications,
        dead-letter the rejected. One round trip; raises on a Redis error (nothing acked).
        `lifecycle` gives a group's auto_resolve_after and ack_timeout (from its routes).
        `routes`: group id -> the routing decision's hash fields (bot.routing.router), stored
        on the group when its episode starts (new, or a regression)."""
        by_shard: dict[int, dict[str, list[tuple[ErrorEvent, Fingerprint]]]] = defaultdict(dict)
        for ev, fp in items:
            by_shard[shard_of(fp.id)].setdefault(fp.id, []).append((ev, fp))
        calls = [
            (
                "record_batch",
                *self._record_call(
                    shard, groups, now, update_interval, group_wait, lifecycle, routes
                ),
            )
            for shard, groups in by_shard.items()
        ]
        extra = []
        if rejected:
            extra.append(lambda p: self._queue_dead_letters(p, rejected, now))
        results = self._run(calls, extra)
        deltas: list[GroupDelta] = []
        dups = 0
        for res in results[: len(calls)]:
            dups += int(res[0])
            for i in range(1, len(res), 7):
                deltas.append(
                    GroupDelta(
                        id=_s(res[i]),
                        new=bool(int(res[i + 1])),
                        regressed=bool(int(res[i + 2])),
                        added=int(res[i + 3]),
                        count=int(res[i + 4]),
                        state=_s(res[i + 5]),
                        notify=bool(int(res[i + 6])),
                    )
                )
        return BatchResult(tuple(deltas), dups, len(rejected))

    def _record_call(
        self,
        shard: int,
        groups: dict[str, list[tuple[ErrorEvent, Fingerprint]]],
        now: float,
        update_interval: float,
        group_wait: float,
        lifecycle: Callable[[ErrorEvent], GroupLifecycle] | None = None,
        routes: Mapping[str, Mapping[str, str]] | None = None,
    ) -> tuple[list[str], list[str]]:
        """KEYS and ARGV of record_batch.lua for one shard: every key it touches, by index."""
        k, ret = self.keys, self.retention
        keys = _KeyList([k.due(shard), k.index(shard), k.search(shard), k.services(shard)])
        buckets = _Buckets(k, shard, keys, now, ret)
        payload_groups = []
        per_minute: dict[int, tuple[int, int, int, int]] = {}  # seen key, buckets
        for gid, evs in groups.items():
            ev0, fp0 = evs[-1]
            rows = []
            for ev, _ in evs:
                minute = int(ev.timestamp // 60)
                at = per_minute.get(minute)
                if at is None:
                    hour = minute // 60
                    at = per_minute[minute] = (
                        keys.add(k.seen(shard, minute)),
                        buckets.of(f"f{minute // 5}"),
                        buckets.of(f"h{hour}"),
                        buckets.of(f"d{hour // 24}"),
                    )
                rows.append(
                    [ev.insert_id, at[0], ev.timestamp, _sample(ev), ev.trace or "", *at[1:]]
                )
            pg: dict[str, Any] = {
                "id": gid,
                "gk": keys.add(k.group(gid)),
                "nk": keys.add(k.notices(gid)),
                "meta": _meta(ev0, fp0),
                "rev": _rev(ev0),
                "ev": rows,
                "kv": scopes_of(e for e, _ in evs),  # for scoped snoozes (bot.snoozes)
            }
            if lifecycle is not None:
                lc = lifecycle(ev0)
                pg["ar"], pg["at"] = lc.auto_resolve_after, lc.ack_timeout
            if routes and gid in routes:
                pg["route"] = routes[gid]
            payload_groups.append(pg)
        hour_tally, day_tally = f"h{int(now // 3600)}", f"d{int(now // 86400)}"
        payload: dict[str, Any] = {
            "now": now,
            "update_interval": update_interval,
            "group_wait": group_wait,
            "ttl": {"group": ret.group_s, "refresh": ret.refresh_s, "seen": ret.seen_s},
            "keep_minutes": ret.minute_slots(self.spike),
            "buckets": buckets.rows,
            "now_tally": [
                keys.add(k.tally(shard, hour_tally)),
                buckets.ttl(hour_tally),
                keys.add(k.tally(shard, day_tally)),
                buckets.ttl(day_tally),
            ],
            "groups": payload_groups,
            "ares": keys.add(k.auto_resolves(shard)),
        }
        if self.spike is not None:
            payload["spike"] = self.spike.payload()
        return keys.keys, [json.dumps(payload)]

    def _queue_dead_letters(self, pipe: Any, rejected: Sequence[Rejected], now: float) -> None:
        dlq = self.keys.dead_letters()
        for rej in rejected:
            pipe.lpush(
                dlq,
                json.dumps(
                    {"reason": rej.reason, "insert_id": rej.insert_id, "raw": rej.raw, "at": now}
                ),
            )
        pipe.ltrim(dlq, 0, DLQ_CAP - 1)
        pipe.expire(dlq, self.retention.group_s)
        pipe.hincrby(self.keys.counters(), "dead_lettered", len(rejected))
        pipe.expire(self.keys.counters(), self.retention.group_s)

    def dead_letters(self, n: int = 100) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(self.keys.dead_letters(), 0, n - 1)]

    def counters(self) -> dict[str, int]:
        return {_s(k): int(v) for k, v in self.r.hgetall(self.keys.counters()).items()}

    def incr_counters(self, counts: dict[str, int]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for name, n in counts.items():
            if n:
                pipe.hincrby(self.keys.counters(), name, n)
        pipe.expire(self.keys.counters(), self.retention.group_s)
        pipe.execute()

    # ---- notification outbox --------------------------------------------------------------

    def claim_due(self, now: float, lease_until: float, limit: int = 50) -> list[str]:
        calls = [
            ("claim_due", [self.keys.due(s)], [now, lease_until, limit]) for s in range(NSHARDS)
        ]
        return [_s(m) for res in self._run(calls) for m in res]

    def claim_escalations(self, now: float, lease_until: float, limit: int = 50) -> list[str]:
        calls = [
            ("claim_due", [self.keys.escalations(s)], [now, lease_until, limit])
            for s in range(NSHARDS)
        ]
        return [_s(m) for res in self._run(calls) for m in res]

    def schedule_escalation(self, gid: str, at: float, *, keep: bool = False) -> None:
        """Escalate `gid` at `at`; with keep, an escalation already scheduled (or leased) stays."""
        key = self.keys.escalations(shard_of(gid))
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(key, {gid: at}, nx=keep)
        pipe.expire(key, self.retention.group_s)
        pipe.execute()

    def cancel_escalation(self, gid: str) -> None:
        self.r.zrem(self.keys.escalations(shard_of(gid)), gid)

    def escalation_at(self, gid: str) -> float | None:
        score = self.r.zscore(self.keys.escalations(shard_of(gid)), gid)
        return None if score is None else float(score)

    def escalate(
        self,
        gid: str,
        notice: dict[str, Any],
        *,
        now: float,
        lease_until: float,
        next_at: float | None,
    ) -> str:
        """Queue an escalation notice and schedule the repeat (or none) atomically, if this
        replica still holds the escalation's lease. Returns sent | lost | cancelled."""
        k, shard = self.keys, shard_of(gid)
        keys = [k.group(gid), k.escalations(shard), k.notices(gid), k.due(shard)]
        args = [gid, now, lease_until, next_at or 0, json.dumps(notice), self.retention.group_s]
        return _s(self._run([("escalate", keys, args)])[0])

    def due_at(self, gid: str) -> float | None:
        score = self.r.zscore(self.keys.due(shard_of(gid)), gid)
        return None if score is None else float(score)

    def retry_later(self, gid: str, lease_until: float, at: float) -> bool:
        """After a failed render: due again at `at` instead of when the lease runs out."""
        keys = [self.keys.due(shard_of(gid))]
        return bool(self._run([("retry_later", keys, [gid, lease_until, at])])[0])

    def retry_escalation_later(self, gid: str, lease_until: float, at: float) -> bool:
        """After a failed escalation: due again at `at` instead of when the lease runs out."""
        keys = [self.keys.escalations(shard_of(gid))]
        return bool(self._run([("retry_later", keys, [gid, lease_until, at])])[0])

    def finish_render(
        self, gid: str, rendered_ver: int, now: float, update_interval: float, lease_until: float
    ) -> int:
        k = self.keys
        keys = [k.group(gid), k.due(shard_of(gid)), k.notices(gid)]
        args = [rendered_ver, now, update_interval, lease_until, gid]
        return int(self._run([("finish_render", keys, args)])[0])

    def load_groups(self, gids: Sequence[str]) -> list[Group | None]:
        pipe = self.r.pipeline(transaction=False)
        for gid in gids:
            pipe.hgetall(self.keys.group(gid))
            pipe.hgetall(self.keys.messages(gid))
            pipe.lrange(self.keys.notices(gid), 0, 49)
        res = pipe.execute()
        out: list[Group | None] = []
        for i in range(len(gids)):
            h, msgs, notices = res[3 * i], res[3 * i + 1], res[3 * i + 2]
            out.append(_group(h, msgs, notices) if h else None)
        return out

    def load_group(self, gid: str) -> Group | None:
        return self.load_groups([gid])[0]

    def set_message(self, gid: str, channel: str, ts: str) -> None:
        """Record where the group is shown in `channel`. Once shown, the group keeps its
        destinations until its next episode, so the fields it was routed on are dropped."""
        key = self.keys.messages(gid)
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(key, channel, ts)
        pipe.expire(key, self.retention.group_s)
        pipe.hdel(self.keys.group(gid), ROUTE_INPUT_FIELD)
        pipe.execute()

    def set_fields(self, gid: str, fields: Mapping[str, str]) -> None:
        """Write fields of an existing group's hash (e.g. a new routing decision)."""
        args = [x for kv in fields.items() for x in kv]
        if args:
            self._run([("set_fields", [self.keys.group(gid)], args)])

    def drop_notices(self, gid: str, n: int) -> None:
        if n:
            self.r.ltrim(self.keys.notices(gid), n, -1)

    def push_notice(self, gid: str, notice: dict[str, Any]) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.rpush(self.keys.notices(gid), json.dumps(notice))
        pipe.expire(self.keys.notices(gid), self.retention.group_s)
        pipe.zadd(self.keys.due(shard_of(gid)), {gid: notice.get("now", time.time())}, nx=True)
        pipe.execute()

    # ---- human actions --------------------------------------------------------------------

    def transition(
        self,
        gid: str,
        action: str,
        user: str,
        now: float,
        arg: str | float = "",
        scope: str = "",
    ) -> TransitionResult:
        """`scope` ("env=staging") limits a snooze to entries with that value."""
        k = self.keys
        shard = shard_of(gid)
        keys = [
            k.group(gid),
            k.escalations(shard),
            k.timeline(gid),
            k.due(shard),
            k.notices(gid),
            k.auto_resolves(shard),
        ]
        argv = [action, user, now, arg, self.retention.group_s, scope]
        res = self._run([("transition", keys, argv)])[0]
        return TransitionResult(_s(res[0]), _s(res[1]), _s(res[2]))

    def due_auto_resolves(self, now: float, limit: int) -> list[tuple[str, float]]:
        """(group id, its auto_resolve_after) of groups due to resolve themselves."""
        pipe = self.r.pipeline(transaction=False)
        for shard in range(NSHARDS):
            pipe.zrangebyscore(self.keys.auto_resolves(shard), "-inf", now, 0, limit)
        gids = [_s(g) for found in pipe.execute() for g in found]
        if not gids:
            return []
        pipe = self.r.pipeline(transaction=False)
        for gid in gids:
            pipe.hget(self.keys.group(gid), "auto_resolve_s")
        return [(g, float(_s(a)) if a else 0.0) for g, a in zip(gids, pipe.execute(), strict=True)]

    def timeline(self, gid: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(self.keys.timeline(gid), 0, -1)]

    # ---- pacing and digests ------------------------------------------------------------------

    def take_token(self, channel: str, now: float, rate: float, burst: float) -> float:
        """Take a post token of `channel`'s bucket: 0.0, or the seconds until one is there."""
        key = self.keys.bucket(channel)
        ttl = int(burst / rate) + 60
        return float(_s(self._run([("bucket", [key], [now, rate, burst, ttl])])[0]))

    def digest_admit(
        self,
        channel: str,
        gids: Sequence[str],
        now: float,
        policy: DigestPolicy,
        update_interval: float = 30.0,
        correlated: bool = False,
        own: frozenset[str] = frozenset(),
    ) -> dict[str, int]:
        """gid -> 0 (post it on its own) or the number of the digest that lists it.
        `correlated`: they share a cause with the channel's recent new groups (an outage
        starting): a digest opens even under the threshold. `own`: groups that share nothing
        with the open digest's outage: posted on their own."""
        if not gids:
            return {}
        k = self.keys
        keys = [k.digest(channel), k.digest_members(channel), k.digest_window(channel)]
        keys.append(k.digest_due())
        args = [channel, now, policy.window_s, policy.threshold, policy.max_size]
        args += [self.retention.group_s, update_interval, int(correlated)]
        marked = [f"!{g}" if g in own else g for g in gids]
        res = self._run([("digest_admit", keys, [*args, *marked])])[0]
        return {_s(res[i]): int(res[i + 1]) for i in range(0, len(res), 2)}

    def digest_recent(self, channel: str, now: float, window: float) -> list[str]:
        """Groups that became due for a first message in `channel` in the last `window` s."""
        key = self.keys.digest_window(channel)
        return [_s(m) for m in self.r.zrangebyscore(key, now - window, "+inf")]

    def digest_is_open(self, channel: str, now: float) -> int:
        """The number of the channel's digest still taking new groups, else 0."""
        cur, until = self.r.hmget(self.keys.digest(channel), ["cur", "cur_until"])
        return int(cur) if cur is not None and float(until or 0) > now else 0

    def digest_closed_at(self, channel: str, n: int, now: float) -> float | None:
        """When digest n of `channel` stopped taking new groups (the storm was over): None
        while it still takes them; 0 when a later digest has opened since."""
        cur, until = self.r.hmget(self.keys.digest(channel), ["cur", "cur_until"])
        if cur is None or int(cur) != n:
            return 0.0
        end = float(until or 0)
        return end if end <= now else None

    def digest_touch(
        self, channel: str, n: int, now: float, update_interval: float, *, immediate: bool = False
    ) -> None:
        k = self.keys
        args = [channel, n, now, update_interval, int(immediate), self.retention.group_s]
        self._run([("digest_touch", [k.digest(channel), k.digest_due()], args)])

    def claim_digests(
        self, now: float, lease_until: float, limit: int = 20
    ) -> list[tuple[str, int]]:
        res = self._run([("claim_due", [self.keys.digest_due()], [now, lease_until, limit])])[0]
        out = []
        for m in res:
            ch, n = _s(m).rsplit("|", 1)
            out.append((ch, int(n)))
        return out

    def retry_digest_later(self, channel: str, n: int, lease_until: float, at: float) -> bool:
        """After a failed digest render: due again at `at`, not when the lease runs out."""
        member = f"{channel}|{n}"
        return bool(
            self._run([("retry_later", [self.keys.digest_due()], [member, lease_until, at])])[0]
        )

    def load_digest(self, channel: str, n: int) -> Digest:
        k = self.keys
        pipe = self.r.pipeline(transaction=False)
        pipe.hmget(k.digest(channel), [f"ts:{n}", f"ver:{n}"])
        pipe.zrangebyscore(k.digest_members(channel), n, n)
        (ref, ver), members = pipe.execute()
        return Digest(
            channel, n, _s(ref) if ref else "", int(ver or 0), tuple(_s(m) for m in members)
        )

    def digest_ref(self, channel: str, n: int) -> str:
        """The "CHANNEL/TS" of digest n of `channel`, or "" before it is posted."""
        ref = self.r.hget(self.keys.digest(channel), f"ts:{n}")
        return _s(ref) if ref else ""

    def finish_digest(
        self,
        channel: str,
        n: int,
        rendered_ver: int,
        now: float,
        update_interval: float,
        lease_until: float,
        posted: str = "",
    ) -> int:
        k = self.keys
        args = [channel, n, rendered_ver, now, update_interval, lease_until, posted]
        return int(self._run([("digest_finish", [k.digest(channel), k.digest_due()], args)])[0])

    # ---- counts -------------------------------------------------------------------------------

    def minute_counts(self, gid: str, now: float, minutes: int = 60) -> list[int]:
        """Occurrences per minute for the last `minutes` minutes, oldest first."""
        return _slots(self.r.hget(self.keys.group(gid), "cm"), int(now // 60), minutes)

    def hour_counts(self, gid: str, now: float, hours: int = 24) -> list[int]:
        """Occurrences per clock hour for the last `hours` hours, oldest first: the group's
        score in each hourly ranking (kept Retention.hours_s), so they cost nothing more."""
        end, shard = int(now // 3600), shard_of(gid)
        pipe = self.r.pipeline(transaction=False)
        for h in range(end - hours + 1, end + 1):
            pipe.zscore(self.keys.rank(shard, f"h{h}"), gid)
        return [int(v) if v else 0 for v in pipe.execute()]

    def revisions(self, gid: str) -> list[str]:
        """Revisions and versions that have thrown the group."""
        revs = self.r.hget(self.keys.group(gid), "revs")
        return sorted(x for x in _s(revs).split("\n") if x) if revs else []


def _slots(raw: Any, end: int, n: int) -> list[int]:
    """The n slots up to `end`, oldest first, from the JSON [base, age, count, ...] that
    record_batch.lua keeps (slot = base - age)."""
    counts = [0] * n
    if raw:
        enc = json.loads(raw)
        base = enc[0]
        for i in range(1, len(enc), 2):
            j = n - 1 - (end - (base - enc[i]))
            if 0 <= j < n:
                counts[j] = enc[i + 1]
    return counts


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _sample(ev: ErrorEvent) -> str:
    text = ev.message or (f"{ev.http.method} {ev.http.url} {ev.http.status}" if ev.http else "")
    return text[:SAMPLE_CHARS]


class _KeyList:
    """The KEYS of one script call, each once; scripts refer to them by (1-based) index."""

    def __init__(self, first: Sequence[str]) -> None:
        self.keys: list[str] = []
        self._at: dict[str, int] = {}
        for key in first:
            self.add(key)

    def add(self, key: str) -> int:
        i = self._at.get(key)
        if i is None:
            self.keys.append(key)
            i = self._at[key] = len(self.keys)
        return i


# How long a history bucket is kept after its end: 5-minute buckets serve windows up to 1 h
# (and the hour before, for trends), hours 24 h windows (and the 24 h before: Retention.hours_s),
# days 7-day ones.
FIVE_MIN_KEEP_S, DAY_KEEP_S = 7500, 31 * 86400
BUCKET_SPAN_S = {"f": 300, "h": 3600, "d": 86400}


class _Buckets:
    """History buckets of one record_batch call: [rank key, tally key or 0, ttl] rows. A bucket
    expires a fixed time after its end, however late its entries arrive; one past that is not
    written (index 0): no window reads it."""

    def __init__(
        self, keys: Keys, shard: int, key_list: _KeyList, now: float, retention: Retention
    ) -> None:
        self.k, self.shard, self.key_list, self.now = keys, shard, key_list, now
        self.keep = {"f": FIVE_MIN_KEEP_S, "h": retention.hours_s, "d": DAY_KEEP_S}
        self.rows: list[list[int]] = []
        self._at: dict[str, int] = {}

    def ttl(self, bucket: str) -> int:
        kind, n = bucket[0], int(bucket[1:])
        return int((n + 1) * BUCKET_SPAN_S[kind] + self.keep[kind] - self.now)

    def of(self, bucket: str) -> int:
        i = self._at.get(bucket)
        if i is None:
            ttl = self.ttl(bucket)
            if ttl <= 0:
                i = 0
            else:
                rank = self.key_list.add(self.k.rank(self.shard, bucket))
                tally = (
                    0 if bucket[0] == "f" else self.key_list.add(self.k.tally(self.shard, bucket))
                )
                self.rows.append([rank, tally, ttl])
                i = len(self.rows)
            self._at[bucket] = i
        return i


def _rev(ev: ErrorEvent) -> str:
    """The deploy that threw it, for "a new revision started throwing this". A Cloud Run job's
    execution is a run, not a deploy: it is shown, but never announced as new."""
    if ev.version:
        return ev.version
    return "" if ev.resource_type == "cloud_run_job" else (ev.revision or "")


def _meta(ev: ErrorEvent, fp: Fingerprint) -> dict[str, str]:
    meta = {
        "title": fp.title,
        "service": ev.service,
        "severity": ev.severity,
        "resource_type": ev.resource_type,
        "project": ev.project_id,
        "log_name": ev.log_name,
        "culprit": fp.culprit,
        "frames": "\n".join(fp.frames),
        "fp_version": fp.version,
    }
    if ev.revision:
        meta["revision"] = ev.revision
    if ev.version:
        meta["version"] = ev.version
    if ev.error_group_id:
        meta["error_group"] = ev.error_group_id
    return meta


def _group(h: dict[Any, Any], msgs: dict[Any, Any], notices: list[Any]) -> Group:
    f = {_s(k): _s(v) for k, v in h.items()}
    return Group(
        id=f.get("id", ""),
        title=f.get("title", ""),
        service=f.get("service", ""),
        state=f.get("state", "open"),
        count=int(f.get("count", "0")),
        first=float(f.get("first", "0")),
        last=float(f.get("last", "0")),
        ver=int(f.get("ver", "0")),
        sample=f.get("sample", ""),
        frames=tuple(x for x in f.get("frames", "").split("\n") if x),
        messages={_s(k): _s(v) for k, v in msgs.items()},
        notices=[json.loads(_s(n)) for n in notices],
        fields=f,
    )
