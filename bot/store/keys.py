"""Every Redis key format, in one place (the schema is documented in bot/store/README.md).

Keys of one alert group live in one of NSHARDS shards, chosen from the group id; all keys of a
shard share one hash tag, so each per-shard Lua script call touches one Redis Cluster slot.
A batch is split by shard and the per-shard calls are pipelined (one round trip). Digests and
the Error Reporting sync each have a hash tag of their own (their traffic is small).

Scripts never build a key name: Python builds every key here and passes it in KEYS.
tests/store/test_key_schema.py checks that mechanically."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

NSHARDS = 16


def shard_of(group_id: str) -> int:
    return zlib.crc32(group_id.encode()) % NSHARDS


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "tb"

    def pattern(self) -> str:
        """SCAN MATCH pattern of every key under this prefix."""
        return f"{self.prefix}:*"

    def tag(self, shard: int) -> str:
        return f"{self.prefix}:{{{self.prefix}.{shard}}}"

    # ---- per shard ------------------------------------------------------------------------

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

    def seen(self, shard: int, minute: int) -> str:
        """HASH insertId -> "" of entries whose timestamp falls in `minute` (epoch minutes).
        A key per minute stays small enough for Redis' compact (listpack) encoding at
        moderate rates, where a SET of strings costs ~56 bytes a member."""
        return f"{self.tag(shard)}:seen:{minute}"

    # history (bot/store/history.py): bucket names are "f<n>" (5 minutes), "h<n>" (hours) and
    # "d<n>" (UTC days)
    def rank(self, shard: int, bucket: str) -> str:
        """ZSET gid -> occurrences in that bucket."""
        return f"{self.tag(shard)}:hc:{bucket}"

    def tally(self, shard: int, bucket: str) -> str:
        """HASH service -> occurrences | "n:"+service -> new groups | "r:"+service ->
        regressions, in that hour or day bucket."""
        return f"{self.tag(shard)}:sh:{bucket}"

    def search(self, shard: int) -> str:
        """HASH "<lowercase title> <service> <gid>" -> gid (search by HSCAN MATCH)."""
        return f"{self.tag(shard)}:sx"

    def services(self, shard: int) -> str:
        """HASH gid -> service, so one ranking per bucket serves every service's top."""
        return f"{self.tag(shard)}:svc"

    def top_cache(self, shard: int, first: str, last: str) -> str:
        """ZSET: union of the closed rank buckets first..last (a short-lived cache)."""
        return f"{self.tag(shard)}:hc:cache:{first}-{last}"

    # ---- per group (same hash tag as its shard) -----------------------------------------------

    def group(self, gid: str) -> str:
        """HASH of the group; also its per-minute counts (field cm: JSON [base, age, count,
        age, count, ...], slot = base - age) and the revisions that threw it (revs). Its
        per-hour counts are its scores in the hourly rankings."""
        return f"{self.tag(shard_of(gid))}:g:{gid}"

    def messages(self, gid: str) -> str:
        """HASH channel -> message ts of this group's alert in that channel."""
        return f"{self.tag(shard_of(gid))}:msg:{gid}"

    def notices(self, gid: str) -> str:
        """LIST of pending thread notices (JSON): regression, new revision, escalation ..."""
        return f"{self.tag(shard_of(gid))}:n:{gid}"

    def timeline(self, gid: str) -> str:
        """LIST of state changes (JSON: who, what, when), newest last."""
        return f"{self.tag(shard_of(gid))}:t:{gid}"

    # ---- global, single-key -------------------------------------------------------------------

    def dead_letters(self) -> str:
        return f"{self.prefix}:dlq"

    def counters(self) -> str:
        return f"{self.prefix}:counters"

    def bucket(self, channel: str) -> str:
        """Token bucket pacing posts to one Slack channel (shared by all replicas)."""
        return f"{self.prefix}:bucket:{{{channel}}}"

    def subscriptions(self) -> str:
        return f"{self.prefix}:subs"

    def merges(self) -> str:
        """HASH source gid -> merge rule JSON (into, by, at, moved): `/triage merge`."""
        return f"{self.prefix}:merges"

    def oncall_overrides(self, team: str) -> str:
        """ZSET of a team's on-call overrides (JSON: user, start, end, by) scored by end."""
        return f"{self.prefix}:oncall:{{{team}}}"

    # ---- incidents (bot.incident): one hash tag per incident; the indexes single keys ----------

    def incident(self, iid: str) -> str:
        """HASH of a declared incident (bot.incident.model.Incident.to_fields)."""
        return f"{self.prefix}:{{inc.{iid}}}:i"

    def incident_events(self, iid: str) -> str:
        """LIST of the incident's timeline events (JSON: at, actor, kind, detail), oldest first."""
        return f"{self.prefix}:{{inc.{iid}}}:e"

    def incident_seen(self, iid: str) -> str:
        """HASH group id -> what the timeline sweep last saw of it ("state|notices|count")."""
        return f"{self.prefix}:{{inc.{iid}}}:s"

    def incident_of_channel(self, channel: str) -> str:
        """STRING: the incident whose channel this is."""
        return f"{self.prefix}:incch:{{{channel}}}"

    def incident_of_group(self, gid: str) -> str:
        """STRING: the incident a group is linked to (the latest one)."""
        return f"{self.prefix}:incg:{{{gid}}}"

    def incidents_open(self) -> str:
        """ZSET of incidents not resolved, scored by declaration time (the sweep's work list)."""
        return f"{self.prefix}:incidents"

    # ---- digests: one hash tag (digests are few) -------------------------------------------

    @property
    def digest_tag(self) -> str:
        return f"{self.prefix}:{{{self.prefix}.dg}}"

    def digest(self, channel: str) -> str:
        """HASH cur, cur_until, seq and per digest n: ts:n, ver:n, rver:n, last:n, size:n."""
        return f"{self.digest_tag}:h:{channel}"

    def digest_members(self, channel: str) -> str:
        """ZSET gid -> number of the digest that lists it."""
        return f"{self.digest_tag}:m:{channel}"

    def digest_window(self, channel: str) -> str:
        """ZSET gid -> time it was first due in the channel (the last window only)."""
        return f"{self.digest_tag}:w:{channel}"

    def digest_due(self) -> str:
        """ZSET "CHANNEL|n" -> time the digest is due for a post/update (its outbox)."""
        return f"{self.digest_tag}:due"

    # ---- Error Reporting sync: one hash tag ---------------------------------------------------

    @property
    def ers_tag(self) -> str:
        return f"{self.prefix}:ers:{{{self.prefix}.ers}}"

    def ers_outbox(self) -> str:
        """ZSET gid -> time its status push is due (or, while a replica works on it, the end of
        that replica's lease)."""
        return f"{self.ers_tag}:out"

    def ers_job(self, gid: str) -> str:
        """HASH of the pending push: eg (Error Reporting group id), status, seq, attempts,
        first_at, lease_until, last_error. Gone once pushed or given up."""
        return f"{self.ers_tag}:job:{gid}"

    def ers_linked(self) -> str:
        """ZSET gid -> last time its Error Reporting status was checked (0: never)."""
        return f"{self.ers_tag}:lnk"

    def ers_link(self, gid: str) -> str:
        """HASH eg, known (the Error Reporting status last known to match the bot: pushed or
        pulled), known_at. Expires after a link TTL without bot activity: then polling stops."""
        return f"{self.ers_tag}:l:{gid}"

    def ers_calls(self, minute: int) -> str:
        """STRING: Error Reporting API calls made in that epoch minute (all replicas)."""
        return f"{self.ers_tag}:rl:{minute}"

    # ---- health ------------------------------------------------------------------------------

    def health_probe(self) -> str:
        """STRING written by /healthz (TTL 60 s): proves Redis still accepts writes (not OOM)."""
        return f"{self.prefix}:healthz"

    def interaction(self, request_id: str) -> str:
        """STRING: a Slack request (trigger_id / event_id) already handled; TTL 10 minutes,
        past Slack's 5-minute signature window, so a replayed signed request is dropped."""
        return f"{self.prefix}:seenreq:{request_id}"
