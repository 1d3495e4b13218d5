"""The Block Kit pieces the bot's messages use, as plain data (pure).

Same names, arguments and `to_dict()` output as slack_sdk.models.blocks (a test compares
them), without importing slack_sdk: importing any of its modules loads its web client, and
the renderers (bot.notify.blocks, bot.incident.render) are pure. What a piece may hold
(lengths, counts) is cut by the renderers and checked, call by call, by the Slack stand-in
against Slack's published limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]


class PlainTextObject:
    def __init__(self, *, text: str, emoji: bool | None = None) -> None:
        self.text, self.emoji = text, emoji

    def to_dict(self) -> Json:
        out: Json = {"type": "plain_text", "text": self.text}
        if self.emoji is not None:
            out["emoji"] = self.emoji
        return out


class MarkdownTextObject:
    def __init__(self, *, text: str) -> None:
        self.text = text

    def to_dict(self) -> Json:
        return {"type": "mrkdwn", "text": self.text}


def _plain(text: str | PlainTextObject) -> Json:
    """A label given as a string is plain text with emoji on, as slack_sdk makes it."""
    return (
        text if isinstance(text, PlainTextObject) else PlainTextObject(text=text, emoji=True)
    ).to_dict()


class Option:
    def __init__(self, *, text: str | PlainTextObject, value: str) -> None:
        self.text, self.value = text, value

    def to_dict(self) -> Json:
        return {"text": _plain(self.text), "value": self.value}


class Element:
    def to_dict(self) -> Json:
        raise NotImplementedError


class ButtonElement(Element):
    def __init__(
        self,
        *,
        text: str | PlainTextObject,
        action_id: str,
        value: str | None = None,
        style: str | None = None,
    ) -> None:
        self.text, self.action_id, self.value, self.style = text, action_id, value, style

    def to_dict(self) -> Json:
        out: Json = {"type": "button", "text": _plain(self.text), "action_id": str(self.action_id)}
        if self.value is not None:
            out["value"] = self.value
        if self.style is not None:
            out["style"] = self.style
        return out


class StaticSelectElement(Element):
    def __init__(
        self, *, placeholder: str | PlainTextObject, action_id: str, options: Sequence[Option]
    ) -> None:
        self.placeholder, self.action_id, self.options = placeholder, action_id, list(options)

    def to_dict(self) -> Json:
        return {
            "type": "static_select",
            "placeholder": _plain(self.placeholder),
            "action_id": str(self.action_id),
            "options": [o.to_dict() for o in self.options],
        }


class UserSelectElement(Element):
    def __init__(self, *, placeholder: str | PlainTextObject, action_id: str) -> None:
        self.placeholder, self.action_id = placeholder, action_id

    def to_dict(self) -> Json:
        return {
            "type": "users_select",
            "placeholder": _plain(self.placeholder),
            "action_id": str(self.action_id),
        }


class OverflowMenuElement(Element):
    def __init__(self, *, action_id: str, options: Sequence[Option]) -> None:
        self.action_id, self.options = action_id, list(options)

    def to_dict(self) -> Json:
        return {
            "type": "overflow",
            "action_id": str(self.action_id),
            "options": [o.to_dict() for o in self.options],
        }


class Block:
    def to_dict(self) -> Json:
        raise NotImplementedError


class HeaderBlock(Block):
    def __init__(self, *, text: str | PlainTextObject) -> None:
        self.text = text

    def to_dict(self) -> Json:
        return {"type": "header", "text": _plain(self.text)}


class SectionBlock(Block):
    def __init__(
        self,
        *,
        text: MarkdownTextObject | PlainTextObject | None = None,
        fields: Sequence[MarkdownTextObject | PlainTextObject] | None = None,
        accessory: Element | None = None,
        block_id: str | None = None,
    ) -> None:
        self.text, self.fields, self.accessory, self.block_id = text, fields, accessory, block_id

    def to_dict(self) -> Json:
        out: Json = {"type": "section"}
        if self.text is not None:
            out["text"] = self.text.to_dict()
        if self.fields is not None:
            out["fields"] = [f.to_dict() for f in self.fields]
        if self.accessory is not None:
            out["accessory"] = self.accessory.to_dict()
        if self.block_id is not None:
            out["block_id"] = self.block_id
        return out


class ContextBlock(Block):
    def __init__(self, *, elements: Sequence[MarkdownTextObject | PlainTextObject]) -> None:
        self.elements = list(elements)

    def to_dict(self) -> Json:
        return {"type": "context", "elements": [e.to_dict() for e in self.elements]}


class ActionsBlock(Block):
    def __init__(self, *, elements: Sequence[Element], block_id: str | None = None) -> None:
        self.elements, self.block_id = list(elements), block_id

    def to_dict(self) -> Json:
        out: Json = {"type": "actions", "elements": [e.to_dict() for e in self.elements]}
        if self.block_id is not None:
            out["block_id"] = self.block_id
        return out
