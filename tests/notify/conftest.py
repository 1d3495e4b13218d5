"""Notifier fixtures: real Redis (per-test prefix), the Slack stand-in, an injected clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import redis
from triage_sandbox.clock import FakeClock
from triage_sandbox.slack_standin import ApiCall, SlackStandIn

from bot.models import Destination, ErrorEvent, Fingerprint
from bot.notify.notifier import Notifier, Router
from bot.notify.sender import Sender, make_client
from bot.store.redis_store import RedisStore

SECRET = "notify-signing-secret-0123"
TOKEN = "xoxb-notify"
T0 = 1_764_000_000.0


@dataclass
class Rig:
    slack: SlackStandIn
    store: RedisStore
    clock: FakeClock
    sender: Sender
    targets: dict[str, list[Destination]] = field(default_factory=dict)
    notifier: Notifier | None = None
    mark: int = 0
    seq: int = 0

    def router(self) -> Router:
        return lambda g: self.targets.get(g.id, self.targets.get("*", []))

    def make_notifier(self, **kw: object) -> Notifier:
        self.notifier = Notifier(
            self.store,
            self.sender,
            self.router(),
            default_channel="C0ALERTS",
            clock=self.clock,
            **kw,  # type: ignore[arg-type]
        )
        return self.notifier

    def record(self, gid: str, n: int = 1, *, revision: str = "svc-00001", **ev: str) -> None:
        """n occurrences of group gid at the clock's time."""
        items = []
        for _ in range(n):
            self.seq += 1
            e = ErrorEvent(
                insert_id=f"i{self.seq}",
                timestamp=self.clock.now,
                severity="ERROR",
                service=ev.get("service", "checkout"),
                resource_type="cloud_run_revision",
                project_id="demo-prod",
                revision=revision,
                message=ev.get("message", f"KeyError: 'total' (order {self.seq})"),
                trace="projects/demo-prod/traces/0123456789abcdef0123456789abcdef",
            )
            fp = Fingerprint(
                id=gid,
                version="fp1",
                title=ev.get("title", f"KeyError: 'total' in {gid}"),
                frames=("app/orders.py in total", "app/api.py in get_order"),
            )
            items.append((e, fp))
        self.store.record_batch(items, now=self.clock.now, update_interval=30.0)

    def new_calls(self) -> list[ApiCall]:
        """Web API calls since the last call of this method."""
        calls = self.slack.calls
        out, self.mark = calls[self.mark :], len(calls)
        return out

    def run(self) -> list[ApiCall]:
        assert self.notifier is not None
        self.notifier.run_once()
        return self.new_calls()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(SECRET, TOKEN) as standin:
        standin.add_channel("C0TEAM", "team")
        yield standin


@pytest.fixture
def rig(slack: SlackStandIn, redis_client: redis.Redis, key_prefix: str) -> Rig:
    clock = FakeClock(T0)
    store = RedisStore(redis_client, key_prefix)
    sender = Sender(make_client(TOKEN, slack.api_url, max_retries=2), sleep=clock.advance)
    r = Rig(slack, store, clock, sender)
    r.make_notifier()
    return r


def methods(calls: list[ApiCall]) -> list[str]:
    return [c.method for c in calls]


def top_posts(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.method == "chat.postMessage" and not c.args.get("thread_ts")]


def replies(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.method == "chat.postMessage" and c.args.get("thread_ts")]


Pred = Callable[[ApiCall], bool]
