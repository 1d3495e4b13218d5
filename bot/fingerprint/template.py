"""Message template: map every occurrence of one log statement to the same string.

Stateless, so every replica (and a restarted one) computes the same template:

1. mask known value shapes with the normalizer's table (ids, IPs, times, quoted values ...);
2. split the rest into tokens at punctuation and whitespace, and classify each token by its
   shape alone: a token with a digit, a random-looking identifier, a host name ... is a
   variable;
3. collapse a run of variables (with the punctuation between them) into one ``<*>``, so
   lists and compound values of any length give one template.
"""

from __future__ import annotations

import re
from typing import Final

from bot.fingerprint.normalize import PATTERNS

VAR: Final = "<*>"
_MARK: Final = "\x00"

_MASK: Final = re.compile("|".join(f"(?:{pattern})" for _, pattern in PATTERNS))

# Token delimiters: whitespace and punctuation that separates values from their keys.
_DELIMS: Final = r"\s,;:=()\[\]{}<>\"'`|/\\@#"
_TOKEN_WITH_DIGIT: Final = re.compile(rf"[^{_DELIMS}]*[\d{_MARK}][^{_DELIMS}]*")
_RUN: Final = re.compile(rf"{_MARK}(?:[{_DELIMS}]*{_MARK})*")


def message_template(text: str) -> str:
    """The template of one log message: constant words kept, variable parts as ``<*>``."""
    masked = _MASK.sub(_MARK, text)
    masked = _TOKEN_WITH_DIGIT.sub(_MARK, masked)
    return _RUN.sub(VAR, masked).strip()
