"""A merged group's alert and digest line point at the group it was merged into."""

from __future__ import annotations

import json

from bot.notify.blocks import View, alert_blocks, digest_blocks
from bot.store.redis_store import Group


def _group(**fields: str) -> Group:
    return Group(
        id="fp2-00000000000000aa",
        title="KeyError: 'total'",
        service="checkout",
        state="open",
        count=4,
        first=0.0,
        last=0.0,
        ver=1,
        fields={"merged_into": "fp2-00000000000000bb", "merged_by": "U2", **fields},
    )


V = View(now=0.0)


def test_merged_alert_links_the_target_and_has_no_buttons() -> None:
    link = "https://acme.slack.com/archives/C0SRE/p1700000000000100"
    blocks = alert_blocks(_group(merged_link=link), V)
    text = json.dumps(blocks)
    assert f"Merged into <{link}|`fp2-00000000000000bb`> by <@U2>" in text, text
    assert not any(b["type"] == "actions" for b in blocks)


def test_a_stored_link_that_is_not_a_plain_https_url_is_not_linked() -> None:
    text = json.dumps(alert_blocks(_group(merged_link="https://x|<!channel>"), V))
    assert "<!channel>" not in text and "Merged into `fp2-00000000000000bb`" in text


def test_digest_line_of_a_merged_group_says_merged() -> None:
    text = json.dumps(digest_blocks([_group()], V))
    assert "Merged into `fp2-00000000000000bb`" in text, text
