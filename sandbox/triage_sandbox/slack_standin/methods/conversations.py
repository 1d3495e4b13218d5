"""conversations.*: info, join, list, create, invite, setTopic, setPurpose."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from triage_sandbox.slack_standin.model import (
    MAX_CHANNEL_NAME,
    MAX_INVITES,
    MAX_TOPIC,
    Channel,
    SlackError,
)
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace, flag

_CHANNEL_TYPES = ("public_channel", "private_channel", "mpim", "im")


@web_api("conversations.info")
def conversations_info(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args.get("channel"))
    return {"channel": ws.channel_object(cid, num_members=flag(args.get("include_num_members")))}


@web_api("conversations.join")
def conversations_join(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args.get("channel"))
    ch = ws.channels[cid]
    if ch.is_im or ch.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise SlackError("is_archived")
    out: dict[str, Any] = {}
    if ch.is_member:
        out = {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    ch.is_member = True
    return {"channel": ws.channel_object(cid), **out}


@web_api("conversations.list")
def conversations_list(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    types = [t.strip() for t in str(args.get("types") or "public_channel").split(",")]
    if any(t not in _CHANNEL_TYPES for t in types):
        raise SlackError("invalid_types")
    exclude_archived = flag(args.get("exclude_archived"))
    items = []
    for cid, ch in ws.channels.items():
        kind = "im" if ch.is_im else "private_channel" if ch.is_private else "public_channel"
        if kind not in types or (exclude_archived and ch.is_archived):
            continue
        if kind == "private_channel" and not ch.is_member:
            continue  # a bot only sees the private channels it is in
        items.append(ws.channel_object(cid))
    return ws.paginate(items, args, "channels")


# Slack: "Channel names may only contain lowercase letters, numbers, hyphens, and underscores,
# and must be 80 characters or less." (conversations.create; other letters are fine too)
_NAME_OK = re.compile(r"[^\W_A-Z]|[-_]", re.U)


@web_api("conversations.create")
def conversations_create(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    name = args.get("name")
    if not isinstance(name, str) or not name:
        raise SlackError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if not all(_NAME_OK.fullmatch(c) for c in name):
        raise SlackError("invalid_name_specials")
    if not any(c.isalnum() for c in name):
        raise SlackError("invalid_name_punctuation")
    if any(ch.name == name and not ch.is_im for ch in ws.channels.values()):
        raise SlackError("name_taken")
    private = flag(args.get("is_private"))
    cid = ws.new_id("G" if private else "C")
    ws.channels[cid] = Channel(name, is_private=private, creator=ws.bot_user_id)
    return {"channel": ws.channel_object(cid)}


def _member_channel(ws: Workspace, ref: Any) -> str:
    cid = ws.channel_id(ref)
    ch = ws.channels[cid]
    if ch.is_archived:
        raise SlackError("is_archived")
    if not ch.is_member:
        raise SlackError("not_in_channel")
    return cid


@web_api("conversations.invite")
def conversations_invite(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    cid = _member_channel(ws, args.get("channel"))
    ch = ws.channels[cid]
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
    if not users:
        raise SlackError("no_user")
    if len(users) > MAX_INVITES:
        raise SlackError("too_many_users")
    for uid in users:
        if uid == ws.bot_user_id:
            raise SlackError("cant_invite_self")
        if uid not in ws.users:
            raise SlackError("user_not_found")
    new = [u for u in dict.fromkeys(users) if u not in ch.members]
    if not new:
        raise SlackError("already_in_channel")
    ws.channels[cid] = replace(ch, members=(*ch.members, *new))
    return {"channel": ws.channel_object(cid)}


def _set_text(ws: Workspace, args: dict[str, Any], field: str) -> dict[str, Any]:
    cid = _member_channel(ws, args.get("channel"))
    value = str(args.get(field) or "")
    if len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    ch = ws.channels[cid]
    ws.channels[cid] = replace(ch, **{field: value, "creator": ch.creator or ws.bot_user_id})
    return {"channel": ws.channel_object(cid)}


@web_api("conversations.setTopic")
def conversations_setTopic(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    return _set_text(ws, args, "topic")


@web_api("conversations.setPurpose")
def conversations_setPurpose(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    return _set_text(ws, args, "purpose")
