"""views.publish (the Home tab) and views.open (modals, with a trigger)."""

from __future__ import annotations

import copy
import time
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace


@web_api("views.publish")
def views_publish(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    user_id = args["user_id"]
    if user_id not in ws.users:
        raise SlackError("user_not_found")
    ws.check_view(args["view"], "home")
    current = ws.home_views.get(user_id)
    if args.get("hash") and current is not None and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    view_id = current["id"] if current else ws.new_id("V")
    view = ws.view_object(args["view"], view_id)
    ws.home_views[user_id] = view
    return {"view": copy.deepcopy(view)}


@web_api("views.open")
def views_open(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    trigger = args.get("trigger_id") or args.get("interactivity_pointer")
    if trigger not in ws.triggers:
        raise SlackError("invalid_trigger_id")
    created, used = ws.triggers[trigger]
    if used:
        raise SlackError("trigger_exchanged")
    if time.monotonic() - created > ws.trigger_ttl:
        raise SlackError("expired_trigger_id")
    ws.check_view(args["view"], "modal")
    ws.triggers[trigger] = (created, True)
    view_id = ws.new_id("V")
    view = ws.view_object(args["view"], view_id)
    ws.modals[view_id] = view
    return {"view": copy.deepcopy(view)}
