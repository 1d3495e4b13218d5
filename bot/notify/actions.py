"""Interactive element ids: one symbol names a button's action_id and routes its click."""

from __future__ import annotations

import json
import re
from enum import StrEnum

from bot.snoozes import ESCALATING_FACTOR


class Action(StrEnum):
    ACK = "tb_ack"
    UNACK = "tb_unack"
    RESOLVE = "tb_resolve"
    REOPEN = "tb_reopen"
    SNOOZE = "tb_snooze"
    UNSNOOZE = "tb_unsnooze"
    ASSIGN = "tb_assign"
    MERGE = "tb_merge"  # "Merge into…": answers with how to name the target
    # incidents (bot.incident): declare from an alert or a digest, then the summary's controls
    DIGEST_ITEM = "tb_digest_item"  # a digest line's menu (bot.notify.blocks.digest_blocks)
    DECLARE = "tb_declare"
    DECLARE_DIGEST = "tb_declare_digest"
    INCIDENT_STATUS = "tb_inc_status"
    INCIDENT_SEVERITY = "tb_inc_sev"
    INCIDENT_LEAD = "tb_inc_lead"
    INCIDENT_RESOLVE = "tb_inc_resolve"
    INCIDENT_RESOLVE_GROUPS = "tb_inc_resolve_groups"
    INCIDENT_KEEP_GROUPS = "tb_inc_keep_groups"


# The store's transition for each button.
TRANSITION = {
    Action.ACK: "acknowledge",
    Action.UNACK: "unacknowledge",
    Action.RESOLVE: "resolve",
    Action.REOPEN: "reopen",
    Action.UNSNOOZE: "unsnooze",
    Action.ASSIGN: "assign",
}

# Snooze choices: value -> (transition, argument)
SNOOZE_CHOICES: dict[str, tuple[str, int]] = {
    "1h": ("snooze_for", 3600),
    "8h": ("snooze_for", 8 * 3600),
    "24h": ("snooze_for", 24 * 3600),
    "n10": ("snooze_count", 10),
    "n100": ("snooze_count", 100),
    "esc": ("snooze_escalating", ESCALATING_FACTOR),  # Sentry's "archive until escalating"
}

_GID = re.compile(r"^fp\d+-[0-9a-f]{8,32}$|^[a-z]{1,12}\d*-[\w.:-]{1,120}$")


class BadValue(ValueError):
    """A button value that was tampered with or is not ours."""


def encode_value(gid: str, **extra: str) -> str:
    return json.dumps({"g": gid, **extra}, separators=(",", ":"))


def decode_value(value: str | None) -> dict[str, str]:
    try:
        data = json.loads(value or "")
    except ValueError:
        raise BadValue("not JSON") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("g"), str)
        or not _GID.match(data["g"])
    ):
        raise BadValue("no group id")
    if any(not isinstance(v, str) for v in data.values()):
        raise BadValue("unexpected field types")
    return data


def gid_from_block_id(block_id: str | None) -> str:
    """The group id carried by an alert's actions block (`tb_actions:<gid>`), for selects
    (a users_select has no value of its own)."""
    prefix, _, gid = (block_id or "").partition(":")
    if prefix != "tb_actions" or not _GID.match(gid):
        raise BadValue("not an alert's actions block")
    return gid
