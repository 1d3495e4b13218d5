"""Slack's identifiers and their mention forms, in one place (pure).

An id is a type letter and upper-case letters and digits: users U/W, channels C (public) and
G (private), direct messages D, user groups S. Slack's are 9 to 11 characters today and Slack
says they may grow, so up to 20 characters follow the letter. Every check is a full match:
``"U0123ABCD\\n"`` or ``"U0123ABCD|x"`` is not an id.
"""

from __future__ import annotations

import re

_BODY = r"[A-Z0-9]{1,20}"

USER = re.compile(rf"[UW]{_BODY}")
CHANNEL = re.compile(rf"[CG]{_BODY}")  # a conversation the bot can be in (not a DM)
DM = re.compile(rf"D{_BODY}")
USERGROUP = re.compile(rf"S{_BODY}")
CHANNEL_NAME = re.compile(r"#[a-z0-9][a-z0-9._-]{0,79}")  # lower case, at most 80 characters

USER_MENTION = re.compile(rf"<@({USER.pattern})>")
CHANNEL_MENTION = re.compile(rf"<#({CHANNEL.pattern})(?:\|[^>]*)?>")
USERGROUP_MENTION = re.compile(rf"<!subteam\^({USERGROUP.pattern})(?:\|@?[^>]+)?>")


def _full(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def is_user(value: object) -> bool:
    return _full(USER, value)


def is_channel(value: object, *, dm: bool = False) -> bool:
    """A channel id (C/G), or a DM's (D) too when ``dm``."""
    return _full(CHANNEL, value) or (dm and _full(DM, value))


def is_channel_name(value: object) -> bool:
    return _full(CHANNEL_NAME, value)


def is_usergroup(value: object) -> bool:
    return _full(USERGROUP, value)


def channel_ref(word: str) -> str | None:
    """The channel a word names, as typed in Slack: ``<#C0123|name>`` (how Slack sends a
    channel link), an id ``C0123`` or a ``#name``; None when it names none."""
    m = CHANNEL_MENTION.fullmatch(word)
    if m:
        return m.group(1)
    return word if is_channel(word) or is_channel_name(word) else None
