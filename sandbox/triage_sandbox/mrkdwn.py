"""Slack mrkdwn -> display tokens, for the sandbox UI. Pure.

The browser builds DOM nodes from the tokens with ``textContent`` only, so no text (log lines
are untrusted) is ever parsed as HTML. Tokens are small dicts:

* ``{"t": "text", "s": str}``: text, with Slack's ``&amp;`` / ``&lt;`` / ``&gt;`` decoded;
* ``{"t": "b" | "i" | "s", "c": [tokens]}``: *bold*, _italic_, ~strike~;
* ``{"t": "code", "s": str}`` and ``{"t": "pre", "s": str}``: `code` and ```code blocks```;
* ``{"t": "link", "url": str, "c": [tokens]}``: ``<url|label>``, only http(s) and mailto URLs
  (anything else stays text);
* ``{"t": "mention", "s": "@alice", "id": "U1"}``: ``<@U1>``, ``<#C1|name>``, ``<!here>``,
  ``<!subteam^S1|@team>``;
* ``{"t": "emoji", "s": "👀", "name": "eyes"}``: the shortcodes in :data:`EMOJI`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Token = dict[str, Any]

# The shortcodes the bot uses, plus a few common ones; others stay as ``:name:`` text.
EMOJI: dict[str, str] = {
    "red_circle": "\U0001f534",
    "eyes": "\U0001f440",
    "white_check_mark": "\u2705",
    "zzz": "\U0001f4a4",
    "rotating_light": "\U0001f6a8",
    "new": "\U0001f195",
    "loudspeaker": "\U0001f4e2",
    "alarm_clock": "\u23f0",
    "chart_with_upwards_trend": "\U0001f4c8",
    "warning": "\u26a0\ufe0f",
    "x": "\u274c",
    "fire": "\U0001f525",
    "bug": "\U0001f41b",
    "tada": "\U0001f389",
    "bell": "\U0001f514",
    "no_bell": "\U0001f515",
    "heavy_check_mark": "\u2714\ufe0f",
    "large_green_circle": "\U0001f7e2",
    "large_yellow_circle": "\U0001f7e1",
    "information_source": "\u2139\ufe0f",
    "mag": "\U0001f50d",
    "pushpin": "\U0001f4cc",
    "bust_in_silhouette": "\U0001f464",
    "+1": "\U0001f44d",
    "thumbsup": "\U0001f44d",
}

_SAFE_URL = re.compile(r"^(?:https?://|mailto:)[^\s]+$", re.IGNORECASE)
_EMOJI_ALT = "|".join(re.escape(name) for name in sorted(EMOJI, key=len, reverse=True))
_INLINE = re.compile(
    r"(?P<pre>```\n?(?P<pre_body>.*?)```)"
    r"|(?P<code>`(?P<code_body>[^`\n]+)`)"
    r"|(?P<angle><(?P<angle_body>[^<>\n]+)>)"
    r"|(?P<b>(?<![\w*])\*(?P<b_body>[^*\n]*[^*\s])\*(?![\w*]))"
    r"|(?P<i>(?<![\w_])_(?P<i_body>[^_\n]*[^_\s])_(?![\w_]))"
    r"|(?P<s>(?<![\w~])~(?P<s_body>[^~\n]*[^~\s])~(?![\w~]))"
    rf"|(?P<emoji>:(?P<emoji_name>{_EMOJI_ALT}):)",
    re.DOTALL,
)

UserName = Callable[[str], str | None]


def decode_entities(text: str) -> str:
    """Slack's three entities, decoded for display (``&amp;`` last, so ``&amp;lt;`` -> ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_url(url: str) -> bool:
    """Whether the page may link to ``url`` (http, https and mailto only)."""
    return bool(_SAFE_URL.match(url))


def plain_tokens(text: str, *, emoji: bool = True) -> list[Token]:
    """A ``plain_text`` object: no formatting, shortcodes as emoji unless ``emoji`` is false."""
    if not emoji:
        return [{"t": "text", "s": text}] if text else []
    out: list[Token] = []
    pos = 0
    for m in re.finditer(rf":({_EMOJI_ALT}):", text):
        if m.start() > pos:
            out.append({"t": "text", "s": text[pos : m.start()]})
        out.append({"t": "emoji", "s": EMOJI[m.group(1)], "name": m.group(1)})
        pos = m.end()
    if pos < len(text):
        out.append({"t": "text", "s": text[pos:]})
    return out


def tokens(
    text: str,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> list[Token]:
    """Tokens for a ``mrkdwn`` text. ``users`` / ``channels`` map ids to names (for mentions)."""
    return _Parser(users or {}, channels or {}).parse(text)


class _Parser:
    def __init__(self, users: Mapping[str, str], channels: Mapping[str, str]) -> None:
        self.users = users
        self.channels = channels

    def parse(self, text: str, depth: int = 0) -> list[Token]:
        out: list[Token] = []
        pos = 0
        for m in _INLINE.finditer(text):
            if m.start() > pos:
                _text(out, text[pos : m.start()])
            out.extend(self.token(m, depth))
            pos = m.end()
        if pos < len(text):
            _text(out, text[pos:])
        return out

    def token(self, m: re.Match[str], depth: int) -> list[Token]:
        kind = m.lastgroup
        if kind == "pre":
            return [{"t": "pre", "s": decode_entities(m.group("pre_body"))}]
        if kind == "code":
            return [{"t": "code", "s": decode_entities(m.group("code_body"))}]
        if kind == "angle":
            return [self.angle(m.group("angle_body"), m.group(0))]
        if kind == "emoji":
            name = m.group("emoji_name")
            return [{"t": "emoji", "s": EMOJI[name], "name": name}]
        assert kind in ("b", "i", "s")
        body = m.group(f"{kind}_body")
        if depth >= 3:
            return [{"t": "text", "s": decode_entities(m.group(0))}]
        return [{"t": kind, "c": self.parse(body, depth + 1)}]

    def angle(self, body: str, raw: str) -> Token:
        target, _, label = body.partition("|")
        label = decode_entities(label)
        if target.startswith("@"):
            uid = target[1:]
            name = self.users.get(uid) or label.lstrip("@") or uid
            return {"t": "mention", "s": f"@{name}", "id": uid}
        if target.startswith("#"):
            cid = target[1:]
            name = self.channels.get(cid) or label or cid
            return {"t": "mention", "s": f"#{name}", "id": cid}
        if target.startswith("!"):
            special = target[1:]
            if special.startswith("subteam^"):
                return {"t": "mention", "s": label or "@team", "id": special[len("subteam^") :]}
            if special.startswith("date^"):
                return {"t": "text", "s": label or special}
            return {"t": "mention", "s": f"@{special}", "id": special}
        url = decode_entities(target)
        if not safe_url(url):
            return {"t": "text", "s": decode_entities(raw)}
        return {"t": "link", "url": url, "c": [{"t": "text", "s": label or url}]}


def _text(out: list[Token], s: str) -> None:
    s = decode_entities(s)
    if out and out[-1]["t"] == "text":
        out[-1] = {"t": "text", "s": out[-1]["s"] + s}
    else:
        out.append({"t": "text", "s": s})
