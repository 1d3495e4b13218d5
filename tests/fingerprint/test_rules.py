"""Custom fingerprint rules: validation messages and first-match application."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.fingerprint import fingerprint
from bot.fingerprint.rules import RuleError, load_rules
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent

FIXTURES = Path(__file__).parent.parent / "fixtures" / "logentries"


def _event(name: str) -> ErrorEvent:
    ev = parse_entry((FIXTURES / f"{name}.json").read_bytes())
    assert isinstance(ev, ErrorEvent)
    return ev


def test_rule_merges_by_fixed_fingerprint_and_sets_title():
    rules = load_rules(
        [
            {"service": "nobody-*", "fingerprint": ["never"]},
            {
                "type": "IllegalStateException",
                "frame": "*CardService.*",
                "fingerprint": ["frozen-cards", "{{ service }}"],
                "title": "Frozen card ({{ default }})",
            },
        ]
    )
    a = fingerprint(_event("kt-ise-authorize"), rules)
    b = fingerprint(_event("kt-ise-settle"), rules)
    assert a.id == b.id
    assert a.components == (
        ("rule", "1"),
        ("fingerprint", "frozen-cards"),
        ("fingerprint", "card-api"),
    )
    assert a.title.startswith("Frozen card (IllegalStateException: Card ")
    untouched = _event("kt-caused-sql")
    assert fingerprint(untouched, rules) == fingerprint(untouched)


def test_default_keeps_the_default_grouping_inside_a_rule():
    rules = load_rules([{"message": r"^pgx: ", "fingerprint": ["{{ default }}", "db"]}])
    a = fingerprint(_event("go-db-refused"), rules)
    b = fingerprint(_event("pay-db-refused"), rules)
    assert a.id != b.id  # {{ default }} still holds the service
    assert a.id != fingerprint(_event("go-db-refused")).id


def test_title_only_rule_keeps_the_group():
    rules = load_rules([{"service": "payment-*", "title": "[payments] {{ default }}"}])
    ev = _event("req-502")
    assert fingerprint(ev, rules).id == fingerprint(ev).id
    assert fingerprint(ev, rules).title == "[payments] 502 POST /tasks/charge/{id}"


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        ([{"message": "([unclosed", "fingerprint": ["x"]}], "fingerprint_rules[0]: message"),
        (
            [{"type": "A", "fingerprint": ["x"]}, {"message": "(", "title": "t"}],
            "fingerprint_rules[1]",
        ),
        ([{"message": "a+(", "fingerprint": ["x"]}], "escape special characters"),
        ([{"fingerprint": ["x"]}], "at least one matcher"),
        ([{"type": "KeyError"}], "needs an action"),
        ([{"type": "KeyError", "fingerprint": []}], "at least one value"),
        ([{"type": "KeyError", "fingerprint": ["{{ nope }}"]}], "unknown variable"),
        ([{"type": "KeyError", "fingerprnt": ["x"]}], "unknown key"),
        (["KeyError"], "expected a mapping"),
    ],
)
def test_bad_rules_name_the_index_and_the_fix(rules, needle):
    with pytest.raises(RuleError) as err:
        load_rules(rules)
    assert needle in str(err.value)


def test_rules_load_from_yaml_shaped_data():
    doc = json.loads('[{"service": "ocr/*", "type": "KeyError", "fingerprint": ["{{ type }}"]}]')
    rules = load_rules(doc)
    a = fingerprint(_event("py-keyerror"), rules)
    b = fingerprint(_event("py-keyerror-vendor"), rules)
    assert a.id == b.id and a.components[-1] == ("fingerprint", "KeyError")
