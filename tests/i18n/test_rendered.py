"""Every surface rendered in Japanese carries no English words of its own: each word a person
reads comes from the catalog (log text, names and ids excepted)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.notify.blocks import View, alert_blocks, alert_text, digest_blocks, notice_text
from bot.query import blocks as qb
from bot.store.history import Ranked, ServiceStats
from bot.store.redis_store import Group
from bot.store.subscriptions import Subscription

NOW = 1_764_000_000.0
# What is not ours to translate: log-derived text, names, ids, product names, units.
DATA = {
    "KeyError",
    "total_amount",
    "extract",
    "ocr",
    "pipeline",
    "worker",
    "handle",
    "Logs",
    "ERROR",
    "Error",
    "Reporting",
    "Trace",
    "fp1",
    "svc",
    "abc",
    "demo",
    "prod",
    "UTC",
    "JST",
    "UNAVAILABLE",
    "links",
}
WORD = re.compile(r"[A-Za-z]{4,}")


def group(state: str = "open", **fields: str) -> Group:
    f = {
        "id": "fp1-0123456789abcdef",
        "title": "KeyError: 'total_amount' in extract (ocr/extract.py)",
        "service": "ocr/ocr-pipeline",
        "state": state,
        "severity": "ERROR",
        "project": "demo-prod",
        "resource_type": "k8s_container",
        "trace": "projects/demo-prod/traces/abc",
        "error_group": "CNLhp6f0m9zUSg",
        "acked_by": "U1",
        "acked_at": str(NOW),
        "resolved_by": "U1",
        "resolved_at": str(NOW),
        "snoozed_by": "U1",
        "snooze_until": str(NOW + 3600),
        "assignee": "U2",
        **fields,
    }
    return Group(
        id=f["id"],
        title=f["title"],
        service=f["service"],
        state=state,
        count=42,
        first=NOW - 600,
        last=NOW,
        ver=3,
        sample="KeyError: 'total_amount'",
        frames=("ocr/extract.py in extract",),
        fields=f,
    )


def texts(obj: Any) -> list[str]:
    """Every human-visible string in Block Kit JSON (not urls, ids, values)."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("text",) and isinstance(v, str):
                out.append(v)
            elif k not in ("url", "value", "action_id", "block_id", "type", "style"):
                out += texts(v)
    elif isinstance(obj, list):
        for v in obj:
            out += texts(v)
    return out


def english_words(text: str) -> set[str]:
    text = re.sub(r"<[^>|]*\|([^>]*)>", r"\1", text)  # links: keep labels only
    text = re.sub(r"<[^>]*>|`[^`]*`|```.*?```|:[a-z_]+:", " ", text, flags=re.S)
    for d in (
        "KeyError: 'total_amount' in extract (ocr/extract.py)",
        "ocr/ocr-pipeline",
        "Error Reporting",
    ):
        text = text.replace(d, " ")
    return {w for w in WORD.findall(text) if w not in DATA}


def surfaces(loc: str) -> dict[str, Any]:
    v = View(now=NOW, locale=loc, tz="Asia/Tokyo", minutes=[0, 1, 3], hours=[2, 0, 5])
    out: dict[str, Any] = {}
    for state in ("open", "acknowledged", "resolved", "snoozed"):
        out[f"alert-{state}"] = [alert_text(group(state), v), alert_blocks(group(state), v)]
    out["alert-snooze-count"] = alert_blocks(group("snoozed", snooze_until="", snooze_left="7"), v)
    for kind, extra in [
        ("regression", {"by": "U1", "at": NOW}),
        ("new_revision", {"revision": "r-2"}),
        ("escalation", {"oncall": "<!subteam^S1>", "minutes": 15}),
        ("unsnoozed", {}),
        ("spike", {"rate": 40, "baseline": 2}),
        ("er_sync_failed", {"message": "UNAVAILABLE"}),
    ]:
        out[f"notice-{kind}"] = notice_text({"kind": kind, **extra}, v)
    out["digest"] = digest_blocks([group(), group("acknowledged", id="fp1-1111111111111111")], v)
    g = group()
    out["top"] = qb.top_blocks([Ranked(g, 10, 2)], loc, "24h", None)
    out["top-empty"] = qb.top_blocks([], loc, "1h", "svc")
    out["stats"] = qb.stats_blocks([ServiceStats("svc", 10, 1, 0)], loc, "7d", None)
    out["search"] = qb.search_blocks([g], loc, "KeyError")
    out["search-empty"] = qb.search_blocks([], loc, "KeyError")
    out["show"] = qb.show_blocks(
        g,
        loc,
        "Asia/Tokyo",
        [1, 2],
        ["r-1"],
        [{"what": "acknowledge", "who": "U1", "at": NOW}],
        "links",
    )
    out["subs"] = qb.subscriptions_blocks([Subscription("svc-*", "C1")], loc, "C1")
    out["subs-empty"] = qb.subscriptions_blocks([], loc, "C1")
    out["home"] = qb.home_view([g], loc, "Asia/Tokyo")
    out["home-empty"] = qb.home_view([], loc, "UTC")
    return out


@pytest.mark.parametrize("name", sorted(surfaces("en")))
def test_japanese_rendering_has_no_english_of_its_own(name: str) -> None:
    ja = surfaces("ja")[name]
    if isinstance(ja, str):
        strings = [ja]
    elif isinstance(ja, list):
        strings = texts(ja) + [s for s in ja if isinstance(s, str)]
    else:
        strings = texts(ja)
    leaked = set().union(*(english_words(s) for s in strings))
    assert leaked == set(), f"{name}: {leaked}"


@pytest.mark.parametrize("name", sorted(surfaces("en")))
def test_english_and_japanese_differ(name: str) -> None:
    assert json.dumps(surfaces("en")[name]) != json.dumps(surfaces("ja")[name])
