"""Block Kit as Slack checks it: Slack-style errors for blocks and views (pure), and the walk
over a message's interactive elements that clicks and selects start from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from triage_sandbox.slack_standin.model import MAX_BLOCKS, MAX_MARKDOWN_TEXT, Surface


def block_kit_errors(blocks: Any, surface: Surface = "message") -> list[str]:
    """Slack-style errors (``"must be less than 3001 characters [json-pointer:/blocks/0/text/
    text]"``) for a list of blocks; empty when Slack would accept them. Pure."""
    v = _BlockValidator(surface)
    v.blocks(blocks, "/blocks")
    return v.errors


class _BlockValidator:
    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.errors: list[str] = []

    def err(self, msg: str, ptr: str) -> None:
        self.errors.append(f"{msg} [json-pointer:{ptr}]")

    def max_len(self, value: Any, limit: int, ptr: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.err("missing required field", ptr)
            return
        if not isinstance(value, str):
            self.err("must be a string", ptr)
        elif len(value) > limit:
            self.err(f"must be less than {limit + 1} characters", ptr)

    def text(
        self,
        obj: Any,
        limit: int,
        ptr: str,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.err("missing required field", ptr)
            return
        if not isinstance(obj, dict):
            self.err("must be an object", ptr)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.err("must be a valid enum value", f"{ptr}/type")
        value = obj.get("text")
        if not isinstance(value, str):
            self.err("missing required field", f"{ptr}/text")
        elif not value:
            self.err("must be more than 0 characters", f"{ptr}/text")
        else:
            self.max_len(value, limit, f"{ptr}/text")

    def list_of(self, value: Any, ptr: str, lo: int, hi: int) -> list[Any]:
        if not isinstance(value, list):
            self.err("must be an array", ptr)
            return []
        if len(value) < lo:
            self.err(f"must provide at least {lo} items", ptr)
        if len(value) > hi:
            self.err(f"must provide no more than {hi} items", ptr)
        return value

    def blocks(self, blocks: Any, ptr: str) -> None:
        items = self.list_of(blocks, ptr, 0, MAX_BLOCKS[self.surface])
        seen: set[str] = set()
        for i, block in enumerate(items):
            bptr = f"{ptr}/{i}"
            if not isinstance(block, dict):
                self.err("must be an object", bptr)
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.max_len(block_id, 255, f"{bptr}/block_id")
                if block_id in seen:
                    self.err(f"duplicate block_id {block_id!r}", f"{bptr}/block_id")
                seen.add(block_id)
            check = getattr(self, f"block_{block.get('type')}", None)
            if check is None:
                self.err("must be a valid enum value", f"{bptr}/type")
            else:
                check(block, bptr)

    # blocks ---------------------------------------------------------------
    def block_section(self, b: dict[str, Any], p: str) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.err("must provide either text or fields", p)
        self.text(b.get("text"), 3000, f"{p}/text", required=False)
        if b.get("fields") is not None:
            for i, f in enumerate(self.list_of(b["fields"], f"{p}/fields", 1, 10)):
                self.text(f, 2000, f"{p}/fields/{i}")
        if b.get("accessory") is not None:
            self.element(b["accessory"], f"{p}/accessory", set())

    def block_header(self, b: dict[str, Any], p: str) -> None:
        self.text(b.get("text"), 150, f"{p}/text", plain_only=True)

    def block_divider(self, b: dict[str, Any], p: str) -> None:
        return

    def block_image(self, b: dict[str, Any], p: str) -> None:
        if b.get("slack_file") is None:
            self.max_len(b.get("image_url"), 3000, f"{p}/image_url", required=True)
        self.max_len(b.get("alt_text"), 2000, f"{p}/alt_text", required=True)
        self.text(b.get("title"), 2000, f"{p}/title", plain_only=True, required=False)

    def block_context(self, b: dict[str, Any], p: str) -> None:
        for i, e in enumerate(self.list_of(b.get("elements"), f"{p}/elements", 1, 10)):
            ep = f"{p}/elements/{i}"
            if isinstance(e, dict) and e.get("type") == "image":
                self.element_image(e, ep, set())
            else:
                self.text(e, 3000, ep)

    def block_actions(self, b: dict[str, Any], p: str) -> None:
        ids: set[str] = set()
        for i, e in enumerate(self.list_of(b.get("elements"), f"{p}/elements", 1, 25)):
            self.element(e, f"{p}/elements/{i}", ids)

    def block_input(self, b: dict[str, Any], p: str) -> None:
        self.text(b.get("label"), 2000, f"{p}/label", plain_only=True)
        self.text(b.get("hint"), 2000, f"{p}/hint", plain_only=True, required=False)
        if b.get("element") is None:
            self.err("missing required field", f"{p}/element")
        else:
            self.element(b["element"], f"{p}/element", set())

    def block_rich_text(self, b: dict[str, Any], p: str) -> None:
        self.list_of(b.get("elements"), f"{p}/elements", 1, 10_000)

    def block_markdown(self, b: dict[str, Any], p: str) -> None:
        self.max_len(b.get("text"), MAX_MARKDOWN_TEXT, f"{p}/text", required=True)

    def block_file(self, b: dict[str, Any], p: str) -> None:
        self.max_len(b.get("external_id"), 255, f"{p}/external_id", required=True)

    def block_video(self, b: dict[str, Any], p: str) -> None:
        for key in ("video_url", "thumbnail_url", "alt_text"):
            self.max_len(b.get(key), 3000, f"{p}/{key}", required=True)
        self.text(b.get("title"), 200, f"{p}/title", plain_only=True)

    # elements -------------------------------------------------------------
    def element(self, e: Any, p: str, action_ids: set[str]) -> None:
        if not isinstance(e, dict):
            self.err("must be an object", p)
            return
        action_id = e.get("action_id")
        if action_id is not None:
            self.max_len(action_id, 255, f"{p}/action_id")
            if action_id in action_ids:
                self.err(f"duplicate action_id {action_id!r}", f"{p}/action_id")
            action_ids.add(action_id)
        kind = str(e.get("type"))
        check = getattr(self, f"element_{kind}", None)
        if check is None and kind.endswith("_select"):
            check = self.element_select
        if check is None:
            self.err("must be a valid enum value", f"{p}/type")
            return
        check(e, p, action_ids)
        if e.get("confirm") is not None:
            self.confirm(e["confirm"], f"{p}/confirm")

    def element_button(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("text"), 75, f"{p}/text", plain_only=True)
        self.max_len(e.get("value"), 2000, f"{p}/value")
        self.max_len(e.get("url"), 3000, f"{p}/url")
        self.max_len(e.get("accessibility_label"), 75, f"{p}/accessibility_label")
        if e.get("style") not in (None, "primary", "danger"):
            self.err("must be a valid enum value", f"{p}/style")

    def element_image(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        if e.get("slack_file") is None:
            self.max_len(e.get("image_url"), 3000, f"{p}/image_url", required=True)
        self.max_len(e.get("alt_text"), 2000, f"{p}/alt_text", required=True)

    def options(self, opts: Any, p: str, hi: int) -> list[dict[str, Any]]:
        valid = []
        for i, o in enumerate(self.list_of(opts, p, 1, hi)):
            op = f"{p}/{i}"
            if not isinstance(o, dict):
                self.err("must be an object", op)
                continue
            self.text(o.get("text"), 75, f"{op}/text")
            self.max_len(o.get("value"), 150, f"{op}/value", required=True)
            self.text(o.get("description"), 75, f"{op}/description", required=False)
            valid.append(o)
        return valid

    def element_select(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)
        kind = e["type"]
        if kind in ("static_select", "multi_static_select"):
            if e.get("options") is not None:
                self.options(e["options"], f"{p}/options", 100)
            elif e.get("option_groups") is not None:
                groups = self.list_of(e["option_groups"], f"{p}/option_groups", 1, 100)
                for i, g in enumerate(groups):
                    gp = f"{p}/option_groups/{i}"
                    if isinstance(g, dict):
                        self.text(g.get("label"), 75, f"{gp}/label", plain_only=True)
                        self.options(g.get("options"), f"{gp}/options", 100)
            else:
                self.err("must provide either options or option_groups", p)

    def element_overflow(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.options(e.get("options"), f"{p}/options", 5)

    def element_checkboxes(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.options(e.get("options"), f"{p}/options", 10)

    element_radio_buttons = element_checkboxes

    def element_datepicker(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)

    element_timepicker = element_datepicker

    def element_plain_text_input(self, e: dict[str, Any], p: str, _: set[str]) -> None:
        self.text(e.get("placeholder"), 150, f"{p}/placeholder", plain_only=True, required=False)
        self.max_len(e.get("initial_value"), 3000, f"{p}/initial_value")

    def confirm(self, c: Any, p: str) -> None:
        if not isinstance(c, dict):
            self.err("must be an object", p)
            return
        self.text(c.get("title"), 100, f"{p}/title", plain_only=True)
        self.text(c.get("text"), 300, f"{p}/text")
        self.text(c.get("confirm"), 30, f"{p}/confirm", plain_only=True)
        self.text(c.get("deny"), 30, f"{p}/deny", plain_only=True)


def view_errors(view: Any, surface: Literal["home", "modal"]) -> list[str]:
    """Slack-style errors for a ``views.publish`` / ``views.open`` view. Pure."""
    v = _BlockValidator(surface)
    if not isinstance(view, dict):
        v.err("must be an object", "/view")
        return v.errors
    if view.get("type") != surface:
        v.err("must be a valid enum value", "/view/type")
    if surface == "modal":
        v.text(view.get("title"), 24, "/view/title", plain_only=True)
        v.text(view.get("submit"), 24, "/view/submit", plain_only=True, required=False)
        v.text(view.get("close"), 24, "/view/close", plain_only=True, required=False)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and view.get("submit") is None:
            v.err("submit is required when an input block is within the blocks", "/view")
    v.max_len(view.get("callback_id"), 255, "/view/callback_id")
    v.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    v.max_len(view.get("external_id"), 255, "/view/external_id")
    v.blocks(view.get("blocks"), "/view/blocks")
    return v.errors


def interactive_elements(blocks: Iterable[Any]) -> Iterable[tuple[str | None, dict[str, Any]]]:
    """(block_id, element) for every interactive element in a list of blocks."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block.get("block_id")
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory"):
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element"):
            candidates = [block["element"]]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id"):
                yield block_id, element


def all_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options
