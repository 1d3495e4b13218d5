"""Buttons and selects on alert messages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from bot.i18n import t
from bot.notify.actions import SNOOZE_CHOICES, TRANSITION, Action, BadValue, decode_value

log = logging.getLogger(__name__)


def _fail(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, deps: Deps) -> None:
    def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        loc = deps.locale
        try:
            value = decode_value(action.get("value"))
        except BadValue:
            _fail(respond, t("error.bad_value", loc))
            return
        user = body["user"]["id"]
        out = deps.lifecycle.act(
            value["g"], TRANSITION[Action(action["action_id"])], user, locale=loc
        )
        if not out.ok:
            _fail(respond, out.message)

    for act in (Action.ACK, Action.UNACK, Action.RESOLVE, Action.REOPEN, Action.UNSNOOZE):
        app.action(str(act))(on_button)

    @app.action(str(Action.SNOOZE))
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        loc = deps.locale
        try:
            value = decode_value((action.get("selected_option") or {}).get("value"))
            transition, arg = SNOOZE_CHOICES[value.get("s", "")]
        except (BadValue, KeyError):
            _fail(respond, t("error.bad_value", loc))
            return
        out = deps.lifecycle.act(value["g"], transition, body["user"]["id"], arg, locale=loc)
        if not out.ok:
            _fail(respond, out.message)

    @app.action(str(Action.ASSIGN))
    def on_assign(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        loc = deps.locale
        block_id = str(action.get("block_id", ""))
        gid = block_id.split(":", 1)[1] if block_id.startswith("tb_actions:") else ""
        try:
            decode_value(f'{{"g": "{gid}"}}' if gid.replace("-", "").isalnum() else "")
        except BadValue:
            _fail(respond, t("error.bad_value", loc))
            return
        out = deps.lifecycle.act(
            gid, "assign", body["user"]["id"], str(action.get("selected_user", "")), locale=loc
        )
        if not out.ok:
            _fail(respond, out.message)
