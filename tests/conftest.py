"""Shared fixtures: a real Redis (started here if none answers), per-test key prefixes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from triage_sandbox.redis_server import RedisStartError, ensure_redis

pytest_plugins = ["tests.pubsub_fixtures"]

# Tests never see real Slack credentials.
for _name in list(os.environ):
    if _name.startswith("SLACK_"):
        del os.environ[_name]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis the tests use: TEST_REDIS_URL or 127.0.0.1:6379 if one answers, else a
    redis-server started here; if none can be started the run fails (CI never skips)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with ensure_redis(url) as (found, _):
            yield found
    except RedisStartError as exc:
        pytest.fail(f"no Redis answers on {url} and {exc} (or set TEST_REDIS_URL)", pytrace=False)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A fresh key prefix per test; its keys are deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*", count=1000):
        redis_client.delete(key)
