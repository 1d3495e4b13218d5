"""An in-process Pub/Sub v1 gRPC server for tests and the demo.

The stand-in speaks the real wire protocol, so the real ``google-cloud-pubsub`` client drives it
(set ``PUBSUB_EMULATOR_HOST`` to the address ``start()`` returns, or give the client a transport
over an insecure channel). It implements what the bot and its tests use:

* Publisher: CreateTopic, GetTopic, DeleteTopic, Publish.
* Subscriber: CreateSubscription, GetSubscription, DeleteSubscription, Pull, Acknowledge,
  ModifyAckDeadline and StreamingPull.

Behaviour follows Google's Pub/Sub emulator (checked against emulator 0.8.20), not production
Pub/Sub, where the two differ:

* ``ack_deadline_seconds`` at creation: 0 means 10; 1..600 is kept as given (production
  rejects values under 10); anything else is INVALID_ARGUMENT.
* Pull returns at most 100 messages whatever ``max_messages`` asks for. With nothing to
  deliver it waits until a message arrives or until one second before the call's deadline
  (at once if less than a second is left, or when ``return_immediately`` is set).
* Acknowledge and ModifyAckDeadline ignore stale ack ids (an ack id from an earlier delivery
  does not ack the redelivered message) and reject ack ids that are not ours.
* Acknowledge and ModifyAckDeadline with no ack ids are INVALID_ARGUMENT.
* ``delivery_attempt`` is only filled in when the subscription has a dead-letter policy;
  after ``max_delivery_attempts`` (minimum 5) deliveries the message is republished to the
  dead-letter topic with the ``CloudPubSubDeadLetterSource*`` attributes. The stand-in does
  that as soon as the last attempt is nacked or expires (as production does, in the
  background); the emulator only does it on the next Pull from the source subscription.
* Publish takes at most 1000 messages, and every message needs data or attributes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import duration_pb2, empty_pb2, timestamp_pb2
from google.pubsub_v1.types import pubsub

from triage_sandbox.service import LocalService

# Raw protobuf classes: much cheaper than the proto-plus wrappers on the hot path.
_Topic = pubsub.Topic.pb()
_Subscription = pubsub.Subscription.pb()
_PubsubMessage = pubsub.PubsubMessage.pb()
_ReceivedMessage = pubsub.ReceivedMessage.pb()
_GetTopicRequest = pubsub.GetTopicRequest.pb()
_DeleteTopicRequest = pubsub.DeleteTopicRequest.pb()
_PublishRequest = pubsub.PublishRequest.pb()
_PublishResponse = pubsub.PublishResponse.pb()
_GetSubscriptionRequest = pubsub.GetSubscriptionRequest.pb()
_DeleteSubscriptionRequest = pubsub.DeleteSubscriptionRequest.pb()
_PullRequest = pubsub.PullRequest.pb()
_PullResponse = pubsub.PullResponse.pb()
_AcknowledgeRequest = pubsub.AcknowledgeRequest.pb()
_ModifyAckDeadlineRequest = pubsub.ModifyAckDeadlineRequest.pb()
_StreamingPullRequest = pubsub.StreamingPullRequest.pb()
_StreamingPullResponse = pubsub.StreamingPullResponse.pb()

DEFAULT_ACK_DEADLINE_SECONDS = 10
MAX_ACK_DEADLINE_SECONDS = 600
MIN_MAX_DELIVERY_ATTEMPTS = 5
DEFAULT_MAX_DELIVERY_ATTEMPTS = 5
MAX_PUBLISH_BATCH = 1000
MAX_MESSAGES_PER_PULL = 100
MESSAGE_RETENTION_SECONDS = 7 * 24 * 3600
DELETED_TOPIC = "_deleted-topic_"
# The emulator answers an empty long-poll Pull this long before the caller's deadline.
_PULL_DEADLINE_MARGIN = 1.0
# How long a Pull without any deadline waits for messages.
_PULL_WAIT_WITHOUT_DEADLINE = 60.0
# How often a StreamingPull with nothing to send checks whether the client went away.
_STREAM_POLL_SECONDS = 0.5


class _RpcError(Exception):
    """Raised inside the state machine; turned into a gRPC status by the servicer."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Stored:
    """One published message as one subscription sees it."""

    message: Any  # PubsubMessage (raw protobuf), shared between subscriptions
    attempts: int = 0


