"""chat.*: post, update, delete, ephemerals, permalinks."""

from __future__ import annotations

import copy
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace, flag


@web_api("chat.postMessage")
def chat_postMessage(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.postable(args["channel"])
    ws.check_content(args)
    ws.rate_limit(cid)
    msg = ws.bot_message(args, ws.next_ts())
    msg = ws.store_message(
        cid, msg, args.get("thread_ts") or None, flag(args.get("reply_broadcast")), warnings
    )
    return {"channel": cid, "ts": msg["ts"], "message": copy.deepcopy(msg)}


@web_api("chat.update")
def chat_update(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args["channel"])
    msg = ws.find_message(cid, args["ts"])
    if msg.get("bot_id") != ws.bot_id:
        raise SlackError("cant_update_message")
    merged = {
        "text": args.get("text", msg.get("text")),
        "blocks": args["blocks"] if "blocks" in args else msg.get("blocks"),
        "attachments": args.get("attachments", msg.get("attachments")),
        "markdown_text": args.get("markdown_text"),
    }
    if merged["markdown_text"]:
        merged["text"] = merged["blocks"] = None
    ws.check_content(merged)
    msg["text"] = merged["text"] or merged["markdown_text"] or ""
    if merged["blocks"]:
        msg["blocks"] = copy.deepcopy(merged["blocks"])
    else:
        msg.pop("blocks", None)
    if args.get("attachments") is not None:
        msg["attachments"] = copy.deepcopy(args["attachments"])
    if args.get("metadata"):
        msg["metadata"] = copy.deepcopy(args["metadata"])
    msg["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    out = {k: v for k, v in msg.items() if k not in ("reply_users", "bot_profile")}
    return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": out}


@web_api("chat.postEphemeral")
def chat_postEphemeral(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.postable(args["channel"])
    user = args["user"]
    if user not in ws.users:
        raise SlackError("user_not_found")
    ch = ws.channels[cid]
    if ch.is_im and ch.user != user:
        raise SlackError("user_not_in_channel")
    ws.check_content(args)
    ts = ws.next_ts()
    ws.ephemerals.append(
        {
            "channel": cid,
            "user": user,
            "ts": ts,
            "text": args.get("text") or "",
            "blocks": copy.deepcopy(args.get("blocks") or []),
            "thread_ts": args.get("thread_ts"),
            "source": "chat.postEphemeral",
        }
    )
    return {"message_ts": ts}


@web_api("chat.getPermalink")
def chat_getPermalink(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args["channel"])
    msg = ws.find_message(cid, args["message_ts"])
    link = f"https://{ws.team_domain}.slack.com/archives/{cid}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts") not in (None, msg["ts"]):
        link += f"?thread_ts={msg['thread_ts']}&cid={cid}"
    return {"channel": cid, "permalink": link}


@web_api("chat.delete")
def chat_delete(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args.get("channel"))
    msg = ws.find_message(cid, args.get("ts"))
    if msg.get("bot_id") != ws.bot_id:
        raise SlackError("cant_delete_message")
    ws.delete(cid, msg)
    return {"channel": cid, "ts": msg["ts"]}
