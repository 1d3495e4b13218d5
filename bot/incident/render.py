"""Block Kit and text for incidents: the pinned summary, timeline lines, the resolve question,
and the postmortem draft (Markdown). Pure: data in, dicts and strings out; every piece of
untrusted text (titles, error text, service names) is escaped for mrkdwn."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import t
from bot.incident.model import Event, EventKind, Incident, Severity, Status
from bot.models import Group
from bot.notify.actions import Action
from bot.notify.blocks import (
    HEADER_MAX,
    SECTION_TEXT_MAX,
    cut,
    error_reporting_url,
    escape,
    fmt_time,
    logs_url,
    mention,
    safe,
)
from bot.notify.kit import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

MAX_SUMMARY_GROUPS = 30  # lines of linked groups in the summary (the rest: "and N more")
_STATUS_EMOJI = {
    Status.INVESTIGATING: ":mag:",
    Status.IDENTIFIED: ":bulb:",
    Status.MONITORING: ":eyes:",
    Status.RESOLVED: ":white_check_mark:",
}


def incident_value(iid: str, value: str = "") -> str:
    """A control's value: the incident id and the chosen value ("i|v"), checked on return."""
    return f"{iid}|{value}" if value else iid


def status_label(s: Status, loc: str) -> str:
    return f"{_STATUS_EMOJI[s]} {t(f'incident.status.{s.value}', loc)}"


def _hhmm(ts: float, tz: str) -> str:
    try:
        zone: Any = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = UTC
    return datetime.fromtimestamp(ts, zone).strftime("%H:%M")


def topic(inc: Incident, loc: str) -> str:
    """The channel topic (plain text, at most 250 characters)."""
    lead = t("incident.no_lead", loc) if not inc.lead else f"<@{inc.lead}>"
    return cut(
        t(
            "incident.topic",
            loc,
            severity=inc.severity.value,
            status=t(f"incident.status.{inc.status.value}", loc),
            lead=lead,
        ),
        250,
    )


def purpose(inc: Incident, loc: str) -> str:
    return cut(t("incident.purpose", loc, title=inc.title), 250)


def _group_line(g: Group, loc: str, tz: str) -> str:
    links = [f"<{logs_url(g)}|{t('link.logs', loc)}>"]
    if (eu := error_reporting_url(g)) is not None:
        links.append(f"<{eu}|{t('link.error_reporting', loc)}>")
    state = t(f"digest.state.{g.state}", loc) if g.state in _STATES else safe(g.state, 20)
    return t(
        "incident.group_line",
        loc,
        title=safe(g.title or "error", 120),
        service=safe(g.service, 60),
        count=f"{g.count:,}",
        state=state,
        gid=g.id,
        links=" · ".join(links),
    )


_STATES = ("open", "acknowledged", "resolved", "snoozed")


def summary_text(inc: Incident, loc: str) -> str:
    return t(
        "incident.summary_text",
        loc,
        severity=inc.severity.value,
        title=cut(escape(inc.title), 200),
        status=t(f"incident.status.{inc.status.value}", loc),
    )


def summary_blocks(
    inc: Incident, groups: Sequence[Group | None], loc: str, tz: str
) -> list[dict[str, Any]]:
    """The pinned summary: title, status, severity, commander, the linked groups with their
    live counts, and the controls (status, severity, commander, resolve)."""
    lead = mention(inc.lead, loc) if inc.lead else t("incident.no_lead", loc)
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(
                text=cut(f"{inc.severity.value} · {inc.title or 'incident'}", HEADER_MAX),
                emoji=False,
            )
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text=f"*{t('incident.field.status', loc)}*\n{status_label(inc.status, loc)}"
                ),
                MarkdownTextObject(
                    text=f"*{t('incident.field.severity', loc)}*\n{inc.severity.value}"
                ),
                MarkdownTextObject(text=f"*{t('incident.field.lead', loc)}*\n{lead}"),
                MarkdownTextObject(
                    text=f"*{t('incident.field.declared', loc)}*\n"
                    f"{mention(inc.declared_by, loc)} {fmt_time(inc.declared_at, tz)}"
                ),
            ]
        ),
    ]
    present = [g for g in groups if g is not None]
    total = sum(g.count for g in present)
    services = len({g.service for g in present})
    head = t("incident.groups_head", loc, n=len(present), services=services, count=f"{total:,}")
    chunk = f"*{head}*"
    for g in present[:MAX_SUMMARY_GROUPS]:
        line = _group_line(g, loc, tz)
        if len(chunk) + 1 + len(line) > SECTION_TEXT_MAX:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if len(present) > MAX_SUMMARY_GROUPS:
        chunk += "\n" + t("incident.more_groups", loc, n=len(present) - MAX_SUMMARY_GROUPS)
    if not present:
        chunk += "\n" + t("incident.no_groups", loc)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    blocks.append(ActionsBlock(block_id=f"tb_inc:{inc.id}", elements=_controls(inc, loc)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("incident.hint", loc))]))
    return [b.to_dict() for b in blocks[:50]]


