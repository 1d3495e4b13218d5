"""What a rendering needs besides the group (pure data: the plan builds it, blocks reads it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class View:
    """What a rendering needs besides the group."""

    now: float
    locale: str = "en"
    tz: str = "UTC"
    minutes: Sequence[int] = ()  # last 60 minutes, oldest first
    hours: Sequence[int] = ()  # last 24 hours, oldest first
    note: str = ""  # e.g. a fallback-channel warning, already localized
