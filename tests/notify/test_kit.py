"""bot.notify.kit builds exactly what slack_sdk's Block Kit models build (the renderers use
it so that they need not import slack_sdk)."""

from __future__ import annotations

import pytest
from slack_sdk.models import blocks as sdk

from bot.notify import kit


def _both(build):  # the same construction with each module's classes
    return build(kit).to_dict(), build(sdk).to_dict()


CASES = {
    "header, emoji off": lambda m: m.HeaderBlock(
        text=m.PlainTextObject(text="KeyError: 'k'", emoji=False)
    ),
    "header, emoji on": lambda m: m.HeaderBlock(text=m.PlainTextObject(text="12 new", emoji=True)),
    "section text": lambda m: m.SectionBlock(text=m.MarkdownTextObject(text="*a* `b`")),
    "section fields": lambda m: m.SectionBlock(
        fields=[m.MarkdownTextObject(text="*State*\nopen"), m.MarkdownTextObject(text="x")]
    ),
    "section with an overflow menu": lambda m: m.SectionBlock(
        block_id="tb_dline:3",
        text=m.MarkdownTextObject(text="line"),
        accessory=m.OverflowMenuElement(
            action_id="tb_digest_item",
            options=[m.Option(text="Acknowledge", value='{"g":"fp2-1","a":"ack"}')],
        ),
    ),
    "context": lambda m: m.ContextBlock(elements=[m.MarkdownTextObject(text="<https://x|Logs>")]),
    "actions": lambda m: m.ActionsBlock(
        block_id="tb_actions:fp2-1",
        elements=[
            m.ButtonElement(text="Acknowledge", action_id="tb_ack", value="v", style="primary"),
            m.ButtonElement(text="Resolve", action_id="tb_resolve", value="v"),
            m.StaticSelectElement(
                placeholder="Snooze",
                action_id="tb_snooze",
                options=[m.Option(text="for 1 hour", value="a"), m.Option(text="8h", value="b")],
            ),
            m.UserSelectElement(placeholder="Assign", action_id="tb_assign"),
        ],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_kit_builds_what_slack_sdk_builds(name: str) -> None:
    mine, theirs = _both(CASES[name])
    assert mine == theirs
