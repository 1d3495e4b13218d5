"""The one duration grammar (bot.durations), as the config file, /triage snooze and /triage
oncall read it: table-driven."""

from __future__ import annotations

import pytest

from bot.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("250ms", 0.25),
        ("0s", 0.0),
        ("1h30m", 5400.0),
        ("1w1d", 691200.0),
        ("1d2h3m4s", 93784.0),
        ("1m30s500ms", 90.5),
        # the spellings the slash commands took
        ("15 m", 900.0),
        ("2 h", 7200.0),
        ("1h 30m", 5400.0),
        ("  45m  ", 2700.0),
        ("1H", 3600.0),
        ("90M", 5400.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "  ", "15", "m", "-5m", "1.5h", "15min", "1hour", "30s1m", "1h1h", "1m1ms1s", "1h,30m",
     "h1", "1 h x", "1e3s"],
)  # fmt: skip
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_out_of_order_says_why() -> None:
    with pytest.raises(ValueError, match="largest first"):
        parse_duration("30s1m")
