"""pins.add."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace


@web_api("pins.add")
def pins_add(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args.get("channel"))
    ch = ws.channels[cid]
    if not ch.is_member and not ch.is_im:
        raise SlackError("not_in_channel")
    if not args.get("timestamp"):
        raise SlackError("no_item_specified")
    msg = ws.find_message(cid, args["timestamp"])
    if msg["ts"] in ch.pins:
        raise SlackError("already_pinned")
    ws.channels[cid] = replace(ch, pins=(*ch.pins, msg["ts"]))
    msg.setdefault("pinned_to", []).append(cid)
    return {}
