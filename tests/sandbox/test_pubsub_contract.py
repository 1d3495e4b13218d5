"""One contract, two backends: the Pub/Sub stand-in must behave like Google's emulator.

Every test runs once per ``pubsub_backend`` parameter (``standin``, and ``emulator`` where it
is installed). Deadlines are kept to a second or two: both backends accept an
``ack_deadline_seconds`` as low as 1 at creation (production Pub/Sub wants at least 10).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions
from google.cloud import pubsub_v1
from google.pubsub_v1.types import ReceivedMessage

from tests.pubsub_fixtures import PubSubBackend

pytestmark = [
    pytest.mark.integration,
    # The emulator's Pull semantics (and the stand-in's) are tested with return_immediately.
    pytest.mark.filterwarnings("ignore:The return_immediately flag is deprecated"),
]


def _setup(backend: PubSubBackend, ack_deadline: int = 10, **kwargs: object) -> tuple[str, str]:
    return backend.create_topic_and_subscription(
        backend.unique_name("topic"), backend.unique_name("sub"), ack_deadline, **kwargs
    )


def _pull_now(backend: PubSubBackend, sub: str, max_messages: int = 100) -> list[ReceivedMessage]:
    response = backend.subscriber.pull(
        request={"subscription": sub, "max_messages": max_messages, "return_immediately": True}
    )
    return list(response.received_messages)


def _pull(
    backend: PubSubBackend, sub: str, max_messages: int = 100, timeout: float = 5.0
) -> list[ReceivedMessage]:
    response = backend.subscriber.pull(subscription=sub, max_messages=max_messages, timeout=timeout)
    return list(response.received_messages)


def _ack(backend: PubSubBackend, sub: str, received: list[ReceivedMessage]) -> None:
    backend.subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in received])


def test_publish_pull_ack(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend)
    ids = pubsub_backend.publish(topic, [b"one", b"two", b"three"])

    received = _pull(pubsub_backend, sub)
    _ack(pubsub_backend, sub, received)

    assert len(set(ids)) == 3
    assert [m.message.data for m in received] == [b"one", b"two", b"three"]
    assert [m.message.message_id for m in received] == ids
    assert len({m.ack_id for m in received}) == 3
    assert _pull_now(pubsub_backend, sub) == []


def test_data_attributes_and_metadata_round_trip(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend)
    binary = bytes(range(256))
    before = datetime.now(UTC)
    pubsub_backend.raw_publisher.publish(
        topic=topic,
        messages=[
            {"data": binary, "attributes": {"severity": "ERROR", "service": "api-ü"}},
            {"data": b"", "attributes": {"only": "attributes"}},
            {"data": '{"msg": "naïve ☃"}'.encode()},
        ],
    )

    received = _pull(pubsub_backend, sub)
    _ack(pubsub_backend, sub, received)

    messages = [m.message for m in received]
    assert messages[0].data == binary
    assert dict(messages[0].attributes) == {"severity": "ERROR", "service": "api-ü"}
    assert messages[1].data == b""
    assert dict(messages[1].attributes) == {"only": "attributes"}
    assert messages[2].data.decode() == '{"msg": "naïve ☃"}'
    assert dict(messages[2].attributes) == {}
    for message in messages:
        assert message.message_id
        published = message.publish_time
        assert before - timedelta(seconds=5) <= published <= datetime.now(UTC)
    # Without a dead-letter policy Pub/Sub leaves delivery_attempt unset.
    assert [m.delivery_attempt for m in received] == [0, 0, 0]


def test_unacked_message_is_redelivered_after_the_ack_deadline(
    pubsub_backend: PubSubBackend,
) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=2)
    pubsub_backend.publish(topic, [b"unacked"])

    first = _pull(pubsub_backend, sub)
    leased_at = time.monotonic()
    assert _pull_now(pubsub_backend, sub) == []  # leased: nobody else gets it meanwhile
    again = _pull(pubsub_backend, sub, timeout=8.0)
    waited = time.monotonic() - leased_at
    _ack(pubsub_backend, sub, again)

    assert [m.message.data for m in first] == [b"unacked"]
    assert [m.message.data for m in again] == [b"unacked"]
    assert again[0].message.message_id == first[0].message.message_id
    assert again[0].ack_id != first[0].ack_id
    assert 1.5 <= waited < 6.0


def test_modify_ack_deadline_extends_the_lease(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=1)
    pubsub_backend.publish(topic, [b"slow work"])
    received = _pull(pubsub_backend, sub)

    pubsub_backend.subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[received[0].ack_id], ack_deadline_seconds=5
    )
    time.sleep(2.0)  # twice the subscription's deadline
    during = _pull_now(pubsub_backend, sub)
    _ack(pubsub_backend, sub, received)
    time.sleep(1.2)

    assert during == []
    assert _pull_now(pubsub_backend, sub) == []


def test_modify_ack_deadline_can_shorten_the_lease(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=60)
    pubsub_backend.publish(topic, [b"short"])
    first = _pull(pubsub_backend, sub)

    pubsub_backend.subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[first[0].ack_id], ack_deadline_seconds=1
    )
    again = _pull(pubsub_backend, sub, timeout=5.0)
    _ack(pubsub_backend, sub, again)

    assert [m.message.data for m in again] == [b"short"]


def test_modify_ack_deadline_zero_redelivers_at_once(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=60)
    pubsub_backend.publish(topic, [b"nacked"])
    first = _pull(pubsub_backend, sub)

    pubsub_backend.subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[first[0].ack_id], ack_deadline_seconds=0
    )
    again = _pull_now(pubsub_backend, sub)
    _ack(pubsub_backend, sub, again)

    assert [m.message.data for m in again] == [b"nacked"]
    assert again[0].message.message_id == first[0].message.message_id


def test_acked_messages_are_not_redelivered(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=1)
    pubsub_backend.publish(topic, [b"a", b"b"])
    received = _pull(pubsub_backend, sub)
    _ack(pubsub_backend, sub, received[:1])

    time.sleep(1.5)  # past the deadline: only the unacked one comes back
    again = _pull(pubsub_backend, sub, timeout=3.0)
    _ack(pubsub_backend, sub, again)
    time.sleep(1.5)

    assert [m.message.data for m in again] == [b"b"]
    assert _pull_now(pubsub_backend, sub) == []


def test_stale_ack_id_does_not_ack_the_redelivered_message(
    pubsub_backend: PubSubBackend,
) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=60)
    pubsub_backend.publish(topic, [b"twice"])
    first = _pull(pubsub_backend, sub)
    pubsub_backend.subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[first[0].ack_id], ack_deadline_seconds=0
    )
    second = _pull_now(pubsub_backend, sub)

    _ack(pubsub_backend, sub, first)  # accepted, but refers to the old delivery
    pubsub_backend.subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[second[0].ack_id], ack_deadline_seconds=0
    )
    third = _pull_now(pubsub_backend, sub)
    _ack(pubsub_backend, sub, third)

    assert [m.message.data for m in third] == [b"twice"]


def test_max_messages_is_respected(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend)
    pubsub_backend.publish(topic, [f"m{i}".encode() for i in range(10)])

    three = _pull(pubsub_backend, sub, max_messages=3)
    rest = _pull(pubsub_backend, sub, max_messages=100)
    _ack(pubsub_backend, sub, three + rest)

    assert len(three) == 3
    assert sorted(m.message.data for m in three + rest) == sorted(
        f"m{i}".encode() for i in range(10)
    )


def test_batch_of_hundreds_arrives_once_in_pulls_of_at_most_100(
    pubsub_backend: PubSubBackend,
) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=60)
    payloads = [f"event-{i:04d}".encode() for i in range(1500)]
    ids = pubsub_backend.publish(topic, payloads)

    seen: list[bytes] = []
    sizes: list[int] = []
    while len(seen) < len(payloads):
        batch = _pull(pubsub_backend, sub, max_messages=1000, timeout=5.0)
        assert batch, f"pull came back empty after {len(seen)} messages"
        sizes.append(len(batch))
        seen.extend(m.message.data for m in batch)
        _ack(pubsub_backend, sub, batch)

    assert len(set(ids)) == len(payloads)
    assert sorted(seen) == payloads
    assert max(sizes) == 100  # both the emulator and the stand-in cap a Pull at 100
    assert _pull_now(pubsub_backend, sub) == []


def test_empty_pull_waits_until_a_second_before_its_deadline(
    pubsub_backend: PubSubBackend,
) -> None:
    _, sub = _setup(pubsub_backend)

    started = time.monotonic()
    received = _pull(pubsub_backend, sub, timeout=2.5)
    waited = time.monotonic() - started

    assert received == []
    assert 1.2 <= waited < 2.4


def test_waiting_pull_returns_as_soon_as_a_message_arrives(
    pubsub_backend: PubSubBackend,
) -> None:
    topic, sub = _setup(pubsub_backend)
    timer = threading.Timer(0.5, pubsub_backend.publish, args=(topic, [b"late"]))

    started = time.monotonic()
    timer.start()
    received = _pull(pubsub_backend, sub, timeout=10.0)
    waited = time.monotonic() - started
    timer.join()
    _ack(pubsub_backend, sub, received)

    assert [m.message.data for m in received] == [b"late"]
    assert waited < 3.0


def test_dead_letter_policy_counts_attempts_and_forwards(
    pubsub_backend: PubSubBackend,
) -> None:
    dead_topic, dead_sub = _setup(pubsub_backend)
    topic, sub = _setup(pubsub_backend, ack_deadline=60, dead_letter_topic=dead_topic)
    pubsub_backend.publish(topic, [b"poison"], attributes={"service": "api"})

    attempts = []
    for _ in range(5):
        received = _pull(pubsub_backend, sub)
        attempts.extend(m.delivery_attempt for m in received)
        pubsub_backend.subscriber.modify_ack_deadline(
            subscription=sub, ack_ids=[m.ack_id for m in received], ack_deadline_seconds=0
        )
    # The emulator forwards an exhausted message on the next Pull from its subscription.
    assert _pull_now(pubsub_backend, sub) == []
    dead = _pull(pubsub_backend, dead_sub)
    _ack(pubsub_backend, dead_sub, dead)

    assert attempts == [1, 2, 3, 4, 5]
    assert [m.message.data for m in dead] == [b"poison"]
    attributes = dict(dead[0].message.attributes)
    assert attributes["service"] == "api"
    assert attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert attributes["CloudPubSubDeadLetterSourceSubscription"] == sub.rsplit("/", 1)[1]
    assert attributes["CloudPubSubDeadLetterSourceSubscriptionProject"] == "triage-test"


def test_streaming_pull_subscriber_receives_and_acks(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=10)
    payloads = [f"stream-{i}".encode() for i in range(200)]
    received: list[bytes] = []
    attributes: list[dict[str, str]] = []
    lock = threading.Lock()
    all_in = threading.Event()

    def callback(message: pubsub_v1.subscriber.message.Message) -> None:
        with lock:
            received.append(message.data)
            attributes.append(dict(message.attributes))
            if len(received) >= len(payloads):
                all_in.set()
        message.ack()

    future = pubsub_backend.subscriber.subscribe(sub, callback)
    try:
        pubsub_backend.publish(topic, payloads, attributes={"kind": "stream"})
        assert all_in.wait(30), f"only {len(received)} of {len(payloads)} arrived"
    finally:
        future.cancel()
        future.result(timeout=30)

    assert sorted(received) == sorted(payloads)
    assert all(a == {"kind": "stream"} for a in attributes)


def test_errors_match(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend)
    missing_topic = pubsub_backend.topic_path(pubsub_backend.unique_name("missing"))
    missing_sub = pubsub_backend.subscription_path(pubsub_backend.unique_name("missing"))
    publisher, subscriber = pubsub_backend.publisher, pubsub_backend.subscriber
    raw = pubsub_backend.raw_publisher

    with pytest.raises(exceptions.AlreadyExists):
        publisher.create_topic(name=topic)
    with pytest.raises(exceptions.AlreadyExists):
        subscriber.create_subscription(request={"name": sub, "topic": topic})
    with pytest.raises(exceptions.NotFound):
        publisher.get_topic(topic=missing_topic)
    with pytest.raises(exceptions.NotFound):
        raw.publish(topic=missing_topic, messages=[{"data": b"x"}])
    with pytest.raises(exceptions.NotFound):
        subscriber.create_subscription(request={"name": missing_sub, "topic": missing_topic})
    with pytest.raises(exceptions.NotFound):
        subscriber.pull(subscription=missing_sub, max_messages=1, timeout=5)
    with pytest.raises(exceptions.InvalidArgument):
        raw.publish(topic=topic, messages=[{"data": b"x"}] * 1001)
    with pytest.raises(exceptions.InvalidArgument):
        raw.publish(topic=topic, messages=[{"data": b""}])
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.acknowledge(subscription=sub, ack_ids=["not-an-ack-id"])
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.acknowledge(subscription=sub, ack_ids=[])
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.modify_ack_deadline(subscription=sub, ack_ids=[], ack_deadline_seconds=5)
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.modify_ack_deadline(
            subscription=sub, ack_ids=["not-an-ack-id"], ack_deadline_seconds=5
        )
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.create_subscription(
            request={"name": missing_sub, "topic": topic, "ack_deadline_seconds": 601}
        )


def test_subscription_defaults_and_deletion(pubsub_backend: PubSubBackend) -> None:
    topic, sub = _setup(pubsub_backend, ack_deadline=0)
    subscriber = pubsub_backend.subscriber

    created = subscriber.get_subscription(subscription=sub)
    pubsub_backend.publisher.delete_topic(topic=topic)
    orphan = subscriber.get_subscription(subscription=sub)
    subscriber.delete_subscription(subscription=sub)

    assert created.ack_deadline_seconds == 10
    assert created.topic == topic
    assert orphan.topic == "_deleted-topic_"
    with pytest.raises(exceptions.NotFound):
        subscriber.get_subscription(subscription=sub)
    with pytest.raises(exceptions.NotFound):
        subscriber.delete_subscription(subscription=sub)
