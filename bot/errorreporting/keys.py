"""Redis keys of the Error Reporting sync.

All share one hash tag (`{prefix.ers}`), so every script touches one Redis Cluster slot; the
traffic is small (human actions and a rate-limited poll), so one slot is plenty. They live here,
not in `bot/store/keys.py`, until that file's owner takes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErsKeys:
    prefix: str = "tb"

    @property
    def tag(self) -> str:
        return f"{self.prefix}:ers:{{{self.prefix}.ers}}"

    def outbox(self) -> str:
        """ZSET gid -> time its status push is due (or, while a replica works on it, the end of
        that replica's lease)."""
        return f"{self.tag}:out"

    def job(self, gid: str) -> str:
        """HASH of the pending push: eg (Error Reporting group id), status, seq, attempts,
        first_at, lease_until, last_error. Gone once pushed or given up."""
        return f"{self.tag}:job:{gid}"

    def linked(self) -> str:
        """ZSET gid -> last time its Error Reporting status was checked (0: never)."""
        return f"{self.tag}:lnk"

    def link(self, gid: str) -> str:
        """HASH eg, known (the Error Reporting status last known to match the bot: pushed or
        pulled), known_at. Expires after a link TTL without bot activity: then polling stops."""
        return f"{self.tag}:l:{gid}"

    def calls(self, minute: int) -> str:
        """STRING: Error Reporting API calls made in that epoch minute (all replicas)."""
        return f"{self.tag}:rl:{minute}"
