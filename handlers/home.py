"""App Home: the open groups of the teams whose channels the user is in, newest first."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.query.blocks import home_view

log = logging.getLogger(__name__)


def _user_channels(client: WebClient, user: str) -> set[str] | None:
    """Channels the user is in (that the bot can see); None when Slack won't say."""
    try:
        channels: set[str] = set()
        cursor = None
        while True:
            resp = client.users_conversations(
                user=user, types="public_channel,private_channel", limit=200, cursor=cursor
            )
            channels |= {c["id"] for c in resp.get("channels", [])}
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return channels
    except SlackApiError as exc:
        log.warning(
            "users.conversations failed (%s): showing all open alerts", exc.response.get("error")
        )
        return None


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        mine = _user_channels(client, user)
        groups = deps.history.recent_open(None, 60)
        if mine is not None:
            groups = [
                g for g in groups if any(v.split("/", 1)[0] in mine for v in g.messages.values())
            ]
        client.views_publish(user_id=user, view=home_view(groups[:30], deps.locale, deps.timezone))
