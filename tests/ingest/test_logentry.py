"""parse_entry on every payload shape captured in tests/fixtures/logentries, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.ingest.logentry import MAX_STACK_CHARS, parse_entry
from bot.models import ErrorEvent, Rejected

FIXTURES = Path(__file__).parent.parent / "fixtures" / "logentries"

# fixture -> (service, revision, message starts with, has stack)
EXPECTED: dict[str, tuple[str, str | None, str, bool]] = {
    "go-nil-get": ("invoice-api", "invoice-api-00043-qrl", "panic: runtime error: invalid", True),
    "go-deadline": ("invoice-api", "invoice-api-00042-ury", "failed to fetch invoice", False),
    "kt-ise-authorize": ("card-api", "card-api-00042-tdx", "Unhandled exception in POST", True),
    "kt-caused-sql": ("card-api", "card-api-00041-eww", "Request failed", True),
    "py-keyerror": (
        "ocr/ocr-pipeline",
        "ocr-pipeline-79c46fd871",
        "KeyError: 'total_amount'",
        True,
    ),
    "node-undefined": ("send-notification", None, "TypeError: Cannot read properties", True),
    "node-slack-429": ("send-notification", None, "Error: An API error occurred", False),
    "job-timeout": ("nightly-close", None, "close-books step reconcile_ledger", False),
    "req-502": ("payment-worker", "payment-worker-00043-nrp", "", False),
    "rep-event": ("payment-worker", "payment-worker-00041-wql", "charge declined", False),
    "zap-go-stacktrace": (
        "orders/orders-api",
        "orders-api-5d8f9c7b6d",
        "failed to reserve stock: stock",
        True,
    ),
    "pino-err-object": ("web-bff", "web-bff-00012-abc", "request failed: TypeError", True),
    "gae-python-chained": ("default", "20261120t101112", "app.db.RepositoryError: fetch 991", True),
    "generic-task-text": ("HDFS", None, "081109 203615 148 INFO", False),
    "statefulset-java-suppressed": ("ledger/ledger", None, "batch failed", True),
    "go-fatal-error": (
        "cache-svc",
        "cache-svc-00007-zzz",
        "fatal error: concurrent map writes",
        True,
    ),
    "audit-proto": ("1234567890", None, "Permission 'compute.instances.stop' denied", False),
    "errorgroups-job-execution": ("export", "export-7xk2p", "export failed: bucket", False),
}


def _load(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_every_fixture_parses():
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 20
    for f in files:
        ev = parse_entry(f.read_bytes())
        assert isinstance(ev, ErrorEvent), (f.name, ev)
        assert ev.insert_id and ev.service and ev.timestamp > 1.7e9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_payload_shapes(name):
    service, revision, message, has_stack = EXPECTED[name]
    ev = parse_entry(_load(name))
    assert isinstance(ev, ErrorEvent)
    assert (ev.service, ev.revision) == (service, revision)
    assert ev.message.startswith(message)
    assert (ev.stack is not None) == has_stack


def test_same_result_from_bytes_str_and_dict():
    raw = _load("kt-ise-authorize")
    a, b, c = parse_entry(raw), parse_entry(raw.decode()), parse_entry(json.loads(raw))
    assert a == b == c


def test_entry_fields():
    ev = parse_entry(_load("rep-event"))
    assert isinstance(ev, ErrorEvent)
    assert ev.version == "1.8.0"
    assert ev.report_location == {
        "filePath": "internal/charge/charge.go",
        "lineNumber": 66,
        "functionName": "charge.(*Client).Create",
    }
    assert ev.trace and ev.trace.startswith("projects/acme-prod/traces/")
    assert ev.labels["service_name"] == "payment-worker" and "instanceId" in ev.labels
    assert ev.severity == "ERROR" and ev.resource_type == "cloud_run_revision"
    assert ev.project_id == "acme-prod"
    assert abs(ev.timestamp - 1795482000.741) < 1e-3

    req = parse_entry(_load("req-502"))
    assert isinstance(req, ErrorEvent) and req.http is not None
    assert (req.http.method, req.http.status, req.http.latency) == ("POST", 502, "26.349s")

    grp = parse_entry(_load("errorgroups-job-execution"))
    assert isinstance(grp, ErrorEvent) and grp.error_group_id == "CKm7mOyb2MCTvAE"


def test_nanosecond_and_offset_timestamps():
    base = {"insertId": "t", "textPayload": "x"}
    ns = parse_entry({**base, "timestamp": "2026-11-24T01:00:00.123456789Z"})
    off = parse_entry({**base, "timestamp": "2026-11-24T10:00:00.123456+09:00"})
    assert isinstance(ns, ErrorEvent) and isinstance(off, ErrorEvent)
    assert ns.timestamp == off.timestamp == pytest.approx(1795482000.123456)


def test_huge_stack_is_capped():
    stack = "java.lang.IllegalStateException: x\n" + "\tat com.acme.A.b(A.java:1)\n" * 8000
    ev = parse_entry({"insertId": "big", "jsonPayload": {"message": "m", "stack_trace": stack}})
    assert isinstance(ev, ErrorEvent) and ev.stack is not None
    assert len(ev.stack) == MAX_STACK_CHARS


def _deep(n: int) -> str:
    return '{"insertId": "d", "jsonPayload": ' + '{"a": ' * n + "1" + "}" * n + "}"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b'{"textPayload": "x"}', "missing insertId"),
        (b'{"insertId": 7}', "insertId must be a non-empty string"),
        (b'{"insertId": ""}', "insertId must be a non-empty string"),
        (b'{"insertId": "a", "resource": "cloud_run_revision"}', "resource must be an object"),
        (b'{"insertId": "a", "textPayload": 5}', "textPayload must be a string"),
        (b'{"insertId": "a", "severity": []}', "severity must be a string"),
        (b'{"insertId": "a", "timestamp": "yesterday"}', "not an RFC 3339 timestamp"),
        (b'{"insertId": "a", "httpRequest": 502}', "httpRequest must be an object"),
        (b'{"insertId": "a", "textPayload": "\xff\xfe"}', "invalid UTF-8"),
        (b'{"insertId": "a", "textPayload": "' + b"x" * (1 << 20) + b'"}', "larger than"),
        (_deep(20_000).encode(), "nested too deeply"),
        (12, "unsupported input type"),
    ],
)
def test_rejections_have_a_clear_reason(data, reason):
    got = parse_entry(data)
    assert isinstance(got, Rejected)
    assert reason in got.reason
    assert len(got.raw) <= 4096


def test_rejection_keeps_the_insert_id_when_known():
    got = parse_entry({"insertId": "known", "jsonPayload": {"message": "x" * (1 << 20)}})
    assert isinstance(got, Rejected) and got.insert_id == "known"


@pytest.mark.parametrize(
    "ts",
    ["9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00+01:00", "1960-01-01T00:00:00Z"],
)
def test_impossible_timestamp_is_rejected_with_a_reason(ts):
    got = parse_entry({"insertId": "poison", "textPayload": "x", "timestamp": ts})
    assert isinstance(got, Rejected) and got.insert_id == "poison"
    assert "timestamp" in got.reason and "outside" in got.reason


def test_impossible_timestamp_falls_back_to_receive_timestamp():
    """Logging sets receiveTimestamp itself: a service's broken clock does not lose its error."""
    got = parse_entry(
        {
            "insertId": "p",
            "textPayload": "x",
            "timestamp": "9999-12-31T23:59:59.9999999Z",
            "receiveTimestamp": "2026-11-24T01:00:00Z",
        }
    )
    assert isinstance(got, ErrorEvent) and got.timestamp == pytest.approx(1795482000.0)
