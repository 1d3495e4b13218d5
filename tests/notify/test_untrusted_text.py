"""Log text is untrusted: escaped for mrkdwn, cut to Block Kit limits, never rejected by Slack."""

from __future__ import annotations

import json
import re

import pytest
from triage_sandbox.slack_standin import block_kit_errors

from bot.notify.blocks import View, alert_blocks, alert_text, code_block, cut, digest_blocks, safe
from tests.notify.conftest import Rig

NASTY = [
    "<!channel> wake up <!here> <!everyone>",
    "ping <@U123> and <#C999|general> and <!subteam^S1>",
    "<https://evil.example|click here> & <mailto:x@y|mail>",
    "```break out``` of `code` ``` and a trailing backtick`",
    json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "<!channel>"}}]),
    "&lt;!channel&gt; already-escaped &amp; entities",
    "x" * 50_000,
    ("<!channel>" * 6000)[:50_000],
    "ñ 日本語 🙂 \u202e right-to-left \x00 nul",
]
_LIVE = re.compile(r"<[!@#]|<https?:|<mailto:")


def _mrkdwn_texts(blocks: list[dict]) -> list[str]:
    out: list[str] = []

    def walk(x: object) -> None:
        if isinstance(x, dict):
            if x.get("type") == "mrkdwn":
                out.append(str(x["text"]))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks)
    return out


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_log_text_is_escaped_cut_and_accepted(rig: Rig, text: str) -> None:
    rig.record("fp1-aaaa1111", title=text, message=text, service=text[:300] or "svc")
    calls = rig.run()
    assert [(c.method, c.ok, c.warnings) for c in calls] == [("chat.postMessage", True, ())]
    blocks = calls[0].args["blocks"]
    assert block_kit_errors(blocks) == []
    for mrkdwn in _mrkdwn_texts(blocks):
        # the only live links/mentions are ours: Logs/Trace links, the assignee
        for m in _LIVE.finditer(mrkdwn):
            assert mrkdwn[m.start() :].startswith("<https://console.cloud.google.com/"), mrkdwn
        assert len(mrkdwn) <= 3000
    assert len(calls[0].args["text"]) <= 3000 and not _LIVE.search(calls[0].args["text"])
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150
    if len(text) > 150:
        assert header.endswith("…")


def test_digest_of_nasty_titles_is_accepted(rig: Rig) -> None:
    for i in range(12):
        t = NASTY[i % len(NASTY)]
        rig.record(f"fp1-{i:08x}", title=t, message=t, service=t[:200])
    calls = rig.run()
    assert [(c.method, c.ok, c.warnings) for c in calls] == [("chat.postMessage", True, ())]
    for mrkdwn in _mrkdwn_texts(calls[0].args["blocks"]):
        for m in _LIVE.finditer(mrkdwn):
            assert mrkdwn[m.start() :].startswith("<https://console.cloud.google.com/")


def test_cut_never_leaves_half_an_entity() -> None:
    assert cut("abcdef", 6) == "abcdef"
    assert cut("abcdefg", 6) == "abcde…"
    assert safe("ab<<<<", 6) == "ab…"  # "ab&lt;&" would show a stray "&"
    assert safe("<@U1>", 100) == "&lt;@U1&gt;"


def test_code_block_cannot_be_closed_early() -> None:
    body = code_block("a ``` b `")
    assert body.startswith("```") and body.endswith("```")
    assert body[3:-3].count("```") == 0 and not body[3:-3].endswith("`")
    assert len(code_block("y" * 10_000, 1500)) == 1500


def test_rendering_is_pure_and_limits_hold_for_a_huge_group(rig: Rig) -> None:
    rig.record("fp1-aaaa1111", title="t" * 10_000, message="m" * 50_000, service="s" * 5000)
    g = rig.store.load_group("fp1-aaaa1111")
    assert g is not None
    v = View(now=rig.clock.now, minutes=[0] * 60, hours=[0] * 24)
    assert alert_blocks(g, v) == alert_blocks(g, v)
    assert block_kit_errors(alert_blocks(g, v)) == []
    assert block_kit_errors(digest_blocks([g] * 40, v)) == []
    assert len(alert_text(g, v)) <= 3000


@pytest.mark.parametrize("ts", [253402300800.0, -62135600000.0, float("inf"), float("nan"), 1e300])
def test_fmt_time_never_raises_on_an_impossible_time(ts: float) -> None:
    """A stored time from before the parse-side bounds existed must not abort a render."""
    from bot.notify.blocks import fmt_time

    assert fmt_time(ts, "Asia/Tokyo")  # some text, never ValueError/OverflowError/OSError
