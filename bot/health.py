"""What /healthz and start-up check: can the bot still do its job?

- Redis accepts writes: a write of one small key with a TTL (a Redis at `maxmemory` with
  `noeviction` answers reads but refuses every write, so ingest stops while PING says PONG);
  its `maxmemory-policy` is `noeviction` (read from INFO, which Memorystore allows: CONFIG is
  disabled there). Under any eviction policy Redis deletes keys under memory pressure, every
  key here has a TTL so the `volatile-*` policies apply too: counts vanish silently and a
  re-published insertId is taken as a duplicate of a group that no longer exists.
- Pub/Sub: the puller's last pull did not fail with NotFound / PermissionDenied.
- Slack: the bot token is accepted (auth.test at most once a minute, a probe every few
  seconds should not spend its rate limit; at once after a Slack call was refused for its token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from google.api_core import exceptions as gexc
from slack_sdk.errors import SlackApiError

from bot.config import SettingsError
from bot.notify.sender import TOKEN_REFUSED

log = logging.getLogger(__name__)

MEMORYSTORE_FIX = (
    "gcloud redis instances update INSTANCE --region=REGION "
    "--update-redis-config maxmemory-policy=noeviction"
)
SLACK_EVERY_S = 60.0


def eviction_policies(client: Any) -> dict[str, str]:
    """maxmemory-policy per node ({"": policy} for one server), from INFO memory."""
    info = client.info("memory")
    if "maxmemory_policy" in info:
        return {"": str(info["maxmemory_policy"])}
    return {str(node): str(i.get("maxmemory_policy", "?")) for node, i in info.items()}


def policy_problem(client: Any) -> str | None:
    bad = {n: p for n, p in eviction_policies(client).items() if p != "noeviction"}
    if not bad:
        return None
    node, policy = next(iter(bad.items()))
    where = f" on {node}" if node else ""
    return (
        f"Redis maxmemory-policy is {policy}{where}: under memory pressure Redis would delete "
        "counts, dedup records and open alerts without a word. Set maxmemory-policy noeviction "
        f"(Memorystore: {MEMORYSTORE_FIX}) and size Redis for the retention"
    )


def check_eviction_policy(client: Any) -> None:
    """At start-up: refuse an evicting Redis (SettingsError, one line). An unreachable Redis
    is not refused here: the bot starts, retries, and /healthz says what is wrong."""
    try:
        problem = policy_problem(client)
    except redis.ResponseError:  # INFO refused (an ACL without it): nothing to check with
        log.warning(
            "cannot read Redis' maxmemory-policy (INFO refused); make sure it is noeviction"
        )
        return
    except redis.RedisError as exc:
        log.warning("Redis unreachable at start-up (%s): retrying", type(exc).__name__)
        return
    if problem:
        raise SettingsError(problem)


def token_problem(error: str | None) -> str:
    return (
        f"Slack refused SLACK_BOT_TOKEN ({error}): the app was uninstalled or the token "
        "revoked or rotated; reinstall the app (OAuth & Permissions > Reinstall) and set "
        "SLACK_BOT_TOKEN to the new xoxb- token"
    )


class Health:
    def __init__(
        self,
        store: Any,
        web: Any,
        puller: Any | None,
        sender: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.web, self.puller, self.clock = (
            store,
            web,
            puller,
            clock,
        )
        self.sender = sender
        self.slack_checked_at = float("-inf")
        self._slack = "ok"
        self._lock = threading.Lock()

    def check(self) -> tuple[bool, dict[str, str]]:
        detail = {"redis": self._redis(), "pubsub": self._pubsub(), "slack": self._slack_state()}
        ok = (
            detail["redis"] == "ok"
            and detail["pubsub"] in ("ok", "not yet pulled")
            and not detail["slack"].startswith("Slack refused")  # a Slack outage is not ours
        )
        return ok, detail

    def _redis(self) -> str:
        try:
            self.store.r.set(self.store.keys.health_probe(), "1", ex=60)
            problem = policy_problem(self.store.r)
        except redis.ResponseError as exc:
            if "maxmemory" in str(exc) or "OOM" in str(exc):
                return (
                    "refuses writes: used memory is over maxmemory; raise maxmemory (or the "
                    "Memorystore size) or shorten RETENTION_* settings"
                )
            return f"error: {str(exc)[:200]}"
        except redis.RedisError as exc:
            return f"unreachable: {type(exc).__name__} (check REDIS_URL)"
        return problem or "ok"

    def _pubsub(self) -> str:
        if self.puller is None:
            return "ok"
        error = self.puller.last_error
        if isinstance(error, gexc.NotFound):
            return f"the subscription {self.puller.subscription} does not exist: create it or fix PUBSUB_SUBSCRIPTION"
        if isinstance(error, gexc.PermissionDenied):
            return (
                f"no permission to pull {self.puller.subscription}: grant "
                "roles/pubsub.subscriber to the service account"
            )
        return "ok" if self.puller.healthy.is_set() else "not yet pulled"

    def _slack_state(self) -> str:
        with self._lock:
            now = self.clock()
            refused = self.sender.token_refused if self.sender is not None else None
            if now - self.slack_checked_at < SLACK_EVERY_S and not refused:
                return self._slack
            if self.sender is not None:
                self.sender.token_refused = None
            self.slack_checked_at = now
            try:
                self.web.auth_test()
                self._slack = "ok"
            except SlackApiError as exc:
                data = exc.response.data if exc.response is not None else None
                error = data.get("error") if isinstance(data, dict) else None
                self._slack = token_problem(error) if error in TOKEN_REFUSED else "ok"
            except OSError as exc:
                self._slack = f"unreachable: {type(exc).__name__}"
            return self._slack

    def wait_for_pull(self, timeout: float) -> bool:
        """Until the puller's first pull answered or failed (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.puller is None or self.puller.healthy.is_set() or self.puller.last_error:
                return True
            time.sleep(0.02)
        return False
