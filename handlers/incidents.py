"""Incident controls: declare from an alert or a digest, then the pinned summary's status,
severity and commander selects, resolve, and the "resolve its groups too?" answer.
Thin: ack, decode, call bot.incident.service, answer."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from bot.i18n import t
from bot.incident.model import Incident, Status, parse_severity, parse_status
from bot.incident.service import Result
from bot.notify.actions import Action, BadValue, decode_value

_IID = re.compile(r"^inc-\d{8}-[a-z0-9-]{1,70}$")


def _loc(deps: Deps, body: dict[str, Any]) -> str:
    return deps.locale_and_tz(str((body.get("channel") or {}).get("id", "")))[0]


def _answer(respond: Respond, res: Result) -> None:
    respond(text=res.text, response_type="ephemeral", replace_original=False)


def register(app: App, deps: Deps) -> None:
    def incident(body: dict[str, Any], value: str | None) -> tuple[Incident, str] | None:
        """ "iid|choice" -> the stored incident and the choice; None when not ours."""
        iid, _, choice = (value or "").partition("|")
        if not _IID.match(iid) or deps.incidents is None:
            return None
        inc = deps.incidents.store.load(iid)
        return (inc, choice) if inc is not None else None

    def bad(respond: Respond, body: dict[str, Any]) -> None:
        respond(
            text=t("error.bad_value", _loc(deps, body)),
            response_type="ephemeral",
            replace_original=False,
        )

    def source(body: dict[str, Any]) -> str:
        ch = str((body.get("channel") or {}).get("id", ""))
        ts = str((body.get("message") or {}).get("ts", ""))
        return f"{ch}/{ts}" if ch and ts else ch

    @app.action(str(Action.DECLARE))
    def on_declare(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        try:
            gid = decode_value(action.get("value"))["g"]
        except BadValue:
            return bad(respond, body)
        if deps.incidents is None:
            return bad(respond, body)
        loc = _loc(deps, body)
        _answer(respond, deps.incidents.declare("", body["user"]["id"], [gid], source(body), loc))

    @app.action(str(Action.DECLARE_DIGEST))
    def on_declare_digest(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        loc = _loc(deps, body)
        try:
            value = decode_value(action.get("value"))
            n = int(value.get("d", ""))
        except (BadValue, ValueError):
            return bad(respond, body)
        if deps.incidents is None:
            return bad(respond, body)
        channel = str((body.get("channel") or {}).get("id", ""))
        gids = deps.store.load_digest(channel, n).gids
        if not gids:
            respond(
                text=t("incident.error.digest_gone", loc),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        _answer(respond, deps.incidents.declare("", body["user"]["id"], gids, source(body), loc))

    @app.action(str(Action.INCIDENT_STATUS))
    def on_status(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        got = incident(body, (action.get("selected_option") or {}).get("value"))
        status = parse_status(got[1]) if got else None
        if got is None or status is None or deps.incidents is None:
            return bad(respond, body)
        res = deps.incidents.set_status(got[0], status, body["user"]["id"])
        if not res.ok:
            _answer(respond, res)

    @app.action(str(Action.INCIDENT_SEVERITY))
    def on_sev(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        got = incident(body, (action.get("selected_option") or {}).get("value"))
        sev = parse_severity(got[1]) if got else None
        if got is None or sev is None or deps.incidents is None:
            return bad(respond, body)
        deps.incidents.set_severity(got[0], sev, body["user"]["id"])

    @app.action(str(Action.INCIDENT_LEAD))
    def on_lead(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        prefix, _, iid = str(action.get("block_id") or "").partition(":")
        got = incident(body, iid) if prefix == "tb_inc" else None
        if got is None or deps.incidents is None:
            return bad(respond, body)
        res = deps.incidents.set_lead(
            got[0], str(action.get("selected_user", "")), body["user"]["id"]
        )
        if not res.ok:
            _answer(respond, res)

    @app.action(str(Action.INCIDENT_RESOLVE))
    def on_resolve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        got = incident(body, action.get("value"))
        if got is None or deps.incidents is None:
            return bad(respond, body)
        deps.incidents.set_status(got[0], Status.RESOLVED, body["user"]["id"])

    @app.action(str(Action.INCIDENT_RESOLVE_GROUPS))
    def on_resolve_groups(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        got = incident(body, action.get("value"))
        if got is None or deps.incidents is None:
            return bad(respond, body)
        res = deps.incidents.resolve_groups(got[0], body["user"]["id"])
        respond(text=res.text, replace_original=True)

    @app.action(str(Action.INCIDENT_KEEP_GROUPS))
    def on_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        if incident(body, action.get("value")) is None:
            return bad(respond, body)
        respond(text=t("incident.button.keep_groups", _loc(deps, body)), replace_original=True)
