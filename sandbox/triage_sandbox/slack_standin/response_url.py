"""``response_url``: the URLs Slack hands out with slash commands and interactions
(``/response/<id>``, five uses in thirty minutes), what Slack does with a post to one (an
ephemeral, an in-channel message, a replaced or deleted original), and the same for a slash
command's synchronous ack body. Not thread-safe: the stand-in calls it under its lock."""

from __future__ import annotations

import copy
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from triage_sandbox.slack_standin.model import (
    RESPONSE_URL_TTL_SECONDS,
    RESPONSE_URL_USES,
    ResponsePost,
    SlackError,
)
from triage_sandbox.slack_standin.workspace import Workspace, flag


@dataclass
class _ResponseUrl:
    source: str
    channel: str
    user: str
    message_ts: str | None
    is_ephemeral: bool
    created: float
    uses: int = 0


class ResponseUrls:
    """``base_url`` gives the stand-in's URL when a response_url is handed out."""

    def __init__(self, workspace: Workspace, base_url: Callable[[], str]) -> None:
        self.workspace = workspace
        self._base_url = base_url
        self.reset()

    def reset(self) -> None:
        self.urls: dict[str, _ResponseUrl] = {}
        self.posts: list[ResponsePost] = []

    def new(
        self, source: str, channel: str, user: str, message_ts: str | None, is_ephemeral: bool
    ) -> str:
        url_id = f"{self.workspace.team_id}/{next(self.workspace.ids)}/{secrets.token_hex(12)}"
        self.urls[url_id] = _ResponseUrl(
            source, channel, user, message_ts, is_ephemeral, time.monotonic()
        )
        return f"{self._base_url()}/response/{url_id}"

    def handle(self, url_id: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
        """A post to ``/response/<url_id>``: (HTTP status, body)."""
        ctx = self.urls.get(url_id)
        try:
            payload = self._decode_body(headers, body)
        except SlackError as e:
            return 400, e.error
        if ctx is None:
            return 404, "no_service"
        ctx.uses += 1
        if time.monotonic() - ctx.created > RESPONSE_URL_TTL_SECONDS:
            status, effect = 404, "expired_url"
        elif ctx.uses > RESPONSE_URL_USES:
            status, effect = 404, "used_url"
        else:
            status, effect = self._apply(ctx, payload)
        self.posts.append(
            ResponsePost(
                url_id=url_id,
                via="response_url",
                source=ctx.source,
                channel=ctx.channel,
                user=ctx.user,
                message_ts=ctx.message_ts,
                payload=payload,
                status=status,
                effect=effect,
                time=time.time(),
            )
        )
        return status, "ok" if status == 200 else effect

    def record_ack(self, response_url: str, answer: str) -> None:
        """A slash command's ack body (HTTP, or the payload of a Socket Mode ack), applied as
        Slack applies it."""
        url_id = response_url.split("/response/", 1)[1]
        ctx = self.urls[url_id]
        # A JSON body is a message; plain text is shown as an ephemeral text (as Slack does).
        try:
            ack = json.loads(answer) if answer.lstrip().startswith("{") else {"text": answer}
        except ValueError:
            ack = {"text": answer}
        if not isinstance(ack, dict) or not (ack.get("text") or ack.get("blocks")):
            return
        status, effect = self._apply(ctx, ack)
        self.posts.append(
            ResponsePost(
                url_id,
                "ack",
                ctx.source,
                ctx.channel,
                ctx.user,
                None,
                ack,
                status,
                effect,
                time.time(),
            )
        )

    @staticmethod
    def _decode_body(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                payload = json.loads(body or b"{}")
            else:
                form = dict(urllib.parse.parse_qsl(body.decode()))
                payload = json.loads(form.get("payload", "{}"))
        except ValueError as e:
            raise SlackError("invalid_payload") from e
        if not isinstance(payload, dict):
            raise SlackError("invalid_payload")
        return payload

    def _apply(self, ctx: _ResponseUrl, payload: dict[str, Any]) -> tuple[int, str]:
        """What Slack does with a response_url post (or a slash command's ack body)."""
        ws = self.workspace
        if flag(payload.get("delete_original")):
            if ctx.message_ts and not ctx.is_ephemeral:
                msg = ws.messages.get(ctx.channel, {}).get(ctx.message_ts)
                if msg is None:
                    return 404, "message_not_found"
                ws.delete(ctx.channel, msg)
                return 200, "deleted"
            return 200, "deleted_ephemeral"
        try:
            ws.check_content(payload)
        except SlackError as e:
            return 400, e.error
        if flag(payload.get("replace_original")) and ctx.message_ts and not ctx.is_ephemeral:
            msg = ws.messages.get(ctx.channel, {}).get(ctx.message_ts)
            if msg is None:
                return 404, "message_not_found"
            msg["text"] = payload.get("text") or ""
            if payload.get("blocks"):
                msg["blocks"] = copy.deepcopy(payload["blocks"])
            else:
                msg.pop("blocks", None)
            msg["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
            return 200, "replaced"
        if payload.get("response_type") == "in_channel":
            if ctx.channel not in ws.channels:
                return 404, "channel_not_found"
            msg = ws.bot_message(payload, ws.next_ts())
            ws.store_message(ctx.channel, msg, payload.get("thread_ts"), False, [])
            return 200, "posted"
        ws.ephemerals.append(
            {
                "channel": ctx.channel,
                "user": ctx.user,
                "ts": ws.next_ts(),
                "text": payload.get("text") or "",
                "blocks": copy.deepcopy(payload.get("blocks") or []),
                "thread_ts": payload.get("thread_ts"),
                "source": "response_url",
            }
        )
        return 200, "ephemeral"
