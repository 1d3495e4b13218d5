"""Every Redis key format, in one place.

Keys of one alert group live in one of NSHARDS shards, chosen from the group id; all keys of a
shard share one hash tag, so each per-shard Lua script call touches one Redis Cluster slot.
A batch is split by shard and the per-shard calls are pipelined (one round trip)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

NSHARDS = 16


def shard_of(group_id: str) -> int:
    return zlib.crc32(group_id.encode()) % NSHARDS


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "tb"

    def tag(self, shard: int) -> str:
        return f"{self.prefix}:{{{self.prefix}.{shard}}}"

    # per shard
    def due(self, shard: int) -> str:
        """ZSET group id -> time its message is due for a post/update (the notification outbox)."""
        return f"{self.tag(shard)}:due"

    def escalations(self, shard: int) -> str:
        """ZSET group id -> time an escalation (or repeat) is due."""
        return f"{self.tag(shard)}:esc"

    def index(self, shard: int) -> str:
        """ZSET group id -> last seen (epoch s): every live group of the shard."""
        return f"{self.tag(shard)}:idx"

    def auto_resolves(self, shard: int) -> str:
        """ZSET group id -> when it resolves itself (its last entry + auto_resolve_after)."""
        return f"{self.tag(shard)}:ares"

    def seen(self, shard: int, hour: int) -> str:
        """SET of insertIds whose entry timestamp falls in `hour` (epoch hours); kept 25 h."""
        return f"{self.tag(shard)}:seen:{hour}"

    # per group (same hash tag as its shard)
    def group(self, gid: str) -> str:
        return f"{self.tag(shard_of(gid))}:g:{gid}"

    def minutes(self, gid: str) -> str:
        """HASH epoch-minute -> count (kept 48 h)."""
        return f"{self.tag(shard_of(gid))}:m:{gid}"

    def hours(self, gid: str) -> str:
        """HASH epoch-hour -> count (kept 30 days)."""
        return f"{self.tag(shard_of(gid))}:h:{gid}"

    def revisions(self, gid: str) -> str:
        """SET of revisions/versions that have thrown this group."""
        return f"{self.tag(shard_of(gid))}:r:{gid}"

    def messages(self, gid: str) -> str:
        """HASH channel -> message ts of this group's alert in that channel."""
        return f"{self.tag(shard_of(gid))}:msg:{gid}"

    def notices(self, gid: str) -> str:
        """LIST of pending thread notices (JSON): regression, new revision, escalation ..."""
        return f"{self.tag(shard_of(gid))}:n:{gid}"

    def timeline(self, gid: str) -> str:
        """LIST of state changes (JSON: who, what, when), newest last."""
        return f"{self.tag(shard_of(gid))}:t:{gid}"

    # global, single-key
    def dead_letters(self) -> str:
        return f"{self.prefix}:dlq"

    def counters(self) -> str:
        return f"{self.prefix}:counters"

    def bucket(self, channel: str) -> str:
        """Token bucket pacing posts to one Slack channel (shared by all replicas)."""
        return f"{self.prefix}:bucket:{{{channel}}}"

    def subscriptions(self) -> str:
        return f"{self.prefix}:subs"

    def oncall_overrides(self, team: str) -> str:
        """ZSET of a team's on-call overrides (JSON: user, start, end, by) scored by end."""
        return f"{self.prefix}:oncall:{{{team}}}"
