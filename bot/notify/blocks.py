"""Block Kit rendering of alert groups (pure). Log text is untrusted: escaped and cut to limits."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import slack_ids
from bot.i18n import t
from bot.models import Group
from bot.notify.actions import SNOOZE_CHOICES, Action, encode_value
from bot.notify.kit import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from bot.notify.view import View

SECTION_TEXT_MAX = 3000
HEADER_MAX = 150
FIELD_MAX = 2000
FALLBACK_TEXT_MAX = 3000
SPARK = "▁▂▃▄▅▆▇█"


SYSTEM_USERS = {"error-reporting": "user.error_reporting"}


def mention(user: str, loc: str = "en") -> str:
    """A Slack mention for a user id; a named system actor (e.g. Error Reporting) as text."""
    if slack_ids.is_user(user):
        return f"<@{user}>"
    if user in SYSTEM_USERS:
        return t(SYSTEM_USERS[user], loc)
    return escape(user)


def escape(text: str) -> str:
    """Escape for Slack mrkdwn: no mentions, links or channel pings from log text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut; never half an escape entity."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def safe(text: str, limit: int) -> str:
    """Untrusted text for mrkdwn: escaped, then cut to `limit`."""
    return cut(escape(text), limit)


def code_block(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Untrusted text in a ``` block: escaped, backtick runs defused, cut to the limit."""
    body = escape(text).replace("```", "ˋˋˋ")
    if body.endswith("`"):
        body += " "  # a trailing backtick would close the block early
    return "```" + cut(body, limit - 6) + "```"


def sparkline(counts: Sequence[int]) -> str:
    top = max(counts, default=0)
    if top == 0:
        return SPARK[0] * len(counts)
    return "".join(SPARK[0] if c == 0 else SPARK[min(7, 1 + (c * 7 - 1) // top)] for c in counts)


def fmt_time(ts: float, tz: str) -> str:
    try:
        zone: Any = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = UTC
    try:
        return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M %Z")
    except (ValueError, OverflowError, OSError):  # out of datetime's range: stored before bounds
        return "?"


def logs_url(g: Group) -> str:
    project = g.get("project")
    rtype = g.get("resource_type")
    filt = [f'resource.type="{rtype}"'] if rtype and len(rtype) <= 100 else []
    label = {
        "cloud_run_revision": "service_name",
        "cloud_function": "function_name",
        "cloud_run_job": "job_name",
    }.get(g.get("resource_type"))
    if len(g.service) > 200 or len(project) > 100:  # not a real name: a link without it
        label, project = None, project[:100]
    if label:
        filt.append(f'resource.labels.{label}="{g.service}"')
    elif len(g.service) <= 200 and "/" in g.service and g.get("resource_type") == "k8s_container":
        ns, container = g.service.split("/", 1)
        filt += [
            f'resource.labels.namespace_name="{ns}"',
            f'resource.labels.container_name="{container}"',
        ]
    filt.append("severity>=ERROR")
    query = urllib.parse.quote("\n".join(filt), safe="")
    return f"https://console.cloud.google.com/logs/query;query={query}?project={_q(project)}"


def _q(text: str) -> str:
    """Untrusted text inside a link target: nothing that could end the <url|label> syntax."""
    return urllib.parse.quote(text, safe="")


def trace_url(g: Group) -> str | None:
    trace = g.get("trace")
    if len(trace) > 300 or not trace.startswith("projects/") or "/traces/" not in trace:
        return None
    project, tid = trace.split("/")[1], trace.rsplit("/", 1)[1]
    return f"https://console.cloud.google.com/traces/list?project={_q(project)}&tid={_q(tid)}"


def error_reporting_url(g: Group) -> str | None:
    eg = g.get("error_group")
    if not eg or len(eg) > 200:
        return None
    return f"https://console.cloud.google.com/errors/detail/{_q(eg)}?project={_q(g.get('project'))}"


def links_line(g: Group, loc: str) -> str:
    """Logs Explorer, trace and Error Reporting links, and the group id."""
    links = [f"<{logs_url(g)}|{t('link.logs', loc)}>"]
    if (tu := trace_url(g)) is not None:
        links.append(f"<{tu}|{t('link.trace', loc)}>")
    if (eu := error_reporting_url(g)) is not None:
        links.append(f"<{eu}|{t('link.error_reporting', loc)}>")
    links.append(f"`{g.id}`")
    return " · ".join(links)


def state_line(g: Group, v: View) -> str:
    loc = v.locale
    state = g.state
    if state == "acknowledged":
        return t(
            "state.acknowledged_by",
            loc,
            user=mention(g.get("acked_by"), loc),
            when=fmt_time(float(g.get("acked_at", "0")), v.tz),
        )
    if state == "resolved":
        when = fmt_time(float(g.get("resolved_at", "0")), v.tz)
        if g.get("auto_resolved"):
            return t("state.auto_resolved", loc, when=when)
        key = "state.resolved_next" if g.get("resolve_next") else "state.resolved_by"
        return t(key, loc, user=mention(g.get("resolved_by"), loc), when=when)
    if state == "snoozed":
        return _snoozed_line(g, v)
    if g.get("regressed_at"):
        return t("state.regressed", loc, when=fmt_time(float(g.get("regressed_at")), v.tz))
    return t("state.open", loc)


def _snoozed_line(g: Group, v: View) -> str:
    loc, user = v.locale, mention(g.get("snoozed_by"), v.locale)
    if g.get("snooze_factor"):
        line = t("state.snoozed_escalating", loc, user=user, factor=g.get("snooze_factor"))
    elif g.get("snooze_until"):
        when = fmt_time(float(g.get("snooze_until")), v.tz)
        line = t("state.snoozed_until", loc, user=user, when=when)
    elif g.get("snooze_left"):
        line = t("state.snoozed_count", loc, user=user, n=g.get("snooze_left"))
    else:
        line = t("state.snoozed", loc, user=user)
    if g.get("snooze_scope"):
        line += " " + t("state.snooze_scope", loc, scope=safe(g.get("snooze_scope"), 200))
    return line


def alert_text(g: Group, v: View) -> str:
    """The notification text (what a phone shows); plain, escaped."""
    return cut(escape(f"[{g.service}] {g.title}"), FALLBACK_TEXT_MAX)


def merged_line(g: Group, loc: str) -> str:
    """ "Merged into <target>" (with a link to its alert when known), for a merged group."""
    target = f"`{escape(g.get('merged_into'))}`"
    link = g.get("merged_link")
    if link.startswith("https://") and not any(c in link for c in "<>| "):
        target = f"<{link}|{target}>"
    return t("alert.merged_into", loc, target=target, user=mention(g.get("merged_by"), loc))


def alert_blocks(g: Group, v: View) -> list[dict[str, Any]]:
    loc = v.locale
    if g.get("merged_into"):  # one message per bug: this one points at the other, no buttons
        return [
            HeaderBlock(
                text=PlainTextObject(text=cut(g.title or "error", HEADER_MAX), emoji=False)
            ).to_dict(),
            SectionBlock(text=MarkdownTextObject(text=merged_line(g, loc))).to_dict(),
            ContextBlock(elements=[MarkdownTextObject(text=links_line(g, loc))]).to_dict(),
        ]
    where = g.service
    rev = g.get("version") or g.get("revision")
    if rev:
        where = f"{where} ({rev})"
    fields = [
        MarkdownTextObject(text=f"*{t('field.service', loc)}*\n{safe(where, FIELD_MAX - 100)}"),
        MarkdownTextObject(
            text=f"*{t('field.severity', loc)}*\n{safe(g.get('severity', 'ERROR'), 100)}"
        ),
        MarkdownTextObject(text=f"*{t('field.count', loc)}*\n{g.count:,}"),
        MarkdownTextObject(text=f"*{t('field.state', loc)}*\n{state_line(g, v)}"),
        MarkdownTextObject(text=f"*{t('field.first_seen', loc)}*\n{fmt_time(g.first, v.tz)}"),
        MarkdownTextObject(text=f"*{t('field.last_seen', loc)}*\n{fmt_time(g.last, v.tz)}"),
    ]
    if g.get("assignee"):
        fields.append(
            MarkdownTextObject(text=f"*{t('field.assignee', loc)}*\n<@{g.get('assignee')}>")
        )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=cut(g.title or "error", HEADER_MAX), emoji=False)),
        SectionBlock(fields=fields),
    ]
    if v.minutes or v.hours:
        spark = t("alert.sparkline", loc, hour=sparkline(v.minutes), day=sparkline(v.hours))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=spark)]))
    if g.sample:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=code_block(g.sample, 1500))))
    if g.frames:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=code_block("\n".join(g.frames), 1200)))
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=links_line(g, loc))]))
    if v.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=safe(v.note, 1000))]))
    incident = g.get("incident")
    if slack_ids.is_channel(incident):  # linked to a declared incident (bot.incident)
        line = t("alert.incident", loc, channel=incident)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    elements = _buttons(g, loc)
    if g.state != "resolved" and not incident:  # an alert can become an incident
        elements.append(
            ButtonElement(
                text=t("incident.button.declare", loc),
                action_id=Action.DECLARE,
                value=encode_value(g.id),
            )
        )
    blocks.append(ActionsBlock(block_id=f"tb_actions:{g.id}", elements=elements))
    return [b.to_dict() for b in blocks]


