"""The one way to run the bot in-process against the Slack stand-in: tests, the browser test and
`triage-bot demo` all build and serve it with :func:`running_bot`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.app import HttpLimits, Runtime, build, start_http
from bot.config import load_settings
from triage_sandbox.service import free_port
from triage_sandbox.slack_standin import SlackStandIn


@contextmanager
def running_bot(
    slack: SlackStandIn,
    redis_url: str,
    prefix: str,
    *,
    clock: Callable[[], float] | None = None,
    with_puller: bool = False,
    pull_timeout: float = 1.0,
    loops: float | None = None,
    port: int | None = None,
    http_limits: HttpLimits | None = None,
    **settings: Any,
) -> Iterator[tuple[Runtime, str]]:
    """Build the bot with `slack`'s tokens and Web API, serve its HTTP endpoint on 127.0.0.1
    (`port`, else a free one) and point the stand-in's `bot_url` at it; yields (runtime, its
    /slack/events URL). `settings` override the defaults (DEFAULT_CHANNEL C0ALERTS, an unused
    subscription). `with_puller` builds the Pub/Sub pullers; `loops` (seconds) starts them and
    the notifier loop at that interval, else the test drives them (`run_once`)."""
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
    port = port or free_port()
    server = start_http(rt, "127.0.0.1", port, http_limits or HttpLimits())
    url = f"http://127.0.0.1:{port}/slack/events"
    slack.bot_url = url
    if loops is not None:
        if rt.puller is not None:
            rt.puller.start()
        rt.notifier.start(interval=loops)
    try:
        yield rt, url
    finally:
        if rt.puller is not None:
            rt.puller.stop()
        rt.notifier.stop()
        server.shutdown()
