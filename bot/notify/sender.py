"""Slack Web API calls: retries (429 Retry-After, 5xx, connection errors and timeouts, with
backoff), per-channel pacing of posts, one exception class per kind of Slack error."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import Metrics

log = logging.getLogger(__name__)

CHANNEL_UNAVAILABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


TOKEN_REFUSED = frozenset(
    ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")
)


class SlackError(Exception):
    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method}: {error}")
        self.method, self.error = method, error


class RateLimited(SlackError):
    """Still rate limited after the retries (Retry-After was honoured each time)."""


class ChannelUnavailable(SlackError):
    """The bot cannot post in that channel (not invited, archived, deleted)."""


class MessageGone(SlackError):
    """The message to update no longer exists (deleted in Slack)."""


class ServerErrorRetry(RetryHandler):
    """Retries 500, 502, 503 and 504 with exponential backoff and jitter (slack_sdk's own
    handler covers only 500 and 503)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def make_client(token: str, base_url: str, *, max_retries: int = 4, timeout: int = 10) -> WebClient:
    """A WebClient that waits out 429s (sleeping Retry-After), and retries 5xx answers,
    connection errors and timeouts with backoff. A retried post whose first attempt did reach
    Slack (a timeout after Slack accepted it) can show twice: Slack has no idempotency key."""
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(
            max_retry_count=max_retries,
            error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError],
        ),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetry(max_retry_count=max_retries),
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
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.metrics = metrics if metrics is not None else Metrics()
        self.pace = pace  # channel -> seconds to wait before the next post (token bucket)
        self.sleep = sleep
        # The error of the latest call refused for its token (token_revoked, ...): /healthz
        # re-checks the token at once instead of waiting for its once-a-minute check.
        self.token_refused: str | None = None

    def _call(self, method: str, *, _get: bool = False, **kwargs: Any) -> dict[str, Any]:
        try:
            if _get:  # a read method: arguments as query parameters, as Slack documents them
                resp = self.client.api_call(method, http_verb="GET", params=kwargs)
            else:
                resp = self.client.api_call(method, json=kwargs)
        except (URLError, OSError) as exc:  # connection errors/timeouts left after the retries
            self.metrics.slack_calls.labels(method, "connection_error").inc()
            raise SlackError(method, f"connection_error: {type(exc).__name__}") from None
        except SlackApiError as exc:
            data = exc.response.data if exc.response is not None else None
            if isinstance(data, dict):
                error = str(data.get("error", "unknown_error"))
            else:  # a 5xx page left after the retries
                error = f"http_{exc.response.status_code if exc.response is not None else 0}"
            self.metrics.slack_calls.labels(method, error).inc()
            if error in TOKEN_REFUSED:
                self.token_refused = error
            if error in CHANNEL_UNAVAILABLE:
                raise ChannelUnavailable(method, error) from None
            if error in ("message_not_found", "cant_update_message"):
                raise MessageGone(method, error) from None
            if error == "ratelimited":
                raise RateLimited(method, error) from None
            raise SlackError(method, error) from None
        self.metrics.slack_calls.labels(method, "ok").inc()
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    def _paced(self, channel: str) -> None:
        if self.pace is None:
            return
        while (wait := self.pace(channel)) > 0:
            self.sleep(wait)

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
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

    def permalink(self, channel: str, ts: str) -> str:
        """A link to a message (chat.getPermalink; no scope needed)."""
        data = self._call("chat.getPermalink", _get=True, channel=channel, message_ts=ts)
        return str(data.get("permalink", ""))

    def usergroup_members(self, usergroup: str) -> list[str]:
        """The user ids in a Slack user group (usergroups.users.list; scope usergroups:read)."""
        data = self._call("usergroups.users.list", _get=True, usergroup=usergroup)
        return [str(u) for u in data.get("users") or []]

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text)

    # ---- incidents (bot.incident.service): channel set-up, pins, files ------------------------

    def create_channel(self, name: str, private: bool = False) -> str:
        """conversations.create (Tier 2; scope channels:manage or groups:write): the new id."""
        data = self._call("conversations.create", name=name, is_private=private)
        return str((data.get("channel") or {}).get("id", ""))

    def invite(self, channel: str, users: list[str]) -> None:
        """conversations.invite (Tier 3), up to 1000 users a call."""
        for i in range(0, len(users), 1000):
            self._call("conversations.invite", channel=channel, users=",".join(users[i : i + 1000]))

    def set_topic(self, channel: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=topic)

    def set_purpose(self, channel: str, purpose: str) -> None:
        self._call("conversations.setPurpose", channel=channel, purpose=purpose)

    def pin(self, channel: str, ts: str) -> None:
        self._call("pins.add", channel=channel, timestamp=ts)

    def upload(self, channel: str, filename: str, title: str, content: str, comment: str) -> None:
        """slack_sdk's files_upload_v2: files.getUploadURLExternal, the upload, then
        files.completeUploadExternal (files.upload is retired). Scope files:write."""
        method = "files.completeUploadExternal"
        try:
            self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                title=title,
                content=content,
                initial_comment=comment,
            )
        except (URLError, OSError) as exc:
            self.metrics.slack_calls.labels(method, "connection_error").inc()
            raise SlackError(method, f"connection_error: {type(exc).__name__}") from None
        except SlackApiError as exc:
            data = exc.response.data if exc.response is not None else None
            error = str(data.get("error", "unknown_error")) if isinstance(data, dict) else "http"
            self.metrics.slack_calls.labels(method, error).inc()
            raise SlackError(method, error) from None
        except SlackRequestError as exc:  # the POST of the bytes to the upload URL failed
            self.metrics.slack_calls.labels(method, "upload_failed").inc()
            raise SlackError(method, f"upload_failed: {exc}") from None
        self.metrics.slack_calls.labels(method, "ok").inc()
