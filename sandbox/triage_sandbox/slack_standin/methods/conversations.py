"""conversations.*: info, join, list."""

from __future__ import annotations

from typing import Any

from triage_sandbox.slack_standin.model import SlackError
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
