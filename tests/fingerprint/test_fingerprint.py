"""Fingerprint composition: snapshots of the hashed components, redeploy stability, titles."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bot.fingerprint.fp1 import explain, fingerprint, route_template  # frozen fp1
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent

FIXTURES = Path(__file__).parent.parent / "fixtures" / "logentries"
SNAPSHOT = Path(__file__).parent / "snapshots" / "fingerprints.json"


def _event(name: str, **changes: object) -> ErrorEvent:
    obj = json.loads((FIXTURES / f"{name}.json").read_text())
    obj.update(changes)
    ev = parse_entry(obj)
    assert isinstance(ev, ErrorEvent), ev
    return ev


def _snapshot() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for f in sorted(FIXTURES.glob("*.json")):
        ev = parse_entry(f.read_bytes())
        assert isinstance(ev, ErrorEvent)
        fp = fingerprint(ev)
        out[f.stem] = {
            "id": fp.id,
            "title": fp.title,
            "culprit": fp.culprit,
            "frames": list(fp.frames),
            "components": [list(c) for c in fp.components],
        }
    return out


def test_snapshot_of_components():
    """Fails on any change; rerun with UPDATE_SNAPSHOTS=1 to accept a deliberate one (and then
    remember: a changed grouping needs a new strategy version, not an edited fp1)."""
    got = _snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    want = json.loads(SNAPSHOT.read_text())
    assert got == want


def _redeploy(text: str) -> str:
    """Shift line numbers and columns, change goroutine ids and pointer arguments."""
    text = re.sub(r"(\.(?:go|kt|java|py|js)):(\d+)", lambda m: f"{m[1]}:{int(m[2]) + 7}", text)
    text = re.sub(r"line (\d+)", lambda m: f"line {int(m[1]) + 3}", text)
    text = re.sub(r"goroutine \d+ \[", "goroutine 4242 [", text)
    return re.sub(r"0x[0-9a-f]+", "0xc000beef", text)


def test_redeploy_keeps_the_group_another_function_is_another_group():
    for name, key in [
        ("go-nil-get", "textPayload"),
        ("py-keyerror", "textPayload"),
    ]:
        ev = _event(name)
        moved = _event(name, **{key: _redeploy(ev.stack or "")})
        assert moved.stack != ev.stack
        assert fingerprint(moved).id == fingerprint(ev).id, name
    kt = json.loads((FIXTURES / "kt-ise-authorize.json").read_text())
    kt["jsonPayload"]["stack_trace"] = _redeploy(kt["jsonPayload"]["stack_trace"])
    kt["jsonPayload"]["message"] = "Unhandled exception in POST /v1/cards/1/authorize"
    moved_kt = parse_entry(kt)
    assert isinstance(moved_kt, ErrorEvent)
    assert fingerprint(moved_kt).id == fingerprint(_event("kt-ise-authorize")).id
    # The same panic from another function, the same exception type from another place:
    assert fingerprint(_event("go-nil-get")).id != fingerprint(_event("go-nil-list")).id
    assert fingerprint(_event("kt-ise-authorize")).id != fingerprint(_event("kt-ise-settle")).id
    # Same function, other failure; same frames, other failing line:
    assert fingerprint(_event("go-nil-get")).id != fingerprint(_event("go-index")).id
    assert fingerprint(_event("py-keyerror")).id != fingerprint(_event("py-keyerror-vendor")).id


def test_same_message_in_another_service_is_another_group_and_variables_do_not_split():
    a, b = _event("go-db-refused"), _event("pay-db-refused")
    assert fingerprint(a).components[1:] == fingerprint(b).components[1:]
    assert fingerprint(a).id != fingerprint(b).id
    other = _event(
        "job-mismatch",
        textPayload="ledger mismatch for tenant 0b7c6a8e-1a2b-4c3d-9e8f-001122334455: "
        "expected 12.00 JPY, got 13.50 JPY (batch 1)",
    )
    assert fingerprint(other).id == fingerprint(_event("job-mismatch")).id


def test_titles_and_frames():
    fp = fingerprint(_event("py-keyerror"))
    assert fp.title == "KeyError: 'total_amount' in extract (ocr/extract.py)"
    assert fp.frames == ("ocr/extract.py in extract", "ocr/worker.py in handle")
    assert fp.culprit == "extract (ocr/extract.py)"  # a source path: function (path)
    assert fingerprint(_event("kt-ise-authorize")).culprit == (
        "com.example.acme.card.CardService.authorize"  # a class: module.function
    )
    assert fingerprint(_event("go-nil-get")).culprit == (
        "github.com/example/billing/internal/invoice.(*Service).Get"
    )
    assert fingerprint(_event("node-undefined")).culprit == "getRecipient (src/recipients.js)"
    sql = fingerprint(_event("kt-caused-sql"))
    assert sql.title.startswith("QueryTimeoutException: PreparedStatementCallback")  # outermost
    assert ("type", "java.sql.SQLTimeoutException") in sql.components  # root cause hashed
    assert fingerprint(_event("req-502")).title == "502 POST /tasks/charge/{id}"
    assert all(re.fullmatch(r"fp1-[0-9a-f]{16}", fingerprint(_event(n)).id) for n in ("req-502",))


def test_request_logs_group_by_route_template():
    assert route_template("https://h.run.app/tasks/charge/67121245?x=1") == "/tasks/charge/{id}"
    assert (
        route_template("/v1/users/3f2a9c0d-1e4b-4a67-8b9c-0d1e2f3a4b5c/files/deadbeef99")
        == "/v1/users/{id}/files/{id}"
    )
    assert route_template("https://h") == "/"


def test_explain_says_why_frames_were_dropped():
    exp = explain(_event("py-pdf"))
    assert exp.strategy == "stacktrace" and exp.runtime == "python"
    kept = [d.frame.function for d in exp.frames if d.kept]
    dropped = {d.frame.function: d.why for d in exp.frames if not d.kept}
    assert kept == ["load", "handle"]
    assert "library" in dropped["__init__"]
