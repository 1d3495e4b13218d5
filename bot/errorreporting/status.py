"""Bot state <-> Error Reporting resolution status: the mapping table, as pure functions.

Error Reporting's `ResolutionStatus` is an enum (OPEN, ACKNOWLEDGED, RESOLVED, MUTED and
RESOLUTION_STATUS_UNSPECIFIED, which the API reads as OPEN); the bot's group states are `open`,
`acknowledged`, `resolved` and `snoozed`. The two match one to one; statuses are kept as the
enum's names (strings) everywhere outside the client, so Redis and tests never see numbers."""

from __future__ import annotations

from typing import Final

OPEN: Final = "OPEN"
ACKNOWLEDGED: Final = "ACKNOWLEDGED"
RESOLVED: Final = "RESOLVED"
MUTED: Final = "MUTED"
UNSPECIFIED: Final = "RESOLUTION_STATUS_UNSPECIFIED"

# bot state -> Error Reporting resolution status
BOT_TO_ER: Final[dict[str, str]] = {
    "open": OPEN,
    "acknowledged": ACKNOWLEDGED,
    "resolved": RESOLVED,
    "snoozed": MUTED,
}
# Error Reporting resolution status -> bot state (UNSPECIFIED reads as OPEN, as the API says)
ER_TO_BOT: Final[dict[str, str]] = {er: bot for bot, er in BOT_TO_ER.items()} | {
    UNSPECIFIED: "open"
}

ER_STATUSES: Final = frozenset(ER_TO_BOT)


def to_er_status(bot_state: str) -> str | None:
    """The resolution status for a bot state; None for a state Error Reporting has no word for."""
    return BOT_TO_ER.get(bot_state)


def to_bot_state(er_status: str) -> str | None:
    """The bot state for a resolution status name; None for a name this table does not know."""
    return ER_TO_BOT.get(er_status)


def normalize_er_status(er_status: str) -> str | None:
    """The canonical status name (UNSPECIFIED -> OPEN); None for an unknown name."""
    bot = to_bot_state(er_status)
    return None if bot is None else BOT_TO_ER[bot]


def group_name(project: str, group_id: str) -> str:
    """The group's resource name, as `get_group` / `update_group` take it."""
    return f"projects/{project}/groups/{group_id}"
