"""The workspace the Slack stand-in's Web API answers from: channels, users, user groups,
messages with their threads, ephemerals, views and triggers, plus the helpers Web API methods
share (resolve a channel, check a message's content, store a reply in its thread, Slack's
object shapes, cursor pagination). Not thread-safe: the stand-in calls it under its lock."""

from __future__ import annotations

import copy
import itertools
import math
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from triage_sandbox.slack_standin.blockkit import block_kit_errors, view_errors
from triage_sandbox.slack_standin.model import (
    MAX_MARKDOWN_TEXT,
    MAX_MESSAGE_TEXT,
    Channel,
    SlackError,
    Surface,
    User,
    Usergroup,
)


def flag(value: Any) -> bool:
    """A boolean argument as Slack reads it, form-encoded ("true", "1") or JSON."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class Workspace:
    """One Slack workspace with the bot installed (``bot_user_id`` always exists as a user).

    ``channels`` maps channel ids to a name (bot is a member) or a :class:`Channel`; ``users``
    maps user ids to a name or a :class:`User`; ``usergroups`` maps ids to a :class:`Usergroup`.
    """

    def __init__(
        self,
        *,
        channels: Mapping[str, str | Channel] | None,
        users: Mapping[str, str | User] | None,
        usergroups: Mapping[str, Usergroup] | None,
        team_id: str,
        team_domain: str,
        app_id: str,
        bot_id: str,
        bot_user_id: str,
        bot_name: str,
        trigger_ttl: float,
        channel_rate_limit: bool,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = app_id
        self.bot_id = bot_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.trigger_ttl = trigger_ttl
        if channels is None:
            channels = {"C0ALERTS": "alerts", "C0GENERAL": Channel("general", is_member=False)}
        self._initial_channels = {
            cid: (Channel(c) if isinstance(c, str) else replace(c)) for cid, c in channels.items()
        }
        if users is None:
            users = {"U1": "alice", "U2": "bob"}
        self.users: dict[str, User] = {
            uid: (User(u, real_name=u.title()) if isinstance(u, str) else u)
            for uid, u in users.items()
        }
        self.users.setdefault(bot_user_id, User(bot_name, real_name=bot_name, is_bot=True))
        self.usergroups = dict(usergroups or {})
        self.rate_per_second = 1.0
        self.rate_burst = 1
        self.channel_rate_limit = channel_rate_limit
        # Where apps.connections.open points clients (``ws://HOST:PORT/socket/``); ``None``
        # while the stand-in does not accept Socket Mode connections.
        self.socket_base: str | None = None
        # Where files.getUploadURLExternal points uploads (``http://HOST:PORT``) once started.
        self.upload_base: str | None = None
        self.ids = itertools.count(1)
        self.last_ts_us = 0
        self.reset()

    def reset(self) -> None:
        """Channels as configured; no messages, ephemerals, views, triggers or tickets."""
        self.channels: dict[str, Channel] = {
            cid: replace(c) for cid, c in self._initial_channels.items()
        }
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.buckets: dict[str, tuple[float, float]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.modals: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, tuple[float, bool]] = {}
        self.socket_tickets: dict[str, float] = {}
        # files.getUploadURLExternal: file id -> {"name", "length", "data" (once uploaded), ...}
        self.files: dict[str, dict[str, Any]] = {}
        self.method_calls: dict[str, list[float]] = {}

    # ------------------------------------------------------------------ ids
    def next_ts(self) -> str:
        us = max(int(time.time() * 1_000_000), self.last_ts_us + 1)
        self.last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):08X}"

    def new_trigger(self) -> str:
        trigger = f"{int(time.time() * 1000)}.{next(self.ids)}.{secrets.token_hex(16)}"
        self.triggers[trigger] = (time.monotonic(), False)
        return trigger

    # ------------------------------------------------------------------ reading
    def thread_listing(self, cid: str) -> list[dict[str, Any]]:
        """Top-level messages of ``cid``, oldest first, each with ``replies`` (its thread)."""
        store = self.messages.get(cid, {})
        out = []
        for ts in sorted(store, key=float):
            msg = store[ts]
            parent = msg.get("thread_ts")
            if parent in (None, ts) or msg.get("subtype") == "thread_broadcast":
                item = copy.deepcopy(msg)
                item["replies"] = [
                    copy.deepcopy(r)
                    for t, r in sorted(store.items(), key=lambda kv: float(kv[0]))
                    if r.get("thread_ts") == ts and t != ts
                ]
                out.append(item)
        return out

    def channel_name(self, cid: str) -> str:
        """The ``channel_name`` Slack puts in a slash command or an interaction."""
        ch = self.channels.get(cid)
        if ch is None:
            return "unknown"
        if ch.is_im:
            return "directmessage"
        return "privategroup" if ch.is_private else ch.name

    # ------------------------------------------------------------------ rate limits
    def set_channel_rate_limit(self, enabled: bool, per_second: float, burst: int) -> None:
        self.channel_rate_limit = enabled
        self.rate_per_second = per_second
        self.rate_burst = burst
        self.buckets.clear()

    def rate_limit(self, channel: str) -> None:
        if not self.channel_rate_limit:
            return
        now = time.monotonic()
        tokens, last = self.buckets.get(channel, (float(self.rate_burst), now))
        tokens = min(float(self.rate_burst), tokens + (now - last) * self.rate_per_second)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self.rate_per_second
            self.buckets[channel] = (tokens, now)
            raise SlackError("ratelimited", status=429, retry_after=max(1, math.ceil(wait)))
        self.buckets[channel] = (tokens - 1.0, now)

    def tier_limit(self, method: str, per_minute: int) -> None:
        """A method's own rate tier (per workspace), when rate limits are on: at most
        ``per_minute`` calls in any 60 s, else HTTP 429 with Retry-After."""
        if not self.channel_rate_limit:
            return
        now = time.monotonic()
        recent = [t for t in self.method_calls.get(method, []) if now - t < 60.0]
        if len(recent) >= per_minute:
            self.method_calls[method] = recent
            raise SlackError(
                "ratelimited", status=429, retry_after=max(1, math.ceil(60.0 - (now - recent[0])))
            )
        recent.append(now)
        self.method_calls[method] = recent

    def channel_id(self, ref: Any, *, by_name: bool = False, open_dm: bool = True) -> str:
        if not isinstance(ref, str) or not ref:
            raise SlackError("channel_not_found")
        if ref in self.channels:
            return ref
        if by_name:
            name = ref[1:] if ref.startswith("#") else ref
            for cid, ch in self.channels.items():
                if ch.name == name and not ch.is_im:
                    return cid
            if ref in self.users:
                return self.dm_channel(ref, create=open_dm)
        raise SlackError("channel_not_found")

    def dm_channel(self, user_id: str, *, create: bool) -> str:
        for cid, ch in self.channels.items():
            if ch.is_im and ch.user == user_id:
                return cid
        if not create:
            raise SlackError("channel_not_found")
        cid = "D" + user_id.removeprefix("U").removeprefix("W") + "DM"
        self.channels[cid] = Channel(cid, is_im=True, is_private=True, user=user_id)
        return cid

    def postable(self, ref: Any) -> str:
        cid = self.channel_id(ref, by_name=True)
        ch = self.channels[cid]
        if ch.is_archived:
            raise SlackError("is_archived")
        if not ch.is_member and not ch.is_im:
            raise SlackError("not_in_channel")
        return cid

    def find_message(self, cid: str, ts: Any) -> dict[str, Any]:
        msg = self.messages.get(cid, {}).get(ts) if isinstance(ts, str) else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        return msg

    def check_content(self, args: Mapping[str, Any], surface: Surface = "message") -> None:
        text, blocks = args.get("text"), args.get("blocks")
        markdown_text = args.get("markdown_text")
        if markdown_text and (text or blocks):
            raise SlackError("markdown_text_conflict")
        if not (text or blocks or args.get("attachments") or markdown_text):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if isinstance(markdown_text, str) and len(markdown_text) > MAX_MARKDOWN_TEXT:
            raise SlackError("msg_too_long")
        if blocks not in (None, ""):
            errors = block_kit_errors(blocks, surface)
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )

    def bot_message(self, args: Mapping[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text") or args.get("markdown_text") or "",
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "team_id": self.team_id,
                "deleted": False,
            },
        }
        if args.get("blocks"):
            msg["blocks"] = copy.deepcopy(args["blocks"])
        if args.get("attachments"):
            msg["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata"):
            msg["metadata"] = copy.deepcopy(args["metadata"])
        return msg

    def store_message(
        self,
        cid: str,
        msg: dict[str, Any],
        thread_ts: str | None,
        broadcast: bool,
        warnings: list[str],
    ) -> dict[str, Any]:
        store = self.messages.setdefault(cid, {})
        if thread_ts:
            parent = store.get(thread_ts)
            if parent is None:
                warnings.append(
                    f"thread_ts {thread_ts!r} matches no message in {cid}; "
                    "Slack posts the message at top level"
                )
            else:
                root_ts = parent.get("thread_ts") or thread_ts
                root = store[root_ts]
                msg["thread_ts"] = root_ts
                msg["parent_user_id"] = root.get("user")
                if broadcast:
                    msg["subtype"] = "thread_broadcast"
                root["thread_ts"] = root_ts
                root["reply_count"] = root.get("reply_count", 0) + 1
                users = root.setdefault("reply_users", [])
                if msg["user"] not in users:
                    users.append(msg["user"])
                root["reply_users_count"] = len(users)
                root["latest_reply"] = msg["ts"]
        store[msg["ts"]] = msg
        return msg

    def channel_object(self, cid: str, *, num_members: bool = False) -> dict[str, Any]:
        ch = self.channels[cid]
        obj: dict[str, Any] = {
            "id": cid,
            "created": ch.created,
            "is_archived": ch.is_archived,
            "is_im": ch.is_im,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "updated": ch.created * 1000,
        }
        if ch.is_im:
            obj.update(user=ch.user, is_user_deleted=False, priority=0)
            return obj
        obj.update(
            name=ch.name,
            name_normalized=ch.name,
            is_channel=not ch.is_private,
            is_group=ch.is_private,
            is_mpim=False,
            is_private=ch.is_private,
            is_general=ch.name == "general",
            is_shared=False,
            is_ext_shared=False,
            is_member=ch.is_member,
            creator=ch.creator or next(iter(self.users)),
            unlinked=0,
            topic={"value": ch.topic, "creator": ch.creator if ch.topic else "", "last_set": 0},
            purpose={
                "value": ch.purpose,
                "creator": ch.creator if ch.purpose else "",
                "last_set": 0,
            },
            previous_names=[],
        )
        if num_members:
            obj["num_members"] = 1 + len(ch.members) if ch.creator else len(self.users)
        return obj

    def user_object(self, uid: str) -> dict[str, Any]:
        u = self.users[uid]
        profile: dict[str, Any] = {
            "real_name": u.real_name or u.name,
            "display_name": u.name,
            "real_name_normalized": u.real_name or u.name,
            "display_name_normalized": u.name,
            "team": self.team_id,
            "image_48": f"https://example.invalid/{uid}_48.png",
        }
        if u.email:
            profile["email"] = u.email
        if u.is_bot:
            profile["bot_id"] = self.bot_id
        return {
            "id": uid,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": False,
            "real_name": u.real_name or u.name,
            "tz": u.tz,
            "tz_label": u.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }

    def paginate(self, items: list[Any], args: Mapping[str, Any], key: str) -> dict[str, Any]:
        try:
            limit = int(args.get("limit") or 100)
        except ValueError as e:
            raise SlackError("invalid_limit") from e
        limit = max(1, min(limit, 1000))
        cursor = args.get("cursor") or ""
        start = 0
        if cursor:
            match = re.fullmatch(r"next:(\d+)", cursor)
            if match is None:
                raise SlackError("invalid_cursor")
            start = int(match.group(1))
        page = items[start : start + limit]
        nxt = f"next:{start + limit}" if start + limit < len(items) else ""
        return {key: page, "response_metadata": {"next_cursor": nxt}}

    # ------------------------------------------------------------------ deleting, views
    def delete(self, cid: str, msg: dict[str, Any]) -> None:
        store = self.messages[cid]
        if msg.get("reply_count"):
            # A parent with replies stays as a tombstone, as in Slack.
            for key in ("blocks", "attachments", "bot_id", "app_id", "bot_profile", "edited"):
                msg.pop(key, None)
            msg.update(subtype="tombstone", text="This message was deleted.", user="USLACKBOT")
            return
        del store[msg["ts"]]
        parent_ts = msg.get("thread_ts")
        if parent_ts and parent_ts != msg["ts"] and parent_ts in store:
            root = store[parent_ts]
            root["reply_count"] = max(0, root.get("reply_count", 1) - 1)
            if root["reply_count"] == 0 and root.get("subtype") == "tombstone":
                del store[parent_ts]

    def view_object(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        out = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": copy.deepcopy(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": flag(view.get("clear_on_close")),
            "notify_on_close": flag(view.get("notify_on_close")),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                out[key] = copy.deepcopy(view[key])
        return out

    def check_view(self, view: Any, surface: Literal["home", "modal"]) -> None:
        errors = view_errors(view, surface)
        if errors:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
