"""The one duration grammar (pure): the config file, `/triage snooze` and `/triage oncall` all
read durations with :func:`parse_duration`.

Whole numbers, each with a unit w, d, h, m, s or ms, largest unit first and each unit once:
"30s", "5m", "1h30m", "2d", "1w1d", "250ms". Spaces may stand between a number and its unit and
between parts ("15 m", "1h 30m"); units are case-insensitive ("1H").
"""

from __future__ import annotations

import re

UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ORDER = list(UNITS)
_PART = re.compile(r"\s*(\d+)\s*(ms|w|d|h|m|s)(?![a-z])", re.IGNORECASE)
FIX = "write digits and units w, d, h, m, s, ms, largest first, e.g. '30s', '15m', '1h30m'"


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0 seconds. Raises ValueError with a human message on anything else."""
    s = text.strip()
    pos, total, last = 0, 0.0, -1
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            break
        unit = m.group(2).lower()
        rank = _ORDER.index(unit)
        if rank <= last:
            raise ValueError("units must appear once each, largest first (h before m before s)")
        last, pos = rank, m.end()
        total += int(m.group(1)) * UNITS[unit]
    if not s or pos != len(s):
        raise ValueError("not a duration")
    return total
