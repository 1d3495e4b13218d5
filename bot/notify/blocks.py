"""Block Kit rendering of alert groups (pure). Log text is untrusted: escaped and cut to limits."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
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

from bot.i18n import t
from bot.notify.actions import SNOOZE_CHOICES, Action, encode_value
from bot.store.redis_store import Group

SECTION_TEXT_MAX = 3000
HEADER_MAX = 150
FIELD_MAX = 2000
FALLBACK_TEXT_MAX = 3000
SPARK = "▁▂▃▄▅▆▇█"


def escape(text: str) -> str:
    """Escape for Slack mrkdwn: no mentions, links or channel pings from log text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code_block(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Untrusted text in a ``` block: escaped, backtick runs defused, cut to the limit."""
    body = escape(text).replace("```", "ˋˋˋ")
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
    return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True, slots=True)
class View:
    """What a rendering needs besides the group."""

    now: float
    locale: str = "en"
    tz: str = "UTC"
    minutes: Sequence[int] = ()  # last 60 minutes, oldest first
    hours: Sequence[int] = ()  # last 24 hours, oldest first
    note: str = ""  # e.g. a fallback-channel warning, already localized


def logs_url(g: Group) -> str:
    project = g.get("project")
    filt = [f'resource.type="{g.get("resource_type")}"'] if g.get("resource_type") else []
    label = {
        "cloud_run_revision": "service_name",
        "cloud_function": "function_name",
        "cloud_run_job": "job_name",
    }.get(g.get("resource_type"))
    if label:
        filt.append(f'resource.labels.{label}="{g.service}"')
    elif "/" in g.service and g.get("resource_type") == "k8s_container":
        ns, container = g.service.split("/", 1)
        filt += [f'resource.labels.namespace_name="{ns}"', f'resource.labels.container_name="{container}"']
    filt.append("severity>=ERROR")
    query = urllib.parse.quote("\n".join(filt), safe="")
    return f"https://console.cloud.google.com/logs/query;query={query}?project={project}"


def trace_url(g: Group) -> str | None:
    trace = g.get("trace")
    if not trace.startswith("projects/") or "/traces/" not in trace:
        return None
    project, tid = trace.split("/")[1], trace.rsplit("/", 1)[1]
    return f"https://console.cloud.google.com/traces/list?project={project}&tid={tid}"


def error_reporting_url(g: Group) -> str | None:
    eg = g.get("error_group")
    if not eg:
        return None
    return f"https://console.cloud.google.com/errors/detail/{eg}?project={g.get('project')}"


def state_line(g: Group, v: View) -> str:
    loc = v.locale
    state = g.state
    if state == "acknowledged":
        return t("state.acknowledged_by", loc, user=g.get("acked_by"), when=fmt_time(float(g.get("acked_at", "0")), v.tz))
    if state == "resolved":
        return t("state.resolved_by", loc, user=g.get("resolved_by"), when=fmt_time(float(g.get("resolved_at", "0")), v.tz))
    if state == "snoozed":
        if g.get("snooze_until"):
            return t("state.snoozed_until", loc, user=g.get("snoozed_by"), when=fmt_time(float(g.get("snooze_until")), v.tz))
        return t("state.snoozed_count", loc, user=g.get("snoozed_by"), n=g.get("snooze_left"))
    if g.get("regressed_at"):
        return t("state.regressed", loc, when=fmt_time(float(g.get("regressed_at")), v.tz))
    return t("state.open", loc)


def alert_text(g: Group, v: View) -> str:
    """The notification text (what a phone shows); plain, escaped."""
    return cut(escape(f"[{g.service}] {g.title}"), FALLBACK_TEXT_MAX)


def alert_blocks(g: Group, v: View) -> list[dict[str, Any]]:
    loc = v.locale
    where = g.service
    rev = g.get("version") or g.get("revision")
    if rev:
        where = f"{where} ({rev})"
    fields = [
        MarkdownTextObject(text=cut(f"*{t('field.service', loc)}*\n{escape(where)}", FIELD_MAX)),
        MarkdownTextObject(text=f"*{t('field.severity', loc)}*\n{escape(g.get('severity', 'ERROR'))}"),
        MarkdownTextObject(text=f"*{t('field.count', loc)}*\n{g.count:,}"),
        MarkdownTextObject(text=f"*{t('field.state', loc)}*\n{state_line(g, v)}"),
        MarkdownTextObject(text=f"*{t('field.first_seen', loc)}*\n{fmt_time(g.first, v.tz)}"),
        MarkdownTextObject(text=f"*{t('field.last_seen', loc)}*\n{fmt_time(g.last, v.tz)}"),
    ]
    if g.get("assignee"):
        fields.append(MarkdownTextObject(text=f"*{t('field.assignee', loc)}*\n<@{g.get('assignee')}>"))
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
        blocks.append(SectionBlock(text=MarkdownTextObject(text=code_block("\n".join(g.frames), 1200))))
    links = [f"<{logs_url(g)}|{t('link.logs', loc)}>"]
    if (tu := trace_url(g)) is not None:
        links.append(f"<{tu}|{t('link.trace', loc)}>")
    if (eu := error_reporting_url(g)) is not None:
        links.append(f"<{eu}|{t('link.error_reporting', loc)}>")
    links.append(f"`{g.id}`")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(links))]))
    if v.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(v.note))]))
    blocks.append(ActionsBlock(block_id=f"tb_actions:{g.id}", elements=_buttons(g, loc)))
    return [b.to_dict() for b in blocks]


def _buttons(g: Group, loc: str) -> list[Any]:
    val = encode_value(g.id)
    out: list[Any] = []
    if g.state == "open":
        out.append(ButtonElement(text=t("button.acknowledge", loc), action_id=Action.ACK, value=val, style="primary"))
    elif g.state == "acknowledged":
        out.append(ButtonElement(text=t("button.unacknowledge", loc), action_id=Action.UNACK, value=val))
    if g.state == "resolved":
        out.append(ButtonElement(text=t("button.reopen", loc), action_id=Action.REOPEN, value=val))
    else:
        out.append(ButtonElement(text=t("button.resolve", loc), action_id=Action.RESOLVE, value=val))
    if g.state == "snoozed":
        out.append(ButtonElement(text=t("button.unsnooze", loc), action_id=Action.UNSNOOZE, value=val))
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
    return out


def notice_text(notice: dict[str, Any], v: View) -> str:
    """A thread reply for a notable event."""
    loc, kind = v.locale, notice.get("kind", "")
    if kind == "regression":
        by = notice.get("by") or ""
        return t(
            "notice.regression",
            loc,
            by=f"<@{by}>" if by else t("someone", loc),
            when=fmt_time(float(notice.get("at") or 0), v.tz),
        )
    if kind == "new_revision":
        return t("notice.new_revision", loc, revision=escape(str(notice.get("revision", ""))))
    if kind == "escalation":
        return t("notice.escalation", loc, oncall=str(notice.get("oncall", "")), minutes=notice.get("minutes", ""))
    if kind == "unsnoozed":
        return t("notice.unsnoozed", loc)
    if kind == "spike":
        return t("notice.spike", loc, rate=notice.get("rate", ""), baseline=notice.get("baseline", ""))
    return escape(str(notice))
