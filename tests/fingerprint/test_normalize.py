"""Table-driven tests of the message normalizer; every case is also checked inside a sentence."""

from __future__ import annotations

import pytest

from bot.fingerprint.normalize import normalize

CASES: list[tuple[str, str]] = [
    ("alice.smith+tag@mail.example.co.uk", "<email>"),
    ("https://api.example.com/v1/items/42?x=1", "<url>"),
    ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "<uuid>"),
    ("3F2504E04F8911D39A0C0305E82C3301", "<uuid>"),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "<sha>"),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "<sha>"),
    ("0x7fed806eb5d", "<hex>"),
    ("deadbeef0042", "<hex>"),
    ("192.168.10.1", "<ip>"),
    ("10.0.0.7:5432", "<ip>"),
    ("fe80::1ff:fe23:4567:890a", "<ip>"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "<ip>"),
    ("::1", "<ip>"),
    ("2024-03-01T12:30:45.123Z", "<datetime>"),
    ("2024-03-01", "<datetime>"),
    ("12:30:45", "<datetime>"),
    ("26.3s", "<duration>"),
    ("150ms", "<duration>"),
    ("1m30s", "<duration>"),
    ("/tmp/upload-8f3k2/input.pdf", "<temp_path>"),
    ("checkout-7d9f8c6b5d-x2x4z", "checkout-<pod>"),
    ("dGhpcyBpcyBhIHRlc3Qgb2YgYmFzZTY0IGVuY29kaW5n==", "<base64>"),
    ("inv_ORekH9BaMB", "<id>"),
    ("inv_OPDXOYITFO", "<id>"),
    ('"foo@x"', "<quoted>"),
    ("'some value'", "<quoted>"),
    ("`host=db user=app`", "<quoted>"),
    ("42", "<number>"),
    ("-17", "<number>"),
    ("3.14", "<number>"),
    ("1,024", "<number>"),
]

KEPT: list[str] = [
    "connection refused",
    "connection reset by peer",
    "utf8",
    "v1",
    "ipv6",
    "total_amount",
    "don't retry, it isn't safe",
    "Service.Get",
    "NullPointerException",
]

CONTEXTS: list[tuple[str, str]] = [
    ("", ""),
    ("error for ", " while saving"),
    ("value=", ", retrying"),
    ("(", ")"),
    ("[", "]"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
@pytest.mark.parametrize(("prefix", "suffix"), CONTEXTS)
def test_masks_value_in_context(text: str, expected: str, prefix: str, suffix: str) -> None:
    assert normalize(prefix + text + suffix) == prefix + expected + suffix


@pytest.mark.parametrize("text", KEPT)
@pytest.mark.parametrize(("prefix", "suffix"), CONTEXTS)
def test_keeps_words(text: str, prefix: str, suffix: str) -> None:
    assert normalize(prefix + text + suffix) == prefix + text + suffix


def test_masks_every_value_of_a_message() -> None:
    message = (
        "pgx: failed to receive message from `host=10.0.0.1 user=app`: "
        "read tcp 10.1.2.3:6379->10.4.5.6:5432: read: connection reset by peer"
    )
    assert normalize(message) == (
        "pgx: failed to receive message from <quoted>: "
        "read tcp <ip>-><ip>: read: connection reset by peer"
    )


def test_near_identical_causes_stay_different() -> None:
    refused = normalize("dial tcp 10.0.0.1:5432: connect: connection refused")
    reset = normalize("dial tcp 10.0.0.9:5432: connect: connection reset by peer")
    assert refused != reset


def test_is_deterministic() -> None:
    message = "user bob@example.com paid 12.50 EUR at 2024-01-02T03:04:05Z (id 0xdeadbeef)"
    assert len({normalize(message) for _ in range(5)}) == 1
