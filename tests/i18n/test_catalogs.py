"""Both message catalogs are complete, and code only uses keys they have."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.i18n import LOCALES, catalog

ROOT = Path(__file__).resolve().parents[2]
KEY_USE = re.compile(r"""\bt\(\s*f?["']([a-z_.{}0-9]+)["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    en, ja = catalog("en"), catalog("ja")
    assert set(en) == set(ja)
    for key in en:
        assert placeholders(en[key]) == placeholders(ja[key]), key


def test_every_key_used_in_code_exists_in_every_catalog() -> None:
    used: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
            used.add(key)
    assert used, "no catalog keys found in the code"
    for loc in LOCALES:
        cat = catalog(loc)
        for key in used:
            if "{" in key:  # f-string key, e.g. statename.{state}: every expansion must exist
                prefix = key.split("{", 1)[0]
                assert any(k.startswith(prefix) for k in cat), (loc, key)
            else:
                assert key in cat, (loc, key)


def test_japanese_catalog_is_translated() -> None:
    en, ja = catalog("en"), catalog("ja")
    same = [
        k
        for k in en
        if en[k] == ja[k]
        and re.search(r"[A-Za-z]{4,}", re.sub(r"`[^`]*`|\{[^}]*\}|:[a-z_]+:", "", en[k]))
    ]
    assert same == [] or all(k.startswith("link.error_reporting") for k in same), same
