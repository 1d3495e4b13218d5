"""Signed Slack requests seen before: a replay within the signature window is not applied.

A signature proves who sent a request, not that it is new: anyone holding a captured request
(a proxy log, a browser extension) can send it again for five minutes. Each interaction has a
trigger_id and each event an event_id (Slack itself re-sends an event with the same id when
the ack was late): the first request with an id is handled, the others are acked and dropped."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import redis

from bot.store.keys import Keys

log = logging.getLogger(__name__)

REMEMBER_S = 600  # longer than Slack's 5-minute window for X-Slack-Request-Timestamp


def request_id(body: dict[str, Any]) -> str | None:
    """The id Slack gives this request once: trigger_id, event_id, else an action's action_ts."""
    for key in ("trigger_id", "event_id"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        ts = actions[0].get("action_ts")
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
        if isinstance(ts, str) and ts:
            return f"a:{user}:{ts}"
    return None


class ReplayGuard:
    def __init__(self, client: Any, keys: Keys) -> None:
        self.r, self.keys = client, keys

    def first_time(self, rid: str) -> bool:
        """True the first time `rid` is seen (within REMEMBER_S). With Redis down, True: the
        action itself then fails and says so."""
        if len(rid) > 128:
            rid = hashlib.sha256(rid.encode()).hexdigest()
        try:
            return bool(self.r.set(self.keys.interaction(rid), "1", nx=True, ex=REMEMBER_S))
        except redis.RedisError:
            return True
