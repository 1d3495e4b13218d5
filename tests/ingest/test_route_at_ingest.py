"""Routing at ingest on real Redis: the batch script stores the decision when a group's episode
starts (new group, regression of a resolved one) and leaves it alone otherwise."""

from __future__ import annotations

import json

import redis
from triage_sandbox.clock import FakeClock

from bot.ingest.pull import Pipeline
from bot.models import Destination, Timings
from bot.routing.config import parse_config
from bot.routing.reload import Snapshot
from bot.routing.router import DEST_FIELD, Router
from bot.store.redis_store import RedisStore

CONFIG = """\
teams: [{name: payments, channel: C0PAY}, {name: sre, channel: C0SRE}]
routes: [{team: payments, match: {labels: {env: prod}}}]
default_route: {team: sre}
"""
T0 = 1_764_000_000.0


def entry(n: int, env: str) -> bytes:
    return json.dumps(
        {
            "insertId": f"ins-{n}",
            "timestamp": "2025-11-24T16:00:00Z",
            "severity": "ERROR",
            "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {"service_name": "checkout", "project_id": "p"},
            },
            "labels": {"env": env},
            "jsonPayload": {"message": "payment provider refused the charge"},
        }
    ).encode()


def channels(store: RedisStore, gid: str) -> list[str]:
    group = store.load_group(gid)
    assert group is not None
    return [d["channel"] for d in json.loads(group.get(DEST_FIELD))]


def test_destinations_are_stored_at_episode_start_only(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisStore(redis_client, key_prefix)
    snap = Snapshot.of(parse_config(CONFIG), Timings())
    router = Router(lambda: snap, Destination("C0ALERTS"))
    clock = FakeClock(T0)
    pipe = Pipeline(store, clock=clock, config=lambda: snap, router=router)
    [gid] = pipe.process([entry(1, "prod")]).new_groups
    assert channels(store, gid) == ["C0PAY"]
    # a recurrence (same group, another env) is not a new episode: the decision stays
    pipe.process([entry(2, "staging")])
    assert channels(store, gid) == ["C0PAY"]
    # resolved, then it recurs from staging: a regression starts a new episode, routed anew
    store.transition(gid, "resolve", "U1", T0 + 1)
    clock.advance(60)
    result = pipe.process([entry(3, "staging")])
    assert [d.regressed for d in result.deltas] == [True]
    assert channels(store, gid) == ["C0SRE"]


def test_one_round_trip_per_batch(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisStore(redis_client, key_prefix)
    snap = Snapshot.of(parse_config(CONFIG), Timings())
    pipe = Pipeline(store, config=lambda: snap, router=Router(lambda: snap, Destination("C0A")))
    pipe.process([entry(0, "prod")])  # scripts loaded
    sent: list[int] = []
    real = store.r.pipeline

    def counting(*a: object, **kw: object) -> object:
        p = real(*a, **kw)
        execute = p.execute

        def run(*ea: object, **ekw: object) -> object:
            sent.append(1)
            return execute(*ea, **ekw)

        p.execute = run  # type: ignore[method-assign]
        return p

    store.r.pipeline = counting  # type: ignore[method-assign]
    pipe.process([entry(i, "prod" if i % 2 else "dev") for i in range(10, 30)])
    assert sent == [1]