def _controls(inc: Incident, loc: str) -> list[Any]:
    statuses = [s for s in Status if s is not Status.RESOLVED]
    out: list[Any] = [
        StaticSelectElement(
            placeholder=t("incident.button.status", loc),
            action_id=Action.INCIDENT_STATUS,
            options=[
                Option(text=status_label(s, loc), value=incident_value(inc.id, s.value))
                for s in statuses
            ],
        ),
        StaticSelectElement(
            placeholder=t("incident.button.severity", loc),
            action_id=Action.INCIDENT_SEVERITY,
            options=[Option(text=s.value, value=incident_value(inc.id, s.value)) for s in Severity],
        ),
        UserSelectElement(
            placeholder=t("incident.button.lead", loc), action_id=Action.INCIDENT_LEAD
        ),
    ]
    if inc.status is not Status.RESOLVED:
        out.append(
            ButtonElement(
                text=t("incident.button.resolve", loc),
                action_id=Action.INCIDENT_RESOLVE,
                value=incident_value(inc.id),
                style="danger",
            )
        )
    return out


def resolve_question(inc: Incident, open_groups: int, loc: str) -> tuple[str, list[dict]]:
    """After the incident is resolved: resolve its groups too?"""
    text = t("incident.resolve_groups_q", loc, n=open_groups)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id=f"tb_inc_q:{inc.id}",
            elements=[
                ButtonElement(
                    text=t("incident.button.resolve_groups", loc, n=open_groups),
                    action_id=Action.INCIDENT_RESOLVE_GROUPS,
                    value=incident_value(inc.id, "yes"),
                    style="primary",
                ),
                ButtonElement(
                    text=t("incident.button.keep_groups", loc),
                    action_id=Action.INCIDENT_KEEP_GROUPS,
                    value=incident_value(inc.id, "no"),
                ),
            ],
        ),
    ]
    return text, [b.to_dict() for b in blocks]


def event_text(e: Event, loc: str, titles: dict[str, str] | None = None) -> str:
    """One timeline line, without the time (the message's own time shows it)."""
    who = mention(e.actor, loc) if e.actor else t("incident.actor.bot", loc)
    d = e.detail
    if e.kind is EventKind.GROUP:
        gid = d.get("group", "")
        title = (titles or {}).get(gid) or d.get("title", "")
        key = f"incident.event.group.{d.get('what', '')}"
        if not _has(key):
            key = "incident.event.group.other"
        return t(
            key, loc, who=who, gid=gid, title=safe(title, 150), what=safe(d.get("what", ""), 40)
        )
    if e.kind is EventKind.DECLARED:
        return t("incident.event.declared", loc, who=who, title=safe(d.get("title", ""), 150))
    if e.kind is EventKind.STATUS:
        return t(
            "incident.event.status",
            loc,
            who=who,
            status=status_label(Status(d.get("status", "investigating")), loc),
        )
    if e.kind is EventKind.SEVERITY:
        return t("incident.event.severity", loc, who=who, severity=safe(d.get("severity", ""), 8))
    if e.kind is EventKind.LEAD:
        return t("incident.event.lead", loc, who=who, lead=mention(d.get("lead", ""), loc))
    if e.kind is EventKind.LINKED:
        return t(
            "incident.event.linked",
            loc,
            who=who,
            gid=d.get("group", ""),
            title=safe(d.get("title", ""), 150),
        )
    if e.kind is EventKind.GROUPS_RESOLVED:
        return t("incident.event.groups_resolved", loc, who=who, n=d.get("n", "0"))
    return t("incident.event.postmortem", loc, who=who)


