"""Message catalogs: every word the bot shows a person comes from here (en, ja)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
_DIR = Path(__file__).parent


@cache
def catalog(locale: str) -> dict[str, str]:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    return json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def t(key: str, locale: str = DEFAULT_LOCALE, /, **params: object) -> str:
    """Render catalog entry `key` in `locale` with str.format-style `params`.

    A key missing from the locale falls back to English; a key missing everywhere raises
    KeyError (a test checks every key used exists in both catalogs)."""
    text = catalog(locale).get(key)
    if text is None:
        text = catalog(DEFAULT_LOCALE)[key]
    return text.format(**params) if params else text
