"""`/triage incident ...`: parse the words, call the incident service, answer in text.

declare [title]          a new incident (its own channel); run anywhere
status <investigating|identified|monitoring|resolved>
sev <1-4> · lead <@user> · link <group id> · timeline · postmortem · resolve
                         in the incident's channel
"""

from __future__ import annotations

import re

from bot.i18n import t
from bot.incident.model import Status, parse_severity, parse_status
from bot.incident.service import IncidentService, Result
from bot.notify.blocks import escape

_MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,20})$")
_IN_CHANNEL = ("status", "sev", "severity", "lead", "link", "timeline", "postmortem", "resolve")


def answer_incident(
    service: IncidentService | None,
    args: list[str],
    *,
    user: str,
    channel: str,
    locale: str,
) -> Result:
    if service is None or not args or args[0].lower() in ("help", "-h", "--help"):
        return Result(True, t("incident.help", locale))
    sub, rest = args[0].lower(), args[1:]
    if sub == "declare":
        return service.declare(" ".join(rest), user, source=channel, locale=locale)
    if sub not in _IN_CHANNEL:
        return Result(
            False, t("cmd.unknown", locale, cmd=escape(sub)) + "\n" + t("incident.help", locale)
        )
    inc = service.by_channel(channel)
    if inc is None:
        return Result(False, t("incident.error.not_here", locale))
    if sub == "status":
        status = parse_status(rest[0]) if rest else None
        if status is None:
            word = escape(rest[0]) if rest else ""
            return Result(False, t("incident.error.bad_status", locale, word=word))
        return service.set_status(inc, status, user)
    if sub == "resolve":
        if inc.status is Status.RESOLVED:
            return Result(False, t("incident.error.resolved", locale))
        return service.set_status(inc, Status.RESOLVED, user)
    if sub in ("sev", "severity"):
        sev = parse_severity(rest[0]) if rest else None
        if sev is None:
            word = escape(rest[0]) if rest else ""
            return Result(False, t("incident.error.bad_severity", locale, word=word))
        return service.set_severity(inc, sev, user)
    if sub == "lead":
        m = _MENTION.match(rest[0]) if rest else None
        if m is None:
            return Result(False, t("incident.error.bad_user", locale))
        return service.set_lead(inc, m.group(1) or m.group(2), user)
    if sub == "link":
        if not rest:
            usage = "`/triage incident link <group id>`"
            return Result(False, t("incident.error.usage", locale, usage=usage))
        return service.link(inc, rest[0], user)
    if sub == "timeline":
        return service.timeline(inc)
    return service.postmortem(inc, user)