def _buttons(g: Group, loc: str) -> list[Any]:
    val = encode_value(g.id)
    out: list[Any] = []
    if g.state == "open":
        out.append(
            ButtonElement(
                text=t("button.acknowledge", loc), action_id=Action.ACK, value=val, style="primary"
            )
        )
    elif g.state == "acknowledged":
        out.append(
            ButtonElement(text=t("button.unacknowledge", loc), action_id=Action.UNACK, value=val)
        )
    if g.state == "resolved":
        out.append(ButtonElement(text=t("button.reopen", loc), action_id=Action.REOPEN, value=val))
    else:
        out.append(
            ButtonElement(text=t("button.resolve", loc), action_id=Action.RESOLVE, value=val)
        )
    if g.state == "snoozed":
        out.append(
            ButtonElement(text=t("button.unsnooze", loc), action_id=Action.UNSNOOZE, value=val)
        )
    elif g.state != "resolved":
        out.append(
            StaticSelectElement(
                placeholder=t("button.snooze", loc),
                action_id=Action.SNOOZE,
                options=[
                    Option(text=t(f"snooze.{k}", loc), value=encode_value(g.id, s=k))
                    for k in SNOOZE_CHOICES
                ],
            )
        )
    out.append(UserSelectElement(placeholder=t("button.assign", loc), action_id=Action.ASSIGN))
    out.append(ButtonElement(text=t("button.merge", loc), action_id=Action.MERGE, value=val))
    return out


