"""Buttons and selects on alert messages: ack, decode, call bot.lifecycle, answer errors."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from bot.i18n import t
from bot.notify.actions import (
    SNOOZE_CHOICES,
    TRANSITION,
    Action,
    BadValue,
    decode_value,
    gid_from_block_id,
)

# A digest line's menu choice -> (transition, argument); "own" is handled apart.
DIGEST_CHOICES: dict[str, tuple[str, Any]] = {
    "ack": ("acknowledge", ""),
    "resolve": ("resolve", ""),
    "snooze": ("snooze_for", 3600),
}


def _fail(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _locale(deps: Deps, body: dict[str, Any]) -> str:
    return deps.locale_and_tz(str((body.get("channel") or {}).get("id", "")))[0]


def register(app: App, deps: Deps) -> None:
    def act(
        body: dict[str, Any], respond: Respond, gid: str, transition: str, arg: Any = ""
    ) -> None:
        loc = _locale(deps, body)
        out = deps.lifecycle.act(gid, transition, body["user"]["id"], arg, locale=loc)
        if not out.ok:
            _fail(respond, out.message)

    def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            value = decode_value(action.get("value"))
        except BadValue:
            _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        act(body, respond, value["g"], TRANSITION[Action(action["action_id"])])

    for button in (Action.ACK, Action.UNACK, Action.RESOLVE, Action.REOPEN, Action.UNSNOOZE):
        app.action(str(button))(on_button)

    @app.action(str(Action.SNOOZE))
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            value = decode_value((action.get("selected_option") or {}).get("value"))
            transition, arg = SNOOZE_CHOICES[value.get("s", "")]
        except (BadValue, KeyError):
            _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        act(body, respond, value["g"], transition, arg)

    @app.action(str(Action.MERGE))
    def on_merge(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """ "Merge into…": the target is a group id, typed in the command this answer shows."""
        ack()
        loc = _locale(deps, body)
        try:
            gid = decode_value(action.get("value"))["g"]
        except BadValue:
            _fail(respond, t("error.bad_value", loc))
            return
        _fail(respond, t("merge.prompt", loc, gid=gid))  # gid matched the id pattern: no markup

    @app.action(str(Action.ASSIGN))
    def on_assign(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            gid = gid_from_block_id(action.get("block_id"))
        except BadValue:
            _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        act(body, respond, gid, "assign", str(action.get("selected_user", "")))

    @app.action(str(Action.DIGEST_ITEM))
    def on_digest_item(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        """A digest line's menu: acknowledge, resolve, snooze 1 h, or post it on its own."""
        ack()
        try:
            value = decode_value((action.get("selected_option") or {}).get("value"))
            choice = value.get("a", "")
        except BadValue:
            _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        gid = value["g"]
        if choice == "own":
            channel = str((body.get("channel") or {}).get("id", ""))
            if not deps.notifier.post_on_its_own(gid, channel):
                _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        step = DIGEST_CHOICES.get(choice)
        if step is None:
            _fail(respond, t("error.bad_value", _locale(deps, body)))
            return
        act(body, respond, gid, step[0], step[1])