def _has(key: str) -> bool:
    from bot.i18n import catalog

    return key in catalog("en")


def timeline_text(
    inc: Incident, events: Sequence[Event], loc: str, tz: str, titles: dict[str, str]
) -> str:
    """`/triage incident timeline`: every event with its time and actor, oldest first."""
    lines = [t("incident.timeline_head", loc, name=inc.id, n=len(events))]
    for e in events:
        lines.append(f"`{_hhmm(e.at, tz)}` {event_text(e, loc, titles)}")
    return cut("\n".join(lines), 3900)


def _md(text: str) -> str:
    """Untrusted text inside the Markdown draft: no HTML, no link or emphasis syntax tricks."""
    out = text.replace("\\", "\\\\")
    for ch in "`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def postmortem_markdown(
    inc: Incident,
    groups: Sequence[Group | None],
    events: Sequence[Event],
    now: float,
    tz: str,
    users: dict[str, str] | None = None,
) -> str:
    """The postmortem draft: summary, impact per service with counts, timeline, linked groups
    with links to Logs Explorer and Error Reporting, and the questions a review answers."""
    users = users or {}
    present = [g for g in groups if g is not None]

    def who(uid: str) -> str:
        return _md(users.get(uid, uid)) if uid else "triage-bot"

    def when(ts: float) -> str:
        return fmt_time(ts, tz)

    end = next(
        (
            e.at
            for e in reversed(events)
            if e.kind is EventKind.STATUS and e.detail.get("status") == Status.RESOLVED.value
        ),
        None,
    )
    first = min((g.first for g in present), default=inc.declared_at)
    lines = [
        f"# Postmortem (draft): {_md(inc.title)}",
        "",
        f"- Incident: #{inc.id} · {inc.severity.value} · status {inc.status.value}",
        f"- Declared by {who(inc.declared_by)} at {when(inc.declared_at)}",
        f"- Commander: {who(inc.lead) if inc.lead else 'not set'}",
        f"- First error: {when(first)}" + (f" · resolved: {when(end)}" if end else ""),
        f"- Draft generated {when(now)}",
        "",
        "## Summary",
        "",
        "_What happened, in two or three sentences._",
        "",
        "## Impact",
        "",
        "| service | errors | groups |",
        "|---|---:|---:|",
    ]
    per: dict[str, list[int]] = {}
    for g in present:
        row = per.setdefault(g.service, [0, 0])
        row[0] += g.count
        row[1] += 1
    for svc, (count, n) in sorted(per.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {_md(svc)} | {count:,} | {n} |")
    lines += ["", "## Timeline", ""]
    for e in events:
        lines.append(f"- {when(e.at)} — {who(e.actor)}: {_md(_plain_event(e))}")
    lines += ["", "## Linked groups", ""]
    for g in present:
        links = [f"[Logs Explorer]({logs_url(g)})"]
        if (eu := error_reporting_url(g)) is not None:
            links.append(f"[Error Reporting]({eu})")
        lines.append(
            f"- `{g.id}` {_md(g.title)} — {_md(g.service)}, {g.count:,} errors, "
            f"first {when(g.first)}, state {g.state} — " + " · ".join(links)
        )
    lines += [
        "",
        "## Root cause",
        "",
        "_Why it happened._",
        "",
        "## What went well / what did not",
        "",
        "## Action items",
        "",
        "- [ ] ",
        "",
    ]
    return "\n".join(lines)


def _plain_event(e: Event) -> str:
    d = e.detail
    if e.kind is EventKind.GROUP:
        return f"{d.get('what', '')} {d.get('group', '')} {d.get('title', '')}".strip()
    if e.kind is EventKind.DECLARED:
        return f"declared: {d.get('title', '')}"
    if e.kind is EventKind.STATUS:
        return f"status {d.get('status', '')}"
    if e.kind is EventKind.SEVERITY:
        return f"severity {d.get('severity', '')}"
    if e.kind is EventKind.LEAD:
        return f"commander {d.get('lead', '')}"
    if e.kind is EventKind.LINKED:
        return f"linked {d.get('group', '')} {d.get('title', '')}".strip()
    if e.kind is EventKind.GROUPS_RESOLVED:
        return f"resolved {d.get('n', '0')} linked groups"
    return "postmortem draft uploaded"
