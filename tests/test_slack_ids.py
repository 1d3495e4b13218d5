"""One grammar for Slack ids and mentions (bot.slack_ids), table-driven."""

from __future__ import annotations

import pytest

from bot import slack_ids


@pytest.mark.parametrize(
    ("value", "user", "channel", "dm", "usergroup", "name"),
    [
        ("U0123ABCD", True, False, False, False, False),
        ("W0123ABCD", True, False, False, False, False),
        ("U1", True, False, False, False, False),  # the stand-in's short ids
        ("U" + "A" * 20, True, False, False, False, False),
        ("U" + "A" * 21, False, False, False, False, False),
        ("u0123abcd", False, False, False, False, False),
        ("U0123ABCD\n", False, False, False, False, False),
        ("U0123-ABC", False, False, False, False, False),
        ("C0123ABCD", False, True, True, False, False),
        ("G0123ABCD", False, True, True, False, False),
        ("D0123ABCD", False, False, True, False, False),
        ("S0123ABCD", False, False, False, True, False),
        ("#payments", False, False, False, False, True),
        ("#Payments", False, False, False, False, False),
        ("#" + "a" * 80, False, False, False, False, True),
        ("#" + "a" * 81, False, False, False, False, False),
        ("", False, False, False, False, False),
    ],
)
def test_ids(value: str, user: bool, channel: bool, dm: bool, usergroup: bool, name: bool) -> None:
    assert slack_ids.is_user(value) is user
    assert slack_ids.is_channel(value) is channel
    assert slack_ids.is_channel(value, dm=True) is dm
    assert slack_ids.is_usergroup(value) is usergroup
    assert slack_ids.is_channel_name(value) is name


@pytest.mark.parametrize(
    ("word", "ref"),
    [
        ("<#C0123ABCD|payments>", "C0123ABCD"),
        ("<#C0123ABCD>", "C0123ABCD"),
        ("C0123ABCD", "C0123ABCD"),
        ("#payments", "#payments"),
        ("payments", None),
        ("<#D0123ABCD|dm>", None),
        ("<@U0123ABCD>", None),
        ("<#C0123ABCD|payments> trailing", None),
    ],
)
def test_channel_ref(word: str, ref: str | None) -> None:
    assert slack_ids.channel_ref(word) == ref


def test_mentions() -> None:
    m = slack_ids.USER_MENTION.fullmatch("<@U0123ABCD>")
    assert m is not None and m.group(1) == "U0123ABCD"
    assert slack_ids.USER_MENTION.fullmatch("<@C0123ABCD>") is None
    for ok in ("<!subteam^S0123ABCD>", "<!subteam^S0123ABCD|@sre>", "<!subteam^S0123ABCD|sre>"):
        assert slack_ids.USERGROUP_MENTION.fullmatch(ok), ok
    assert slack_ids.USERGROUP_MENTION.fullmatch("<!subteam^U0123ABCD>") is None
