"""Message parameterization: mask the variable parts of an error message (Sentry-style).

An ordered table of named patterns is compiled into ONE alternation regex; every match is
replaced by ``<name>``. Order matters: the first alternative that matches at a position wins,
so specific shapes (e-mail, URL, UUID, timestamp, IP) come before generic ones (hex, number).

The function is pure and deterministic: the same text gives the same result on every replica.
"""

from __future__ import annotations

import re
from typing import Final

# Alphabet of generated Kubernetes name suffixes (no vowels, no 0/1/3).
_K8S: Final = "[bcdfghjklmnpqrstvwxz2456789]"

# (name, pattern). Each pattern must be free of capturing groups: the name is the only group.
PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    ("email", r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'`<>()\[\]{}]*[^\s\"'`<>()\[\]{},.;:!?]"),
    (
        "uuid",
        r"(?<![\w-])[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
        r"[0-9a-fA-F]{12}(?![\w-])",
    ),
    (
        "datetime",
        r"(?<![\w.:])\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w:])"
        r"|(?<![\w.:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w:])",
    ),
    (
        "ip",
        # IPv6 first (full form or with "::"), then IPv4; both with an optional port.
        r"(?<![\w:.])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}"
        r"|(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,5})?"
        r"|::(?:[fF]{4}:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,5})"
        r"|(?:\d{1,3}\.){3}\d{1,3})(?::\d{1,5})?(?![\w:.]*\w)",
    ),
    ("sha", r"(?<![\w-])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![\w-])"),
    (
        "temp_path",
        r"(?<![\w/])/(?:tmp|var/tmp|var/folders|private/var/folders)/[^\s\"'`<>,;()\[\]{}]+",
    ),
    # Kubernetes ReplicaSet / DaemonSet pod suffixes: "api-7d9f8c6b5d-x2x4z" -> "api-<pod>".
    (
        "pod",
        rf"(?<=[a-z0-9])-(?:{_K8S}{{6,10}}-{_K8S}{{5}}|(?=[a-z]*\d){_K8S}{{5}})(?![\w-])",
    ),
    (
        "duration",
        r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d)(?:\d+(?:\.\d+)?(?:ms|s|m))*(?![\w.])",
    ),
    (
        "hex",
        r"(?<![\w.])0[xX][0-9a-fA-F]+(?![\w.])"
        r"|(?<![\w.-])(?=[a-fA-F]*\d)(?=\d*[a-fA-F])[0-9a-fA-F]{8,}(?![\w.-])",
    ),
    (
        "base64",
        r"(?<![\w+/])(?=[A-Za-z+/]*\d)(?=[\w+/]*[A-Z])(?=[\w+/]*[a-z])"
        r"[A-Za-z0-9+][A-Za-z0-9+/]{23,}={0,2}(?![\w+/=])",
    ),
    # Prefixed random ids: "inv_ORekH9BaMB", "ch_b209b859030e".
    (
        "id",
        r"(?<![\w-])[a-z]{1,6}_(?:(?=[a-z]*[A-Z][a-z]*[A-Z])[A-Za-z]{6,}"
        r"|(?=[A-Za-z]*\d)[A-Za-z0-9]{6,})(?![\w-])",
    ),
    ("quoted", r"(?<!\w)'[^'\n]*'(?!\w)|\"(?:[^\"\\\n]|\\.)*\"|`[^`\n]*`"),
    ("number", r"(?<![A-Za-z0-9.])[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?(?![\w])"),
)

_REGEX: Final = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in PATTERNS))


def _placeholder(match: re.Match[str]) -> str:
    name = match.lastgroup or "var"
    return f"-<{name}>" if name == "pod" else f"<{name}>"


def normalize(text: str) -> str:
    """Replace ids, numbers, addresses, times, quoted values ... in ``text`` by ``<name>``."""
    return _REGEX.sub(_placeholder, text)
