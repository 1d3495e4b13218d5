"""The bot as tests run it: real Redis, the Slack stand-in, its HTTP endpoint on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from triage_sandbox.slack_standin import SlackStandIn

from bot.app import HttpLimits, Runtime, build, start_http
from bot.config import load_settings
from tests.conftest import free_port


@contextmanager
def running_bot(
    slack: SlackStandIn,
    redis_url: str,
    prefix: str,
    *,
    clock: Callable[[], float] | None = None,
    with_puller: bool = False,
    pull_timeout: float = 1.0,
    http_limits: HttpLimits | None = None,
    **settings: Any,
) -> Iterator[tuple[Runtime, str]]:
    """Build and serve the bot against `slack`; yields (runtime, its /slack/events URL).
    Pullers and the notifier loop are started only when asked (with_puller)."""
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": slack.signing_secret,
        "slack_api_url": slack.api_url,
        "redis_url": redis_url,
        "redis_prefix": prefix,
        "pubsub_subscription": "projects/triage-test/subscriptions/unused",
        "default_channel": "C0ALERTS",
    }
    values.update(settings)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    rt = build(load_settings(**values), with_puller=with_puller, pull_timeout=pull_timeout, **extra)
    port = free_port()
    server = start_http(rt, "127.0.0.1", port, http_limits or HttpLimits())
    try:
        yield rt, f"http://127.0.0.1:{port}/slack/events"
    finally:
        if rt.puller is not None:
            rt.puller.stop()
        rt.notifier.stop()
        server.shutdown()