@dataclass(slots=True)
class _Lease:
    stored: _Stored
    deadline: float  # time.monotonic()


@dataclass
class _SubState:
    proto: Any  # Subscription (raw protobuf)
    ready: deque[_Stored] = field(default_factory=deque)
    leases: dict[str, _Lease] = field(default_factory=dict)
    # (deadline, ack_id); entries whose lease is gone or moved are skipped lazily.
    expiries: list[tuple[float, str]] = field(default_factory=list)
    deleted: bool = False

    @property
    def name(self) -> str:
        return str(self.proto.name)


def _now_timestamp() -> Any:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def _project_and_id(path: str) -> tuple[str, str]:
    parts = path.split("/")
    if len(parts) == 4 and parts[0] == "projects" and parts[1] and parts[3]:
        return parts[1], parts[3]
    return "", path


class _Broker:
    """Topics, subscriptions and leases behind one lock; every method is thread-safe."""

    def __init__(self, max_messages_per_pull: int = MAX_MESSAGES_PER_PULL) -> None:
        self._cond = threading.Condition()
        self._topics: dict[str, Any] = {}
        self._subs: dict[str, _SubState] = {}
        self._message_ids = itertools.count(1)
        self._ack_ids = itertools.count(1)
        self._max_per_pull = max_messages_per_pull
        self.closed = False

    # -- topics ------------------------------------------------------------------------------

    def create_topic(self, topic: Any) -> Any:
        _check_name(topic.name, "topics")
        with self._cond:
            if topic.name in self._topics:
                raise _RpcError(grpc.StatusCode.ALREADY_EXISTS, "Topic already exists")
            stored = _Topic()
            stored.CopyFrom(topic)
            self._topics[topic.name] = stored
            return stored

    def get_topic(self, name: str) -> Any:
        with self._cond:
            return self._topic(name)

    def delete_topic(self, name: str) -> None:
        with self._cond:
            self._topic(name)
            del self._topics[name]
            for sub in self._subs.values():
                if sub.proto.topic == name:
                    sub.proto.topic = DELETED_TOPIC

    def publish(self, topic: str, messages: Any) -> list[str]:
        if not messages:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "No messages to publish")
        if len(messages) > MAX_PUBLISH_BATCH:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Too many messages to publish")
        if any(not m.data and not m.attributes for m in messages):
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Some messages are empty")
        with self._cond:
            self._topic(topic)
            return self._publish_locked(topic, messages)

    def _publish_locked(self, topic: str, messages: Any) -> list[str]:
        publish_time = _now_timestamp()
        targets = [s for s in self._subs.values() if s.proto.topic == topic]
        ids: list[str] = []
        for message in messages:
            stored = _PubsubMessage()
            stored.CopyFrom(message)
            stored.message_id = str(next(self._message_ids))
            stored.publish_time.CopyFrom(publish_time)
            ids.append(stored.message_id)
            for sub in targets:
                sub.ready.append(_Stored(stored))
        if targets:
            self._cond.notify_all()
        return ids

    def _topic(self, name: str) -> Any:
        topic = self._topics.get(name)
        if topic is None:
            raise _RpcError(grpc.StatusCode.NOT_FOUND, "Topic not found")
        return topic

    # -- subscriptions -----------------------------------------------------------------------

    def create_subscription(self, request: Any) -> Any:
        _check_name(request.name, "subscriptions")
        proto = _Subscription()
        proto.CopyFrom(request)
        deadline = proto.ack_deadline_seconds
        if deadline == 0:
            proto.ack_deadline_seconds = DEFAULT_ACK_DEADLINE_SECONDS
        elif not 0 < deadline <= MAX_ACK_DEADLINE_SECONDS:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "ack_deadline_secs out of bounds")
        if not proto.HasField("message_retention_duration"):
            proto.message_retention_duration.CopyFrom(
                duration_pb2.Duration(seconds=MESSAGE_RETENTION_SECONDS)
            )
        if proto.HasField("dead_letter_policy"):
            policy = proto.dead_letter_policy
            if policy.max_delivery_attempts == 0:
                policy.max_delivery_attempts = DEFAULT_MAX_DELIVERY_ATTEMPTS
            elif policy.max_delivery_attempts < MIN_MAX_DELIVERY_ATTEMPTS:
                raise _RpcError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    "The value for max_delivery_attempts is too small. You passed "
                    f"{policy.max_delivery_attempts} in the request, but the minimum value "
                    f"is {MIN_MAX_DELIVERY_ATTEMPTS}.",
                )
        with self._cond:
            self._topic(proto.topic)
            if proto.name in self._subs:
                raise _RpcError(grpc.StatusCode.ALREADY_EXISTS, "Subscription already exists")
            self._subs[proto.name] = _SubState(proto)
            return proto

    def get_subscription(self, name: str) -> Any:
        with self._cond:
            return self._sub(name).proto

    def delete_subscription(self, name: str) -> None:
        with self._cond:
            sub = self._sub(name)
            sub.deleted = True
            del self._subs[name]
            self._cond.notify_all()

    def _sub(self, name: str) -> _SubState:
        sub = self._subs.get(name)
        if sub is None:
            raise _RpcError(grpc.StatusCode.NOT_FOUND, "Subscription does not exist")
        return sub

    # -- delivery ----------------------------------------------------------------------------

    def pull(self, name: str, max_messages: int, wait: float, ack_deadline: float) -> list[Any]:
        """Lease up to ``max_messages``; wait up to ``wait`` seconds for the first one."""
        if max_messages <= 0:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "No max_messages specified")
        limit = min(max_messages, self._max_per_pull)
        give_up = time.monotonic() + wait
        with self._cond:
            while True:
                sub = self._sub(name)
                now = time.monotonic()
                self._expire_locked(sub, now)
                if sub.ready:
                    return self._lease_locked(sub, limit, now, ack_deadline)
                if self.closed or now >= give_up:
                    return []
                self._cond.wait(self._wait_time(sub, now, give_up))

    def wait_for_messages(self, name: str, timeout: float) -> None:
        """Block until the subscription may have something to deliver, or ``timeout``."""
        give_up = time.monotonic() + timeout
        with self._cond:
            sub = self._sub(name)
            now = time.monotonic()
            self._expire_locked(sub, now)
            if not sub.ready and not self.closed and not sub.deleted and now < give_up:
                self._cond.wait(self._wait_time(sub, now, give_up))

    def lease_now(self, name: str, limit: int, ack_deadline: float) -> list[Any]:
        with self._cond:
            sub = self._sub(name)
            now = time.monotonic()
            self._expire_locked(sub, now)
            return self._lease_locked(sub, limit, now, ack_deadline) if sub.ready else []

    def outstanding(self, name: str, ack_ids: set[str]) -> set[str]:
        """The ack ids of ``ack_ids`` that are still leased (neither acked nor expired)."""
        with self._cond:
            sub = self._subs.get(name)
            if sub is None:
                return set()
            self._expire_locked(sub, time.monotonic())
            return {ack_id for ack_id in ack_ids if ack_id in sub.leases}

    def unacked(self, name: str) -> int:
        """Messages of subscription ``name`` not acknowledged yet: waiting or leased."""
        with self._cond:
            sub = self._subs.get(name)
            if sub is None:
                return 0
            self._expire_locked(sub, time.monotonic())
            return len(sub.ready) + len(sub.leases)

    def acknowledge(self, name: str, ack_ids: Any) -> None:
        with self._cond:
            sub = self._sub(name)
            _check_ack_ids(sub, ack_ids)
            for ack_id in ack_ids:
                sub.leases.pop(ack_id, None)

    def modify_ack_deadline(self, name: str, ack_ids: Any, seconds: int) -> None:
        if seconds < 0:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Ack deadline cannot be negative")
        with self._cond:
            sub = self._sub(name)
            _check_ack_ids(sub, ack_ids)
            self._modify_locked(sub, ack_ids, [seconds] * len(ack_ids))

    def stream_update(self, name: str, request: Any) -> None:
        """Apply the acks and deadline changes a StreamingPull request carries."""
        if len(request.modify_deadline_ack_ids) != len(request.modify_deadline_seconds):
            raise _RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "modify_deadline_ack_ids and modify_deadline_seconds differ in length",
            )
        with self._cond:
            sub = self._subs.get(name)
            if sub is None:
                return
            for ack_id in request.ack_ids:
                sub.leases.pop(ack_id, None)
            self._modify_locked(
                sub, request.modify_deadline_ack_ids, list(request.modify_deadline_seconds)
            )

    def wake_all(self) -> None:
        """Wake every waiting Pull and StreamingPull so they re-check their state."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def _modify_locked(self, sub: _SubState, ack_ids: Any, seconds: list[int]) -> None:
        now = time.monotonic()
        nacked: list[_Stored] = []
        for ack_id, secs in zip(ack_ids, seconds, strict=True):
            lease = sub.leases.get(ack_id)
            if lease is None:
                continue
            if secs <= 0:
                del sub.leases[ack_id]
                nacked.append(lease.stored)
            else:
                lease.deadline = now + min(secs, MAX_ACK_DEADLINE_SECONDS)
                heapq.heappush(sub.expiries, (lease.deadline, ack_id))
        if nacked:
            self._requeue_locked(sub, nacked)
            self._cond.notify_all()

    def _expire_locked(self, sub: _SubState, now: float) -> None:
        expired: list[_Stored] = []
        heap = sub.expiries
        while heap and heap[0][0] <= now:
            deadline, ack_id = heapq.heappop(heap)
            lease = sub.leases.get(ack_id)
            if lease is not None and lease.deadline == deadline:
                del sub.leases[ack_id]
                expired.append(lease.stored)
        if expired:
            self._requeue_locked(sub, expired)

    def _requeue_locked(self, sub: _SubState, stored: list[_Stored]) -> None:
        """Put messages back for redelivery, or dead-letter those out of attempts."""
        policy = sub.proto.dead_letter_policy if sub.proto.HasField("dead_letter_policy") else None
        again: list[_Stored] = []
        for item in stored:
            if policy is not None and item.attempts >= policy.max_delivery_attempts:
                self._dead_letter_locked(sub, item, policy.dead_letter_topic)
            else:
                again.append(item)
        sub.ready.extendleft(reversed(again))

    def _dead_letter_locked(self, sub: _SubState, item: _Stored, topic: str) -> None:
        if topic not in self._topics:
            return  # production keeps retrying; the emulator drops it, and so do we
        project, sub_id = _project_and_id(sub.name)
        message = _PubsubMessage()
        message.data = item.message.data
        message.attributes.update(item.message.attributes)
        message.ordering_key = item.message.ordering_key
        publish_time = item.message.publish_time.ToDatetime()
        message.attributes.update(
            {
                "CloudPubSubDeadLetterSourceTopicPublishTime": publish_time.strftime(
                    "%Y-%m-%dT%H:%M:%S.%f"
                )[:-3]
                + "Z",
                "CloudPubSubDeadLetterSourceSubscription": sub_id,
                "CloudPubSubDeadLetterSourceSubscriptionProject": project,
                "CloudPubSubDeadLetterSourceDeliveryCount": str(item.attempts),
            }
        )
        self._publish_locked(topic, [message])

    def _lease_locked(
        self, sub: _SubState, limit: int, now: float, ack_deadline: float
    ) -> list[Any]:
        with_attempts = sub.proto.HasField("dead_letter_policy")
        deadline = now + ack_deadline
        out: list[Any] = []
        while sub.ready and len(out) < limit:
            item = sub.ready.popleft()
            item.attempts += 1
            ack_id = f"{sub.name}:{next(self._ack_ids)}"
            sub.leases[ack_id] = _Lease(item, deadline)
            heapq.heappush(sub.expiries, (deadline, ack_id))
            received = _ReceivedMessage(ack_id=ack_id)
            received.message.CopyFrom(item.message)
            if with_attempts:
                received.delivery_attempt = item.attempts
            out.append(received)
        return out

    def _wait_time(self, sub: _SubState, now: float, give_up: float) -> float:
        wait = give_up - now
        if sub.expiries:
            wait = min(wait, max(sub.expiries[0][0] - now, 0.0) + 0.001)
        return max(wait, 0.001)


def _check_name(name: str, kind: str) -> None:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != kind or not parts[3]:
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid resource name: {name!r}")


def _check_ack_ids(sub: _SubState, ack_ids: Any) -> None:
    if not ack_ids:
        raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "No ack ids specified.")
    prefix = sub.name + ":"
    for ack_id in ack_ids:
        if not (ack_id.startswith(prefix) and ack_id[len(prefix) :].isdigit()):
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid ack id (ack_id={ack_id})")


def _pull_wait(request: Any, context: grpc.ServicerContext) -> float:
    if request.return_immediately:
        return 0.0
    remaining = context.time_remaining()
    if remaining is None:
        return _PULL_WAIT_WITHOUT_DEADLINE
    return max(remaining - _PULL_DEADLINE_MARGIN, 0.0)


class _Servicer:
    """gRPC method implementations over a broker (raw protobuf in, raw protobuf out)."""

    def __init__(self, broker: _Broker) -> None:
        self._broker = broker

    def create_topic(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._broker.create_topic(request)

    def get_topic(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._broker.get_topic(request.topic)

    def delete_topic(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._broker.delete_topic(request.topic)
        return empty_pb2.Empty()

    def publish(self, request: Any, context: grpc.ServicerContext) -> Any:
        ids = self._broker.publish(request.topic, request.messages)
        return _PublishResponse(message_ids=ids)

    def create_subscription(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._broker.create_subscription(request)

    def get_subscription(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._broker.get_subscription(request.subscription)

    def delete_subscription(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._broker.delete_subscription(request.subscription)
        return empty_pb2.Empty()

    def pull(self, request: Any, context: grpc.ServicerContext) -> Any:
        sub = self._broker.get_subscription(request.subscription)
        received = self._broker.pull(
            request.subscription,
            request.max_messages,
            _pull_wait(request, context),
            float(sub.ack_deadline_seconds),
        )
        return _PullResponse(received_messages=received)

    def acknowledge(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._broker.acknowledge(request.subscription, request.ack_ids)
        return empty_pb2.Empty()

    def modify_ack_deadline(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._broker.modify_ack_deadline(
            request.subscription, request.ack_ids, request.ack_deadline_seconds
        )
        return empty_pb2.Empty()

    def streaming_pull(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        broker = self._broker
        first = next(requests, None)
        if first is None or not first.subscription:
            raise _RpcError(grpc.StatusCode.INVALID_ARGUMENT, "No subscription given")
        name = first.subscription
        sub = broker.get_subscription(name)
        deadline = float(first.stream_ack_deadline_seconds or sub.ack_deadline_seconds)
        max_outstanding = first.max_outstanding_messages
        broker.stream_update(name, first)
        done = threading.Event()
        errors: list[_RpcError] = []

        def read_requests() -> None:
            try:
                for request in requests:
                    broker.stream_update(name, request)
            except _RpcError as exc:
                errors.append(exc)
            except Exception:  # the client went away mid-read: just end the stream
                pass
            finally:
                done.set()
                broker.wake_all()

        reader = threading.Thread(target=read_requests, name="standin-streaming-pull", daemon=True)
        reader.start()
        delivered: set[str] = set()
        while not done.is_set() and context.is_active() and not broker.closed:
            limit = MAX_MESSAGES_PER_PULL
            if max_outstanding > 0:
                delivered = broker.outstanding(name, delivered)
                limit = min(limit, max_outstanding - len(delivered))
            batch = broker.lease_now(name, limit, deadline) if limit > 0 else []
            if batch:
                delivered.update(m.ack_id for m in batch)
                yield _StreamingPullResponse(received_messages=batch)
            else:
                broker.wait_for_messages(name, _STREAM_POLL_SECONDS)
        if errors:
            raise errors[0]


_Handler = Callable[[Any, grpc.ServicerContext], Any]


def _unary(method: _Handler, request_type: Any) -> grpc.RpcMethodHandler:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request, context)
        except _RpcError as exc:
            context.abort(exc.code, exc.message)

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=_serialize,
    )


def _stream(method: _Handler, request_type: Any) -> grpc.RpcMethodHandler:
    def handle(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from method(requests, context)
        except _RpcError as exc:
            context.abort(exc.code, exc.message)

    return grpc.stream_stream_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=_serialize,
    )


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


def _generic_handlers(servicer: _Servicer) -> list[grpc.GenericRpcHandler]:
    publisher = {
        "CreateTopic": _unary(servicer.create_topic, _Topic),
        "GetTopic": _unary(servicer.get_topic, _GetTopicRequest),
        "DeleteTopic": _unary(servicer.delete_topic, _DeleteTopicRequest),
        "Publish": _unary(servicer.publish, _PublishRequest),
    }
    subscriber = {
        "CreateSubscription": _unary(servicer.create_subscription, _Subscription),
        "GetSubscription": _unary(servicer.get_subscription, _GetSubscriptionRequest),
        "DeleteSubscription": _unary(servicer.delete_subscription, _DeleteSubscriptionRequest),
        "Pull": _unary(servicer.pull, _PullRequest),
        "Acknowledge": _unary(servicer.acknowledge, _AcknowledgeRequest),
        "ModifyAckDeadline": _unary(servicer.modify_ack_deadline, _ModifyAckDeadlineRequest),
        "StreamingPull": _stream(servicer.streaming_pull, _StreamingPullRequest),
    }
    return [
        grpc.method_handlers_generic_handler("google.pubsub.v1.Publisher", publisher),
        grpc.method_handlers_generic_handler("google.pubsub.v1.Subscriber", subscriber),
    ]


class PubSubStandIn(LocalService):
    """The stand-in server. ``start()`` returns the "host:port" to point clients at.

    Usable as a context manager (``with PubSubStandIn() as standin: standin.host``).
    Methods the stand-in does not implement answer UNIMPLEMENTED.
    """

    def __init__(
        self,
        *,
        max_workers: int = 32,
        max_messages_per_pull: int = MAX_MESSAGES_PER_PULL,
    ) -> None:
        self._max_workers = max_workers
        self._max_messages_per_pull = max_messages_per_pull
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._broker: _Broker | None = None
        self._host: str | None = None

    @property
    def host(self) -> str:
        if self._host is None:
            raise RuntimeError("the Pub/Sub stand-in is not running")
        return self._host

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        with self._lock:
            if self._host is not None:
                raise RuntimeError(f"the Pub/Sub stand-in already runs on {self._host}")
            broker = _Broker(self._max_messages_per_pull)
            server = grpc.server(
                futures.ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="pubsub-standin"
                ),
                handlers=_generic_handlers(_Servicer(broker)),
                options=[
                    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
                    ("grpc.max_send_message_length", 32 * 1024 * 1024),
                ],
            )
            bound = server.add_insecure_port(f"{host}:{port}")
            if bound == 0:
                raise OSError(f"the Pub/Sub stand-in could not bind {host}:{port}")
            server.start()
            self._server, self._broker = server, broker
            self._host = f"{host}:{bound}"
            return self._host

    def unacked(self, subscription: str) -> int:
        """Messages of ``subscription`` (full path) not acknowledged yet, waiting or leased:
        lets a test see that a consumer acked what it took, without waiting out a deadline."""
        if self._broker is None:
            raise RuntimeError("the Pub/Sub stand-in is not running")
        return self._broker.unacked(subscription)

    def stop(self, grace: float = 0.5) -> None:
        with self._lock:
            server, broker = self._server, self._broker
            self._server = self._broker = None
            self._host = None
        if broker is not None:
            broker.close()
        if server is not None:
            server.stop(grace).wait()
