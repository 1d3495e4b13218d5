"""fp2's message template: what it does beyond fp1's (tests/fingerprint/test_template.py)."""

from __future__ import annotations

import pytest

from bot.fingerprint.fp1.template import message_template as fp1_template
from bot.fingerprint.fp2.template import message_template


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("synchronized to 10.100.20.250, stratum 3", "synchronized to #3#, stratum 1"),
        ("synchronized to 10.100.20.250, stratum 3", "synchronized to LOCAL(0), stratum 10"),
        ("mask=1 diff=0", "mask=ffffffff diff=c0"),
        ("job com.x://DB05-483D/p11: told me to run", "job com.x.Update: told me to run"),
        ("Invalid user webmaster from 173.234.31.186", "Invalid user  0101 from 5.188.10.180"),
    ],
)
def test_one_statement_one_template(a: str, b: str) -> None:
    assert message_template(a) == message_template(b)


def test_shapes_kept() -> None:
    assert message_template("4755 bytes (4.64 KB) sent") == message_template(
        "75 bytes (1.2 KB) sent"
    )
    assert message_template("opened (IRQs 3 4 5) *14") == message_template("opened (IRQs 9) *0")
    assert message_template("user alice logged in") == "user <*> logged in"
    # fp1 stays as it was: the keyword swallowed the word after a variable
    assert fp1_template("Invalid user  0101 from 5.188.10.180") == "Invalid user <*>"
    assert message_template("Invalid user  0101 from 5.188.10.180") == "Invalid user <*> from <*>"
