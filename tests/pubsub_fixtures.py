"""Pytest plugin: a Pub/Sub endpoint to test against, as the fixture ``pubsub_backend``.

Enable it from ``tests/conftest.py`` with ``pytest_plugins = ["tests.pubsub_fixtures"]``.

``pubsub_backend`` is session-scoped and parametrized over the backends:

* ``standin``: ``triage_sandbox.pubsub_standin.PubSubStandIn``, always present;
* ``emulator``: Google's Pub/Sub emulator. When it is not installed the parameter is left
  out of the collection (not skipped), unless ``CI`` is set: in CI a missing emulator is
  collected and fails, like an emulator that is installed but does not start.

Both speak the real gRPC API; the backend hands out real ``google-cloud-pubsub`` clients
bound to it through an insecure channel, so nothing touches ``os.environ``. Code that builds
its own clients from ``PUBSUB_EMULATOR_HOST`` can run inside ``with backend.env():``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
import pytest
from google.api_core.exceptions import AlreadyExists
from google.cloud import pubsub_v1
from google.pubsub_v1 import PublisherClient as GapicPublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
from triage_sandbox.pubsub_emulator import PubSubEmulator, emulator_available
from triage_sandbox.pubsub_standin import PubSubStandIn

PROJECT = "triage-test"
PUBLISH_BATCH = 1000  # the most messages one Publish call may carry
_names = itertools.count(1)


def backend_kinds() -> list[str]:
    """The backends this machine runs the Pub/Sub tests against."""
    kinds = ["standin"]
    if emulator_available() or os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        kinds.append("emulator")
    return kinds


def insecure_publisher(host: str) -> pubsub_v1.PublisherClient:
    """A real publisher client for an emulator-style endpoint ("host:port", no TLS, no auth)."""
    transport = PublisherGrpcTransport(channel=grpc.insecure_channel(host))
    return pubsub_v1.PublisherClient(transport=transport)


def insecure_subscriber(host: str) -> pubsub_v1.SubscriberClient:
    """A real subscriber client for an emulator-style endpoint ("host:port", no TLS, no auth)."""
    transport = SubscriberGrpcTransport(channel=grpc.insecure_channel(host))
    return pubsub_v1.SubscriberClient(transport=transport)


@dataclass
class PubSubBackend:
    """A running Pub/Sub endpoint plus real clients bound to it."""

    kind: str
    host: str
    project: str = PROJECT
    publisher: pubsub_v1.PublisherClient = field(init=False)
    subscriber: pubsub_v1.SubscriberClient = field(init=False)
    # The generated client: Publish one request at a time, no batching, no futures.
    raw_publisher: GapicPublisherClient = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = insecure_publisher(self.host)
        self.subscriber = insecure_subscriber(self.host)
        self.raw_publisher = GapicPublisherClient(
            transport=PublisherGrpcTransport(channel=grpc.insecure_channel(self.host))
        )

    def unique_name(self, prefix: str) -> str:
        """A topic or subscription id no other test in this session uses."""
        return f"{prefix}-{os.getpid()}-{next(_names)}"

    def topic_path(self, topic: str) -> str:
        return pubsub_v1.PublisherClient.topic_path(self.project, topic)

    def subscription_path(self, sub: str) -> str:
        return pubsub_v1.SubscriberClient.subscription_path(self.project, sub)

    def create_topic_and_subscription(
        self,
        topic: str,
        sub: str,
        ack_deadline: int = 10,
        *,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = 5,
    ) -> tuple[str, str]:
        """Create ``topic`` (if needed) and a pull subscription ``sub`` on it; return paths."""
        topic_path = self.topic_path(topic)
        sub_path = self.subscription_path(sub)
        with contextlib.suppress(AlreadyExists):
            self.publisher.create_topic(name=topic_path)
        request: dict[str, object] = {
            "name": sub_path,
            "topic": topic_path,
            "ack_deadline_seconds": ack_deadline,
        }
        if dead_letter_topic is not None:
            request["dead_letter_policy"] = {
                "dead_letter_topic": dead_letter_topic,
                "max_delivery_attempts": max_delivery_attempts,
            }
        self.subscriber.create_subscription(request=request)
        return topic_path, sub_path

    def publish(
        self,
        topic_path: str,
        payloads: Sequence[bytes],
        attributes: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Publish synchronously in batches of up to 1000; return the message ids in order."""
        ids: list[str] = []
        attrs = dict(attributes or {})
        for start in range(0, len(payloads), PUBLISH_BATCH):
            batch = payloads[start : start + PUBLISH_BATCH]
            response = self.raw_publisher.publish(
                topic=topic_path,
                messages=[{"data": data, "attributes": attrs} for data in batch],
            )
            ids.extend(response.message_ids)
        return ids

    @contextmanager
    def env(self) -> Iterator[None]:
        """Set ``PUBSUB_EMULATOR_HOST`` to this backend for the ``with`` block."""
        previous = os.environ.get("PUBSUB_EMULATOR_HOST")
        os.environ["PUBSUB_EMULATOR_HOST"] = self.host
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("PUBSUB_EMULATOR_HOST", None)
            else:
                os.environ["PUBSUB_EMULATOR_HOST"] = previous

    def close(self) -> None:
        self.publisher.stop()
        self.subscriber.close()
        self.raw_publisher.transport.close()


@pytest.fixture(scope="session", params=backend_kinds())
def pubsub_backend(request: pytest.FixtureRequest) -> Iterator[PubSubBackend]:
    """A running Pub/Sub backend (stand-in or emulator), shared by the session."""
    server: PubSubStandIn | PubSubEmulator
    if request.param == "standin":
        server = PubSubStandIn()
        host = server.start()
    else:
        server = PubSubEmulator()
        host = server.start()  # raises (the test errors) if missing or broken: never a skip
    backend = PubSubBackend(kind=request.param, host=host)
    try:
        yield backend
    finally:
        backend.close()
        server.stop()
