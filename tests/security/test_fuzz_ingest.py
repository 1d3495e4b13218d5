"""Untrusted bytes through the real ingest path (`Pipeline.process`: parse, fingerprint, one Lua
batch on real Redis): never an exception; each payload is counted or dead-lettered with a
reason."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.pull import Pipeline
from bot.store.redis_store import RedisStore

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "insertId",
    "timestamp",
    "severity",
    "textPayload",
    "jsonPayload",
    "resource",
    "httpRequest",
    "labels",
    "logName",
    "trace",
    "protoPayload",
    "receiveTimestamp",
]


def _entry_like(draw: st.DrawFn) -> bytes:
    """A LogEntry-shaped object whose fields have arbitrary values (wrong types included)."""
    obj = {k: draw(json_values) for k in draw(st.lists(st.sampled_from(FIELDS), max_size=8))}
    if draw(st.booleans()):
        obj["insertId"] = uuid.uuid4().hex
        obj["severity"] = "ERROR"
        obj["textPayload"] = draw(st.text(max_size=300))
    return json.dumps(obj, allow_nan=True).encode()


payloads = st.one_of(
    st.binary(max_size=400),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.composite(_entry_like)(),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


@pytest.fixture
def pipeline(redis_client: redis.Redis, key_prefix: str) -> Iterator[Pipeline]:
    yield Pipeline(RedisStore(redis_client, key_prefix))


def _check(pipe: Pipeline, batch: list[bytes]) -> None:
    before = len(pipe.store.dead_letters(10_000))
    result = pipe.process(batch)
    counted = sum(d.added for d in result.deltas)
    assert counted + result.duplicates + result.dead_lettered == len(batch)
    letters = pipe.store.dead_letters(10_000)
    assert len(letters) - before == result.dead_lettered
    assert all(isinstance(x["reason"], str) and x["reason"] for x in letters)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(payloads, min_size=1, max_size=8))
def test_arbitrary_payloads_are_counted_or_dead_lettered(
    pipeline: Pipeline, batch: list[bytes]
) -> None:
    _check(pipeline, batch)


def _deep(n: int) -> bytes:
    return (
        '{"insertId":"deep","textPayload":"x","jsonPayload":' + "[" * n + "]" * n + "}"
    ).encode()


ODD = {
    "one_mb_text": json.dumps(
        {"insertId": "big1", "severity": "ERROR", "textPayload": "A" * 1_048_576}
    ).encode(),
    "one_mb_json_payload": json.dumps(
        {"insertId": "big2", "severity": "ERROR", "jsonPayload": {"message": "B " * 524_288}}
    ).encode(),
    "deep_nesting_100k": _deep(100_000),
    "deep_nesting_500": _deep(500),
    "invalid_utf8": b'{"insertId":"u8","textPayload":"caf\xc3\x28 \xff\xfe boom"}',
    "binary": bytes(range(256)) * 64,
    "nul_bytes": b'{"insertId":"nul\\u0000","textPayload":"a\\u0000b"}',
    "lone_surrogate": b'{"insertId":"sur","textPayload":"\\ud800 boom"}',
    "wrong_types": b'{"insertId":7,"timestamp":[],"severity":{},"textPayload":3.5,"resource":"x"}',
    "huge_number": b'{"insertId":"n","timestamp":1e400,"textPayload":"boom","labels":{"a":1e999}}',
    "empty": b"",
    "not_an_object": b"[1,2,3]",
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_payloads_never_crash(pipeline: Pipeline, name: str) -> None:
    _check(pipeline, [ODD[name], ODD[name]])
