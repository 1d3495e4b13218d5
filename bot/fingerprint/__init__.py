"""Fingerprinting: ErrorEvent -> Fingerprint (versioned group id, title, hashed components).

PLACEHOLDER: minimal version; the grouping work replaces it (same signature)."""

from __future__ import annotations

import hashlib
import re

from bot.models import ErrorEvent, Fingerprint

VERSION = "fp1"
_NUM = re.compile(r"\d+")


def fingerprint(event: ErrorEvent) -> Fingerprint:
    msg = _NUM.sub("<n>", event.message)
    comps = (("service", event.service), ("message", msg))
    h = hashlib.blake2b("\x1f".join(v for _, v in comps).encode(), digest_size=8).hexdigest()
    return Fingerprint(id=f"{VERSION}-{h}", version=VERSION, title=event.message[:120] or "error", components=comps)
