"""reactions.add."""

from __future__ import annotations

import re
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace


@web_api("reactions.add")
def reactions_add(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    cid = ws.channel_id(args["channel"])
    msg = ws.find_message(cid, args["timestamp"])
    name = str(args["name"]).strip(":")
    if not re.fullmatch(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?", name):
        raise SlackError("invalid_name")
    reactions = msg.setdefault("reactions", [])
    for r in reactions:
        if r["name"] == name:
            if ws.bot_user_id in r["users"]:
                raise SlackError("already_reacted")
            r["users"].append(ws.bot_user_id)
            r["count"] += 1
            break
    else:
        reactions.append({"name": name, "users": [ws.bot_user_id], "count": 1})
    return {}
