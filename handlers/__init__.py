"""Slack listeners. Thin: ack, decode, call bot.*, answer."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers import actions, commands, home, incidents


def register(app: App, deps: Deps) -> None:
    actions.register(app, deps)
    commands.register(app, deps)
    home.register(app, deps)
    incidents.register(app, deps)
