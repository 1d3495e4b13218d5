"""`triage-bot check-config FILE`: one line per problem, exit 1; an OK summary, exit 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
teams:
  - {name: payments, channel: C0PAY, oncall: "@payments-oncall"}
  - {name: sre, channel: G0SRE}
routes:
  - team: sre
    match: {severity: critical}
    continue: true
  - team: payments
    match: {service: payments-*, labels: {env: prod}}
default_route: {team: sre}
"""


def test_ok_prints_summary_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "triage.yml"
    f.write_text(GOOD, encoding="utf-8")
    assert main(["check-config", str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{f}: OK — 2 teams, 2 routes + default route -> sre"
    assert "  team payments: C0PAY oncall @payments-oncall" in out
    assert "  route[0]: severity>=CRITICAL -> sre (continue)" in out
    assert "  route[1]: service=payments-* labels.env=prod -> payments" in out


def test_problems_print_file_line_path_message_fix_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "triage.yml"
    f.write_text(
        GOOD.replace("team: payments\n", "team: paymnts\n").replace("critical", "fatal"),
        encoding="utf-8",
    )
    assert main(["check-config", str(f)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{f}:6: routes[0].match.severity: unknown severity 'fatal' — did you mean 'CRITICAL'? "
        "use one of DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY "
        "(the route matches that severity and above)",
        f"{f}:8: routes[1].team: unknown team 'paymnts' — did you mean 'payments'? team "
        "'paymnts' is not defined; defined teams: payments, sre. Use one of them or add it "
        "under teams:",
        f"{f}: 2 problems",
    ]


def test_missing_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "absent.yml"
    assert main(["check-config", str(f)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{f}: cannot read the file: ")


def test_example_passes_through_the_real_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", "triage.example.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("triage.example.yml: OK — ")


def test_syntax_error_through_the_real_command(tmp_path: Path) -> None:
    f = tmp_path / "bad.yml"
    f.write_text("teams:\n  - name: a\n    oncall: @a\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", str(f)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert run.stdout.startswith(f"{f}:3: YAML syntax error: found character '@'")
