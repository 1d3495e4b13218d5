"""Slack Web API calls: retries (429 Retry-After, 5xx, connection errors), pacing, typed errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.metrics import METRICS

log = logging.getLogger(__name__)

CHANNEL_UNAVAILABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class SlackError(Exception):
    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method}: {error}")
        self.method, self.error = method, error


class ChannelUnavailable(SlackError):
    """The bot cannot post in that channel (not invited, archived, deleted)."""


class MessageGone(SlackError):
    """The message to update no longer exists (deleted in Slack)."""


def make_client(token: str, base_url: str, *, max_retries: int = 4, timeout: int = 10) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
    return client


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str


class Sender:
    def __init__(
        self,
        client: WebClient,
        pace: Callable[[str], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.pace = pace  # channel -> seconds to wait before the next post (token bucket)
        self.sleep = sleep

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error")) if exc.response else "unknown"
            METRICS.slack_calls.inc(method=method, result=error)
            if error in CHANNEL_UNAVAILABLE:
                raise ChannelUnavailable(method, error) from None
            if error in ("message_not_found", "cant_update_message"):
                raise MessageGone(method, error) from None
            raise SlackError(method, error) from None
        METRICS.slack_calls.inc(method=method, result="ok")
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    def _paced(self, channel: str) -> None:
        if self.pace is None:
            return
        while (wait := self.pace(channel)) > 0:
            self.sleep(wait)

    def post(
        self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> Posted:
        self._paced(channel)
        args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if blocks is not None:
            args["blocks"] = blocks
        if thread_ts:
            args["thread_ts"] = thread_ts
            if broadcast:
                args["reply_broadcast"] = True
        data = self._call("chat.postMessage", **args)
        return Posted(str(data.get("channel", channel)), str(data["ts"]))

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text)
