"""users.* and usergroups.*."""

from __future__ import annotations

import time
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace, flag


@web_api("users.info")
def users_info(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    uid = args.get("user")
    if uid not in ws.users:
        raise SlackError("user_not_found")
    return {"user": ws.user_object(uid)}


@web_api("users.list")
def users_list(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    members = [ws.user_object(uid) for uid in ws.users]
    return {"cache_ts": int(time.time()), **ws.paginate(members, args, "members")}


@web_api("usergroups.list")
def usergroups_list(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    groups = []
    for gid, g in ws.usergroups.items():
        item: dict[str, Any] = {
            "id": gid,
            "team_id": ws.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": g.name or g.handle,
            "description": "",
            "handle": g.handle,
            "is_external": False,
            "date_create": 1_700_000_000,
            "date_update": 1_700_000_000,
            "date_delete": 0,
            "auto_type": None,
            "created_by": next(iter(ws.users)),
            "prefs": {"channels": [], "groups": []},
        }
        if flag(args.get("include_users")):
            item["users"] = list(g.users)
        if flag(args.get("include_count")):
            item["user_count"] = len(g.users)
        groups.append(item)
    return {"usergroups": groups}


@web_api("usergroups.users.list")
def usergroups_users_list(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    g = ws.usergroups.get(str(args.get("usergroup", "")))
    if g is None:
        raise SlackError("no_such_subteam")
    return {"users": list(g.users)}
