"""`triage-bot fingerprint` / `explain` as a pipeline stage: a reader that stops early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_MAIN = "import sys; from bot.cli import main; sys.exit(main())"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "logentries" / "py-keyerror.json"


@pytest.mark.parametrize("command", ["explain", "fingerprint"])
def test_closed_pipe_is_quiet(command: str, tmp_path: Path) -> None:
    """`triage-bot explain FILE | head -1`: no "Broken pipe" message, no traceback."""
    line = FIXTURE.read_bytes().replace(b"\n", b" ")
    entries = tmp_path / "entries.jsonl"
    entries.write_bytes((line + b"\n") * 20000)  # far more than a pipe buffer holds
    proc = subprocess.Popen(
        [sys.executable, "-c", _MAIN, command, str(entries)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parent.parent.parent,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()  # the first result arrives ...
    proc.stdout.close()  # ... and the reader goes away, like `head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_config_picks_strategy_and_in_app_rules_shown_by_explain(tmp_path: Path) -> None:
    import json

    form = json.loads(
        (Path(__file__).parent.parent / "fixtures/real/go-vendor-thirdparty.json").read_text()
    )["forms"][0]
    entries = tmp_path / "e.jsonl"
    entries.write_text(json.dumps(form) + "\n")
    cfg = tmp_path / "triage.yml"
    cfg.write_text(
        "defaults:\n  grouping: {strategy: fp2}\n"
        "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"
        "in_app:\n  - service: pricing\n    include: [github.com/acme/pricing/third_party/]\n"
    )

    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", _MAIN, *args, str(entries)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent.parent.parent,
            env={"PATH": "/usr/bin:/bin", "TRIAGE_CONFIG": str(cfg)},
        ).stdout

    out = run("explain")
    assert "strategy: fp2 stacktrace (go trace)" in out
    assert "in-app rules of the service: include ['github.com/acme/pricing/third_party/']" in out
    assert "KEPT    github.com/acme/pricing/third_party/decimal (*Big).Quo" in out
    assert run("fingerprint", "--strategy", "fp1").split("\t")[1].startswith("fp1-")
    assert run("fingerprint").split("\t")[1].startswith("fp2-")
