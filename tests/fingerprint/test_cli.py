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
