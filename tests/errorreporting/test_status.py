from __future__ import annotations

import pytest

from bot.errorreporting.status import (
    BOT_TO_ER,
    ER_TO_BOT,
    group_name,
    normalize_er_status,
    to_bot_state,
    to_er_status,
)
from bot.errorreporting.sync import wanted_status

# bot state, Error Reporting resolution status
TABLE = [
    ("open", "OPEN"),
    ("acknowledged", "ACKNOWLEDGED"),
    ("resolved", "RESOLVED"),
    ("snoozed", "MUTED"),
]


@pytest.mark.parametrize(("bot", "er"), TABLE)
def test_bot_state_to_er_status(bot: str, er: str) -> None:
    assert to_er_status(bot) == er


@pytest.mark.parametrize(("bot", "er"), TABLE)
def test_er_status_to_bot_state(bot: str, er: str) -> None:
    assert to_bot_state(er) == bot


@pytest.mark.parametrize(("bot", "er"), TABLE)
def test_round_trips(bot: str, er: str) -> None:
    assert to_bot_state(to_er_status(bot) or "") == bot
    assert to_er_status(to_bot_state(er) or "") == er


def test_unspecified_reads_as_open() -> None:
    assert to_bot_state("RESOLUTION_STATUS_UNSPECIFIED") == "open"
    assert normalize_er_status("RESOLUTION_STATUS_UNSPECIFIED") == "OPEN"


@pytest.mark.parametrize("unknown", ["", "closed", "OPEN ", "Resolved", "muted", "open"])
def test_unknown_er_status_maps_to_none(unknown: str) -> None:
    assert to_bot_state(unknown) is None
    assert normalize_er_status(unknown) is None


@pytest.mark.parametrize("unknown", ["", "closed", "OPEN", "Snoozed", "muted", "escalated"])
def test_unknown_bot_state_maps_to_none(unknown: str) -> None:
    assert to_er_status(unknown) is None


def test_tables_are_inverse() -> None:
    assert {er: bot for bot, er in BOT_TO_ER.items()}.items() <= ER_TO_BOT.items()


def test_table_covers_every_er_status_of_the_api() -> None:
    from google.cloud.errorreporting_v1beta1 import ResolutionStatus

    assert set(ER_TO_BOT) == set(ResolutionStatus.__members__)


@pytest.mark.parametrize(
    ("given", "status"),
    [*TABLE, ("MUTED", "MUTED"), ("RESOLUTION_STATUS_UNSPECIFIED", "OPEN")],
)
def test_wanted_status_takes_bot_states_and_er_names(given: str, status: str) -> None:
    assert wanted_status(given) == status


def test_wanted_status_rejects_unknown_state() -> None:
    with pytest.raises(ValueError, match="no Error Reporting status"):
        wanted_status("escalated")


def test_group_name() -> None:
    assert group_name("my-proj", "CJ3x") == "projects/my-proj/groups/CJ3x"
