"""Wiring: settings -> Redis store, Pub/Sub puller, notifier, Bolt app, HTTP server."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import redis
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import Settings, SettingsError, load_settings
from bot.deps import Deps
from bot.grouping import make_fingerprinter
from bot.health import Health, check_eviction_policy, token_problem
from bot.http_server import HttpLimits, HttpServer, guard_slack
from bot.ingest.pull import Pipeline, Puller
from bot.ingest.push import CertCache, PushVerifier, handle_push
from bot.lifecycle import Lifecycle
from bot.logs import silence_body_loggers
from bot.merging import Merger
from bot.metrics import CONTENT_TYPE, Metrics
from bot.models import Destination, ErrorEvent, Timings
from bot.notify.notifier import Notifier
from bot.notify.pacing import ChannelPacer
from bot.notify.sender import TOKEN_REFUSED, Sender, make_client
from bot.oncall.service import OnCall
from bot.routing.config import ConfigError
from bot.routing.reload import ConfigHolder, FixedConfig
from bot.routing.router import Router
from bot.snoozes import GroupLifecycle
from bot.store.keys import Keys
from bot.store.merges import CachedMerges, MergeStore
from bot.store.oncall import OverrideStore
from bot.store.redis_store import Group, RedisStore, Retention
from bot.store.replay import ReplayGuard, request_id
from bot.store.subscriptions import CachedSubscriptions, SubscriptionStore

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.errorreporting.sync import ErrorReportingSync

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    app: App
    store: RedisStore
    notifier: Notifier
    puller: Puller | None
    deps: Deps
    pipeline: Pipeline
    config: ConfigHolder | None = None  # None: no routing config file
    router: Router | None = None
    push: PushVerifier | None = None
    er_sync: ErrorReportingSync | None = None
    metrics: Metrics = field(default_factory=Metrics)  # this runtime's /metrics
    health: Health | None = None


def env_timings(settings: Settings) -> Timings:
    """The timings of the environment (what applies without a routing config)."""
    return Timings(
        update_interval=settings.update_interval_s,
        group_wait=settings.group_wait_s,
        digest_threshold=settings.digest_threshold,
    )


def load_routing(settings: Settings) -> ConfigHolder | None:
    """The routing config named by TRIAGE_CONFIG (or ./triage.yml when present); None: every
    alert goes to DEFAULT_CHANNEL. A bad file stops start-up (ConfigError lists the problems)."""
    path = settings.triage_config or ("triage.yml" if os.path.exists("triage.yml") else None)
    return ConfigHolder(path, base=env_timings(settings)) if path else None


def make_subscriber(settings: Settings) -> Any:
    """A SubscriberClient; with PUBSUB_EMULATOR_HOST set, an insecure channel to the emulator."""
    from google.cloud import pubsub_v1

    if settings.pubsub_emulator_host:
        import grpc
        from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

        channel = grpc.insecure_channel(
            settings.pubsub_emulator_host,
            options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
        )
        return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    return pubsub_v1.SubscriberClient()


def make_redis(settings: Settings) -> Any:
    """A client for REDIS_URL: one server (Memorystore) or, with REDIS_CLUSTER, a cluster."""
    if settings.redis_cluster:
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(settings.redis_url, socket_timeout=10)
    return redis.Redis.from_url(settings.redis_url, socket_timeout=10, health_check_interval=30)


def build(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    with_puller: bool = True,
    pull_timeout: float = 10.0,
    metrics: Metrics | None = None,
) -> Runtime:
    silence_body_loggers()
    metrics = metrics if metrics is not None else Metrics()
    client = make_redis(settings)
    check_eviction_policy(client)
    retention = Retention(
        group_s=settings.retention_group_days * 86400,
        minutes_s=settings.retention_minutes_hours * 3600,
        hours_s=settings.retention_hours_days * 86400,
    )
    store = RedisStore(client, settings.redis_prefix, retention)
    holder = load_routing(settings)
    # One snapshot (routing config + timings) in force; a reload swaps it whole. Ingest, the
    # notifier and escalation all read it through `live.snapshot`.
    live: ConfigHolder | FixedConfig = holder or FixedConfig(env_timings(settings))
    subs = CachedSubscriptions(SubscriptionStore(client, settings.redis_prefix))
    default = Destination(settings.default_channel, locale=settings.locale, timezone=settings.tz)
    router = Router(
        lambda: live.snapshot,
        default,
        subs.get,
        persist=lambda gid, decision: store.set_fields(gid, decision.payload()),
    )
    web = make_client(settings.slack_bot_token, settings.slack_api_url)
    sender = Sender(web, pace=ChannelPacer(store, clock), metrics=metrics)
    oncall = OnCall(
        OverrideStore(client, Keys(settings.redis_prefix)),
        lambda: holder.current if holder else None,
        sender.usergroup_members,
        clock,
    )
    notifier = Notifier(
        store,
        sender,
        router,
        default_channel=settings.default_channel,
        clock=clock,
        config=lambda: live.snapshot,
        on_call=oncall.current,
    )
    lifecycle = Lifecycle(store, notifier, clock)
    merge_rules = MergeStore(client, store.keys)
    merge_cache = CachedMerges(merge_rules)
    incidents = _incidents(client, settings.redis_prefix, store, sender, router, oncall, lifecycle)
    deps = Deps(
        store,
        notifier,
        lifecycle,
        settings.locale,
        settings.tz,
        subs,
        clock=clock,
        config=lambda: holder.current if holder else None,
        oncall=oncall,
        merges=Merger(store, merge_rules, merge_cache, notifier, clock),
        incidents=incidents,
    )
    incidents.locale_and_tz = deps.locale_and_tz
    incidents.clock = clock
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=web,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        token_verification_enabled=_token_verified(web),
    )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:  # edge: Bolt's error handler
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)

    replays = ReplayGuard(client, store.keys)

    @app.middleware
    def drop_replays(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        rid = request_id(body)
        if rid is not None and not replays.first_time(rid):
            log.warning("dropped a replayed Slack request (%s)", body.get("type", "command"))
            return BoltResponse(status=200, body="")
        return next()

    import handlers

    handlers.register(app, deps)
    er_sync, on_result = None, None
    er_project = settings.error_reporting_project or (
        holder.current.error_reporting.project
        if holder and holder.current.error_reporting
        else None
    )
    er_enabled = settings.error_reporting_sync or bool(
        holder and holder.current.error_reporting and holder.current.error_reporting.sync
    )
    if er_enabled and er_project:
        from bot.errorreporting.wiring import build_sync

        er_sync, on_result = build_sync(
            client,
            settings.redis_prefix,
            er_project,
            settings.error_reporting_endpoint,
            store,
            lifecycle,
            clock,
        )
    fingerprinter = make_fingerprinter(
        lambda: holder.current if holder else None, settings.grouping_strategy
    )

    def group_lifecycle(event: ErrorEvent) -> GroupLifecycle:  # from the config in force
        cfg = holder.current if holder else None
        return cfg.lifecycle(event) if cfg is not None else GroupLifecycle()

    pipeline = Pipeline(
        store,
        fingerprinter,
        clock=clock,
        on_result=on_result,
        config=lambda: live.snapshot,
        router=router,
        lifecycle=group_lifecycle if holder is not None else None,
        metrics=metrics,
        merges=merge_cache.get,
    )
    puller = None
    if with_puller and settings.pubsub_subscription:
        puller = Puller(
            make_subscriber(settings),
            settings.pubsub_subscription,
            pipeline,
            threads=settings.pullers,
            max_messages=settings.pull_max_messages,
            pull_timeout=pull_timeout,
        )
    push = None
    if settings.push_audience and settings.push_service_account:
        push = PushVerifier(
            settings.push_audience,
            settings.push_service_account,
            CertCache(settings.push_certs_url),
        )
    health = Health(store, web, puller, sender)
    return Runtime(
        settings,
        app,
        store,
        notifier,
        puller,
        deps,
        pipeline,
        holder,
        router,
        push,
        er_sync,
        metrics,
        health,
    )


def _incidents(
    client: Any,
    prefix: str,
    store: RedisStore,
    sender: Sender,
    router: Any,
    oncall: OnCall,
    lifecycle: Lifecycle,
) -> Any:
    """Declared incidents (bot.incident): who to invite is the on-call of the teams that own
    each linked group (their rotation now, else their configured `oncall` handles)."""
    from bot.incident.service import IncidentService
    from bot.store.incidents import IncidentStore

    def owners(g: Group, now: float) -> list[str]:
        out: list[str] = []
        for tg in router(g):
            if tg.team:
                out.extend(oncall.current(tg.team, now))
            out.extend(tg.oncall)
        return out

    def act(gid: str, transition: str, user: str) -> bool:
        return lifecycle.act(gid, transition, user).ok

    return IncidentService(
        IncidentStore(client, Keys(prefix)),
        store,
        sender,
        owners=owners,
        act=act,
        refresh=lifecycle.notifier.refresh,
    )


def _token_verified(web: Any) -> bool:
    """Bolt checks the token (auth.test) at start-up and raises on any failure, so a Slack
    outage (5xx, 429) at start-up would stop the replica and, with it, ingest, which does not
    need Slack. Check it here: a refused token stops start-up with one line saying what to do
    (Pub/Sub keeps the entries meanwhile: a bot that cannot post must not look up); a transient failure
    (after the client's retries) starts the bot with Bolt's check deferred to the first request."""
    from slack_sdk.errors import SlackApiError

    try:
        web.auth_test()
    except SlackApiError as exc:
        data = exc.response.data if exc.response is not None else None
        error = data.get("error") if isinstance(data, dict) else None
        if error in TOKEN_REFUSED:
            raise SettingsError(token_problem(error)) from None  # one line, not a traceback
        log.warning(
            "Slack auth.test failed at start-up (%s); starting anyway", error or "http error"
        )
        return False
    except OSError as exc:
        log.warning("Slack unreachable at start-up (%s); starting anyway", type(exc).__name__)
        return False
    return True


def wsgi_app(rt: Runtime) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    slack = guard_slack(SlackRequestHandler(rt.app), rt.settings.slack_signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            assert rt.health is not None
            ok, detail = rt.health.check()
            body = json.dumps({"ok": ok, **detail}).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json")],
            )
            return [body]
        if path == "/pubsub/push" and environ.get("REQUEST_METHOD") == "POST":
            if rt.push is None:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"push mode is off: set PUSH_AUDIENCE and PUSH_SERVICE_ACCOUNT"]
            # waitress has bounded the body (MAX_PUSH_BODY) and validated Content-Length.
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            status, reason = handle_push(
                rt.push, rt.pipeline, environ.get("HTTP_AUTHORIZATION"), body
            )
            start_response(
                f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "text/plain")]
            )
            return [reason.encode()]
        if path == "/metrics":
            start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
            return [rt.metrics.render()]
        return slack(environ, start_response)

    return application


def start_http(rt: Runtime, host: str, port: int, limits: HttpLimits | None = None) -> HttpServer:
    limits = limits or HttpLimits()
    if rt.push is not None and not limits.push:
        limits = dataclasses.replace(limits, push=True)
    return HttpServer(wsgi_app(rt), host, port, limits)


def connect_socket_mode(rt: Runtime) -> SocketModeHandler:
    """Socket Mode: Slack's requests arrive over a websocket the bot opens (no public URL).
    The handler uses the app's WebClient, so apps.connections.open goes to SLACK_API_URL like
    every other call; the app-level token (SLACK_APP_TOKEN) is passed per call. close() it."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not rt.settings.slack_app_token:
        raise SettingsError("Socket Mode needs SLACK_APP_TOKEN (an xapp-... app-level token)")
    handler = SocketModeHandler(rt.app, rt.settings.slack_app_token, web_client=rt.app.client)
    handler.connect()
    log.info("Socket Mode connected")
    return handler


def serve(settings: Settings) -> None:
    rt = build(settings)
    # Signals first: a SIGHUP or SIGTERM during start-up (the HTTP server already answers)
    # must reload or stop the bot, not kill it by the default action.
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if rt.config is not None:
        rt.config.install_sighup()
    try:
        server = start_http(rt, settings.host, settings.port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise SettingsError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}; "
            "set PORT (and HOST) to an address this machine can bind"
        ) from None
    if rt.puller is not None:
        rt.puller.start()
    rt.notifier.start()
    if rt.deps.incidents is not None:
        rt.deps.incidents.start()
    if rt.er_sync is not None:
        rt.er_sync.start()
    socket_mode = connect_socket_mode(rt) if settings.slack_app_token else None
    if rt.config is not None:
        rt.config.watch()
    log.info(
        "serving on %s:%s, pulling %s", settings.host, settings.port, settings.pubsub_subscription
    )
    done.wait()
    # Stopping: a second SIGTERM (a supervisor repeating it) must not kill the shutdown, nor,
    # once Python restores default handlers at exit, the process (exit -15 instead of 0).
    # SIGKILL still can; a second Ctrl-C still interrupts.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log.info("stopping: finishing in-flight batches")
    started = time.monotonic()
    stops: list[Callable[[], None]] = []
    if rt.puller is not None:
        stops.append(rt.puller.stop)
    if socket_mode is not None:
        stops.append(socket_mode.close)
    stops.append(rt.notifier.stop)
    if rt.deps.incidents is not None:
        stops.append(rt.deps.incidents.stop)
    if rt.er_sync is not None:
        stops.append(rt.er_sync.stop)
    _stop_all(stops, STOP_BUDGET_S)
    server.shutdown(timeout=1.0)
    log.info("stopped in %.1f s", time.monotonic() - started)


# Cloud Run sends SIGKILL 10 s after SIGTERM: everything stops, concurrently, within 8 s.
STOP_BUDGET_S = 7.0


def _stop_all(stops: list[Callable[[], None]], budget: float) -> None:
    """Run the stops at once (each waits for its own loop), give up on any past `budget`:
    what it had not finished is still in Pub/Sub or the Redis outbox, and is redone."""
    threads = [threading.Thread(target=stop, daemon=True) for stop in stops]
    for t in threads:
        t.start()
    deadline = time.monotonic() + budget
    for t, stop in zip(threads, stops, strict=True):
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            log.warning("stopping: %s did not finish in time", getattr(stop, "__qualname__", stop))


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging

    try:
        settings = load_settings()
        setup_logging(settings.log_level)
        serve(settings)
    except (SettingsError, ConfigError) as exc:
        print(f"triage-bot: {exc}", file=sys.stderr)
        return 2
    return 0
