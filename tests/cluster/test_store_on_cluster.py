"""The store integration tests (batch script, transitions, outbox, digests, pacing), run
unchanged against a three-node Redis Cluster: `redis_client` is a RedisCluster here (see
conftest.py). Imported, so they are the very same tests tests/store runs on one Redis."""

from tests.store.test_record_batch import *  # noqa: F403
from tests.store.test_transitions import *  # noqa: F403
