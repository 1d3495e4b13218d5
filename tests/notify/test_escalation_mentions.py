"""Whom an escalation mentions: the person on call, then (on repeats) the team's fallback."""

from __future__ import annotations

import pytest

from bot.notify.blocks import View, notice_text
from bot.notify.policy import escalation_mentions


@pytest.mark.parametrize(
    ("people", "fallback", "first", "expect"),
    [
        (("U0ALICE",), "@pay-oncall", True, ("<@U0ALICE>", "")),
        (("U0ALICE",), "@pay-oncall", False, ("<@U0ALICE>", "@pay-oncall")),
        ((), "@pay-oncall", True, ("@pay-oncall", "")),
        ((), "@pay-oncall", False, ("@pay-oncall", "")),
        (("U0A", "U0B"), "", False, ("<@U0A> <@U0B>", "")),
        (("U0A",), "<@U0A>", False, ("<@U0A>", "")),  # the fallback is the same person
    ],
)
def test_escalation_mentions(
    people: tuple[str, ...], fallback: str, first: bool, expect: tuple[str, str]
) -> None:
    assert escalation_mentions(people, fallback, first=first) == expect


def test_repeat_names_the_fallback() -> None:
    v = View(now=0.0)
    n = {"kind": "escalation", "oncall": "<@U0ALICE>", "minutes": 20, "fallback": "@pay-oncall"}
    assert notice_text(n, v) == (
        ":loudspeaker: <@U0ALICE> still unacknowledged after 20 min (fallback: @pay-oncall)"
    )
    del n["fallback"]
    assert "fallback" not in notice_text(n, v)
