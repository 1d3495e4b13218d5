"""Merge rules (`/triage merge A into B`): future entries of group A count on group B.

A rule lives in one Redis hash (source gid -> JSON), read by every replica at ingest through
`CachedMerges` (at most every `ttl` seconds), so a batch still costs one round trip: the
redirect is a dict lookup in Python, before the batch is split by shard. Groups of different
shards cannot be merged by one Lua call (Redis Cluster slots), and need not be: a rule only
changes which group id an entry is recorded under.

Chains resolve to the final target (A into B, then B into C: A's entries count on C). Merging
a group into itself, into a merged group, or a group that is merged already is refused, so a
rule never forms a cycle."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis

from bot.store.keys import Keys

CACHE_TTL_S = 2.0  # how stale a replica's merge rules may be (the README's "within 2 s")


@dataclass(frozen=True, slots=True)
class MergeRule:
    source: str
    into: str
    by: str = ""
    at: float = 0.0
    moved: int = 0  # occurrences moved to `into` when merged (taken back on unmerge)
    link: str = ""  # permalink of the target's alert, when it had one


def resolve(into: Mapping[str, str], gid: str) -> str:
    """The group an entry of `gid` counts on: the end of its chain of rules (a cycle, which the
    store never writes, stops where it would repeat)."""
    seen = {gid}
    while (nxt := into.get(gid)) is not None and nxt not in seen:
        seen.add(nxt)
        gid = nxt
    return gid


def chain(into: Mapping[str, str], gid: str) -> list[str]:
    """The groups after `gid` on its chain, the final target last."""
    out: list[str] = []
    seen = {gid}
    while (nxt := into.get(gid)) is not None and nxt not in seen:
        seen.add(nxt)
        out.append(nxt)
        gid = nxt
    return out


class MergeRefused(Exception):
    """Why a merge cannot be done: `reason` (self | target_merged | already), `detail` a gid."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class MergeStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self.key = keys.merges()

    def rules(self) -> dict[str, MergeRule]:
        return {_s(k): _rule_of(_s(k), v) for k, v in self.r.hgetall(self.key).items()}

    def get(self, gid: str) -> MergeRule | None:
        raw = self.r.hget(self.key, gid)
        return _rule_of(gid, raw) if raw is not None else None

    def sources_of(self, gid: str) -> list[str]:
        """The groups whose entries count on `gid` (directly or through a chain)."""
        into = {s: r.into for s, r in self.rules().items()}
        return sorted(s for s in into if resolve(into, s) == gid)

    def merge(self, rule: MergeRule) -> None:
        """Write the rule (checked against the others in one WATCH/MULTI on the rules hash, so
        two people merging A into B and B into A at once cannot make a cycle), then move the
        source's count to the target and mark the source. The group hashes may live in other
        shards: those writes follow in one pipelined round trip (a person's action, not the
        hot path). Raises MergeRefused."""
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(self.key)
                    existing = pipe.hget(self.key, rule.source)
                    if rule.source == rule.into:
                        raise MergeRefused("self")
                    if existing is not None:
                        raise MergeRefused("already", _rule(existing).into)
                    target_rule = pipe.hget(self.key, rule.into)
                    if target_rule is not None:
                        into = {_s(k): _rule(v).into for k, v in pipe.hgetall(self.key).items()}
                        raise MergeRefused("target_merged", resolve(into, rule.into))
                    pipe.multi()
                    pipe.hset(self.key, rule.source, _dump(rule))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        p = self.r.pipeline(transaction=False)
        p.hincrby(self.keys.group(rule.into), "count", rule.moved)
        p.hincrby(self.keys.group(rule.into), "ver", 1)
        p.hset(
            self.keys.group(rule.source),
            mapping={"merged_into": rule.into, "merged_by": rule.by, "merged_at": rule.at},
        )
        if rule.link:
            p.hset(self.keys.group(rule.source), "merged_link", rule.link)
        p.execute()

    def unmerge(self, gid: str) -> MergeRule | None:
        """Delete the rule of `gid` and take its moved count back from every group it reached
        (the target and, if the target was merged on since, the groups after it). None: `gid`
        is not merged."""
        rules = self.rules()
        rule = rules.get(gid)
        if rule is None:
            return None
        into = {s: r.into for s, r in rules.items()}
        p = self.r.pipeline(transaction=False)
        p.hdel(self.key, gid)
        for hop in chain(into, gid):
            p.hincrby(self.keys.group(hop), "count", -rule.moved)
            if (onward := rules.get(hop)) is not None:  # its own rule carried ours along
                moved = max(0, onward.moved - rule.moved)
                p.hset(self.key, hop, _dump(_replace_moved(onward, moved)))
        p.hdel(self.keys.group(gid), "merged_into", "merged_by", "merged_at", "merged_link")
        p.execute()
        return rule


def _replace_moved(rule: MergeRule, moved: int) -> MergeRule:
    return MergeRule(rule.source, rule.into, rule.by, rule.at, moved, rule.link)


def _dump(rule: MergeRule) -> str:
    return json.dumps(
        {"into": rule.into, "by": rule.by, "at": rule.at, "moved": rule.moved, "link": rule.link}
    )


def _s(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _rule_of(source: str, raw: bytes | str) -> MergeRule:
    d = json.loads(raw)
    return MergeRule(
        source,
        str(d["into"]),
        str(d.get("by", "")),
        float(d.get("at", 0)),
        int(d.get("moved", 0)),
        str(d.get("link", "")),
    )


def _rule(raw: bytes | str) -> MergeRule:
    return _rule_of("", raw)


class CachedMerges:
    """The merge rules as `source -> final target`, read at most every `ttl` seconds: ingest
    reads them once per batch, so a rule reaches every replica within `ttl` (the replica that
    wrote it invalidates its cache at once)."""

    def __init__(self, store: MergeStore, ttl: float = CACHE_TTL_S) -> None:
        self.store, self.ttl = store, ttl
        self._at = -1e18
        self._into: dict[str, str] = {}

    def get(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._at > self.ttl:
            into = {s: r.into for s, r in self.store.rules().items()}
            self._into = {s: resolve(into, s) for s in into}
            self._at = now
        return self._into

    def target(self, gid: str) -> str:
        return self.get().get(gid, gid)

    def invalidate(self) -> None:
        self._at = -1e18
