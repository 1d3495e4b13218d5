"""Block Kit answers to `/triage` queries and the App Home tab (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import catalog, t
from bot.notify.blocks import code_block, cut, escape, fmt_time, mention, sparkline
from bot.store.history import Ranked, ServiceStats
from bot.store.redis_store import Group
from bot.store.subscriptions import Subscription

STATE_ICON = {
    "open": ":red_circle:",
    "acknowledged": ":eyes:",
    "resolved": ":white_check_mark:",
    "snoozed": ":zzz:",
}
SECTION_MAX = 3000


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_MAX)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, SECTION_MAX)}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, 150), "emoji": True}}


def _trend(count: int, previous: int) -> str:
    if previous == 0:
        return "🆕" if count else ""
    ratio = count / previous
    return "↑" if ratio >= 1.5 else ("↓" if ratio <= 0.67 else "→")


def group_line(g: Group, loc: str, count: int | None = None, trend: str = "") -> str:
    n = g.count if count is None else count
    state = t(f"statename.{g.state}", loc)
    if g.get("merged_into"):  # its entries count on the target now
        state = t("query.merged_state", loc, target=f"`{escape(g.get('merged_into'))}`")
    return (
        f"{STATE_ICON.get(g.state, '')} *{n:,}* {trend} {escape(cut(g.title, 150))}\n"
        f"    {escape(g.service)} · {state} · `{g.id}`"
    )


def _listing(
    header: str, lines: Sequence[str], empty: str, per_section: int = 10
) -> list[dict[str, Any]]:
    """A header, then the lines in sections short enough for Block Kit (or `empty`)."""
    blocks = [_header(header)]
    if not lines:
        blocks.append(section(empty))
    for i in range(0, len(lines), per_section):
        blocks.append(section("\n".join(lines[i : i + per_section])))
    return blocks


def top_blocks(
    rows: Sequence[Ranked], loc: str, window: str, service: str | None
) -> list[dict[str, Any]]:
    scope = escape(service) if service else t("query.all_services", loc)
    lines = [group_line(r.group, loc, r.count, _trend(r.count, r.previous)) for r in rows]
    blocks = _listing(
        t("query.top_header", loc, scope=scope, window=window),
        lines,
        t("query.nothing", loc, window=window),
    )
    if rows:
        blocks.append(_context(t("query.top_hint", loc)))
    return blocks


def show_blocks(
    g: Group,
    loc: str,
    tz: str,
    hours: Sequence[int],
    revisions: Sequence[str],
    timeline: Sequence[dict[str, Any]],
    links: str,
) -> list[dict[str, Any]]:
    blocks = [_header(g.title or g.id)]
    fields = [
        f"*{t('field.service', loc)}*\n{escape(g.service)}",
        f"*{t('field.state', loc)}*\n{STATE_ICON.get(g.state, '')} {t(f'statename.{g.state}', loc)}",
        f"*{t('field.count', loc)}*\n{g.count:,}",
        f"*{t('field.severity', loc)}*\n{escape(g.get('severity', 'ERROR'))}",
        f"*{t('field.first_seen', loc)}*\n{fmt_time(g.first, tz)}",
        f"*{t('field.last_seen', loc)}*\n{fmt_time(g.last, tz)}",
    ]
    blocks.append(
        {"type": "section", "fields": [{"type": "mrkdwn", "text": cut(f, 2000)} for f in fields]}
    )
    blocks.append(
        _context(t("query.per_hour", loc, spark=sparkline(hours), peak=max(hours, default=0)))
    )
    if revisions:
        blocks.append(
            section(f"*{t('query.revisions', loc)}*\n" + escape(", ".join(sorted(revisions)[:30])))
        )
    if timeline:
        lines = []
        for ev in list(timeline)[-10:]:
            who = mention(str(ev.get("who")), loc) if ev.get("who") else ""
            what = str(ev.get("what", ""))
            label = t(f"action.{what}", loc) if f"action.{what}" in catalog(loc) else escape(what)
            lines.append(f"{fmt_time(float(ev.get('at', 0)), tz)} · {label} · {who}")
        blocks.append(section(f"*{t('query.timeline', loc)}*\n" + "\n".join(lines)))
    if g.sample:
        blocks.append(section(code_block(g.sample, 1500)))
    if g.frames:
        blocks.append(section(code_block("\n".join(g.frames), 1200)))
    blocks.append(_context(links))
    return blocks


def stats_blocks(
    rows: Sequence[ServiceStats], loc: str, window: str, service: str | None
) -> list[dict[str, Any]]:
    scope = escape(service) if service else t("query.all_services", loc)
    lines = [
        t(
            "query.stats_line",
            loc,
            service=escape(r.service),
            errors=f"{r.errors:,}",
            new=r.new_groups,
            regressions=r.regressions,
        )
        for r in rows[:40]
    ]
    return _listing(
        t("query.stats_header", loc, scope=scope, window=window),
        lines,
        t("query.nothing", loc, window=window),
        per_section=20,
    )


def search_blocks(groups: Sequence[Group], loc: str, text: str) -> list[dict[str, Any]]:
    return _listing(
        t("query.search_header", loc, text=cut(text, 60)),
        [group_line(g, loc) for g in groups],
        t("query.search_none", loc, text=escape(text)),
    )


def subscriptions_blocks(
    subs: Sequence[Subscription], loc: str, channel: str
) -> list[dict[str, Any]]:
    if not subs:
        return [section(t("query.subs_none", loc, channel=f"<#{channel}>"))]
    lines = [f"• `{escape(s.pattern)}` ≥ {escape(s.severity)}" for s in subs]
    return [section(t("query.subs_header", loc, channel=f"<#{channel}>") + "\n" + "\n".join(lines))]


def home_view(groups: Sequence[Group], loc: str, tz: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [_header(t("home.header", loc))]
    if not groups:
        blocks.append(section(t("home.empty", loc)))
    for g in groups[:40]:
        blocks.append(
            section(
                group_line(g, loc) + f"\n    {t('field.last_seen', loc)}: {fmt_time(g.last, tz)}"
            )
        )
    blocks.append(_context(t("home.hint", loc)))
    return {"type": "home", "blocks": blocks[:100]}