def notice_text(notice: dict[str, Any], v: View) -> str:
    """A thread reply for a notable event."""
    loc, kind = v.locale, notice.get("kind", "")
    if kind == "regression":
        by = notice.get("by") or ""
        when = fmt_time(float(notice.get("at") or 0), v.tz)
        if notice.get("release"):  # resolved in the next release; a new revision throws it
            rev = safe(str(notice["release"]), 200)
            return t("notice.regression_release", loc, revision=rev, when=when)
        if notice.get("auto"):
            return t("notice.regression_auto", loc, when=when)
        return t("notice.regression", loc, by=f"<@{by}>" if by else t("someone", loc), when=when)
    if kind == "ack_reminder":
        user = str(notice.get("user") or "")
        minutes = max(0, int((float(notice.get("now") or 0) - float(notice.get("at") or 0)) // 60))
        who = f"<@{user}>" if user else t("someone", loc)
        return t("notice.ack_reminder", loc, user=who, minutes=minutes)
    if kind == "new_revision":
        return t("notice.new_revision", loc, revision=safe(str(notice.get("revision", "")), 200))
    if kind == "escalation":
        if notice.get("fallback"):  # a repeat: the person on call, then the team's fallback
            return t(
                "notice.escalation_fallback",
                loc,
                oncall=str(notice.get("oncall", "")),
                minutes=notice.get("minutes", ""),
                fallback=str(notice["fallback"]),
            )
        return t(
            "notice.escalation",
            loc,
            oncall=str(notice.get("oncall", "")),
            minutes=notice.get("minutes", ""),
        )
    if kind == "er_sync_failed":
        return t("notice.er_sync_failed", loc, message=escape(str(notice.get("message", ""))))
    if kind == "unsnoozed":
        if notice.get("why") == "scope":
            scope = safe(str(notice.get("scope", "")), 200)
            return t("notice.unsnoozed_scope", loc, scope=scope)
        if notice.get("why") == "escalating":
            return t("notice.unsnoozed_escalating", loc, factor=notice.get("factor", ""))
        return t("notice.unsnoozed", loc)
    if kind == "spike":
        rate, base = float(notice.get("rate") or 0), float(notice.get("baseline") or 0)
        return t("notice.spike", loc, rate=f"{rate:.1f}", baseline=f"{base:.1f}")
    return safe(str(notice), SECTION_TEXT_MAX)


def digest_notice_text(g: Group, notice: dict[str, Any], v: View) -> str:
    """A notice in a digest's thread: which group it is about, then the notice."""
    about = t("digest.about", v.locale, title=safe(g.title or "error", 200), gid=g.id)
    return cut(f"{about}\n{notice_text(notice, v)}", FALLBACK_TEXT_MAX)


def digest_text(groups: Sequence[Group], v: View) -> str:
    return t("digest.text", v.locale, n=len(groups))


def _digest_line(g: Group, v: View) -> str:
    state = t(f"digest.state.{g.state}", v.locale) if g.state in _STATES else safe(g.state, 20)
    if g.get("merged_into"):
        state = merged_line(g, v.locale)
    return t(
        "digest.line",
        v.locale,
        title=safe(g.title or "error", 150),
        service=safe(g.service, 80),
        count=f"{g.count:,}",
        state=state,
        gid=g.id,
        logs=logs_url(g),
    )


_STATES = ("open", "acknowledged", "resolved", "snoozed")


DIGEST_ITEM_CHOICES = ("ack", "resolve", "snooze", "own")  # a digest line's menu, in order
MAX_DIGEST_LINES = 44  # lines with a menu of their own (one section each; 50 blocks a message)


def _own_message(g: Group, channel: str) -> str | None:
    """The link to a group's own message in `channel`, once it has one (not a digest entry)."""
    ref = g.messages.get(channel, "")
    if not ref or ref.startswith("dg:"):
        return None
    ch, _, ts = ref.partition("/") if "/" in ref else (channel, "", ref)
    return f"https://slack.com/archives/{ch}/p{ts.replace('.', '')}"


def _digest_menu(g: Group, loc: str, own: bool) -> OverflowMenuElement:
    options = []
    for choice in DIGEST_ITEM_CHOICES:
        if choice == "own" and own:
            continue
        if choice == "ack" and g.state != "open":
            continue
        if choice == "resolve" and g.state == "resolved":
            continue
        options.append(
            Option(text=t(f"digest.menu.{choice}", loc), value=encode_value(g.id, a=choice))
        )
    return OverflowMenuElement(action_id=Action.DIGEST_ITEM, options=options)


def digest_blocks(
    groups: Sequence[Group],
    v: View,
    digest_n: int | None = None,
    channel: str = "",
    cause: str = "",
) -> list[dict[str, Any]]:
    """One message listing many groups (a storm): a line each with title, service, count,
    state, group id and a Logs link, and its own menu (acknowledge, resolve, snooze, post on
    its own); a group that got its own message links to it. `cause`: what the groups share
    (bot.incident.correlate), plain text, shown under the header."""
    loc = v.locale
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=cut(digest_text(groups, v), HEADER_MAX), emoji=True)),
    ]
    if cause:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=safe(cause, 1000))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("digest.hint", loc))]))
    rest = ""
    for i, g in enumerate(groups):
        line = _digest_line(g, v)
        link = _own_message(g, channel) if channel else None
        if link:
            line += " — " + t("digest.own_message", loc, link=link)
        if i < MAX_DIGEST_LINES:
            blocks.append(
                SectionBlock(
                    block_id=f"tb_dline:{i}",
                    text=MarkdownTextObject(text=cut(line, SECTION_TEXT_MAX)),
                    accessory=_digest_menu(g, loc, link is not None),
                )
            )
        elif len(rest) + 1 + len(line) <= SECTION_TEXT_MAX:  # beyond Block Kit's 50 blocks
            rest = f"{rest}\n{line}" if rest else line
    if rest:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=rest)))
    if v.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=safe(v.note, 1000))]))
    if digest_n is not None and groups:  # the storm can become one incident (bot.incident)
        declare = ActionsBlock(
            block_id=f"tb_digest:{digest_n}",
            elements=[
                ButtonElement(
                    text=t("incident.button.declare", loc),
                    action_id=Action.DECLARE_DIGEST,
                    value=encode_value(groups[0].id, d=str(digest_n)),
                    style="danger",
                )
            ],
        )
        return [b.to_dict() for b in blocks[:49]] + [declare.to_dict()]
    return [b.to_dict() for b in blocks[:50]]
