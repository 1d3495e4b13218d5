"""`triage-bot correlate FILE.jsonl` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli import main


def _entry(n: int, service: str, text: str, second: int) -> str:
    return json.dumps(
        {
            "insertId": f"e{n}",
            "timestamp": f"2026-12-02T03:12:{second:02d}Z",
            "severity": "ERROR",
            "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {"project_id": "p", "service_name": service},
            },
            "textPayload": text,
        }
    )


def test_correlate_prints_the_candidate_and_the_groups_left_out(tmp_path: Path, capsys) -> None:
    db = "dial tcp 10.40.0.3:5432: connect: connection refused"
    lines = [
        _entry(1, "invoice-api", f"charge failed: {db}", 4),
        _entry(2, "ledger", f"Error: connect ECONNREFUSED 10.40.0.3:5432 ({db})", 9),
        _entry(3, "ledger", f"Error: connect ECONNREFUSED 10.40.0.3:5432 ({db})", 10),
        _entry(4, "cart", "KeyError: 'sku'", 5),
        "not json",
    ]
    path = tmp_path / "entries.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["correlate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(
        "candidate 1: 2 new errors in 2 services since 03:12 — 2 mention 10.40.0.3:5432 "
        "(Postgres); first: invoice-api 03:12:04\n"
    )
    assert "shared endpoint      10.40.0.3:5432  (2/2 groups, weight 2)" in out
    assert "on their own: 1 groups" in out and "cart" in out.split("on their own")[1]
    assert "skipped 1 rejected lines" in err


def test_correlate_bad_window_says_how_to_fix(tmp_path: Path, capsys) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("")
    assert main(["correlate", str(path), "--window", "-1"]) == 2
    assert "--window must be >= 0" in capsys.readouterr().err


def test_pure_modules_load_neither_redis_nor_slack() -> None:
    code = (
        "import sys, bot.incident.correlate, bot.incident.render, bot.notify.plan, "
        "bot.notify.blocks, bot.routing.router, bot.routing.config; "
        "print(any(m.split('.')[0] in ('redis', 'slack_sdk', 'slack_bolt') for m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
