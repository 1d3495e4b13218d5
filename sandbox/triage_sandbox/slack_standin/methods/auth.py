"""auth.test and apps.connections.open (Socket Mode's ticket, with the app-level token)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from triage_sandbox.slack_standin.model import SlackError
from triage_sandbox.slack_standin.webapi import web_api
from triage_sandbox.slack_standin.workspace import Workspace


@web_api("auth.test")
def auth_test(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@web_api("apps.connections.open", app_level=True)
def apps_connections_open(
    ws: Workspace, args: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    if ws.socket_base is None:
        raise SlackError("internal_error", status=500)
    ticket = secrets.token_hex(16)
    ws.socket_tickets[ticket] = time.monotonic()
    return {"url": ws.socket_base + ticket}
