"""The bot's own logs are structured JSON that Cloud Logging parses (severity, message)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging
from bot.logs import setup_logging
setup_logging("INFO")
logging.getLogger("bot.ingest").warning("batch of %d not acked", 3)
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("bot.notify").exception("render failed")
"""


def test_logs_are_json_lines_with_severity_and_message() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    ours = [r for r in records if r.get("message", "").startswith(("batch", "render"))]
    assert [r["severity"] for r in ours] == ["WARNING", "ERROR"]
    assert ours[0]["message"] == "batch of 3 not acked"
    assert "ZeroDivisionError" in ours[1]["message"]  # the traceback travels in the entry
    assert ours[0]["logging.googleapis.com/labels"]["python_logger"] == "bot.ingest"
