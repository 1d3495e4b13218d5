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


def test_explain_with_redis_shows_merge_rules(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    """`triage-bot explain --redis`: the group an entry's group was merged into (the final
    target of a chain), from the bot's Redis."""
    import redis as redis_py

    from bot.store.keys import Keys
    from bot.store.merges import MergeRule, MergeStore

    entries = tmp_path / "e.jsonl"
    entries.write_bytes(FIXTURE.read_bytes().replace(b"\n", b" ") + b"\n")
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": redis_url, "REDIS_PREFIX": key_prefix}

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _MAIN, *args, str(entries)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent.parent,
            env={**env, **(extra or {})},
        )

    gid = run("fingerprint").stdout.split("\t")[1].strip()
    assert "merged into" not in run("explain", "--redis").stdout
    rules = MergeStore(redis_py.Redis.from_url(redis_url), Keys(key_prefix))
    rules.merge(MergeRule(gid, "fp2-00000000000000b1"))
    rules.merge(MergeRule("fp2-00000000000000b1", "fp2-00000000000000c2"))
    out = run("explain", "--redis").stdout
    assert "merged into: fp2-00000000000000c2" in out, out
    assert "merged into" not in run("explain").stdout  # offline unless asked
    bad = run("explain", "--redis", extra={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert bad.returncode == 2 and "check REDIS_URL" in bad.stderr, bad.stderr


def test_grouping_strategy_setting_is_the_cli_default(tmp_path: Path) -> None:
    entries = tmp_path / "e.jsonl"
    entries.write_bytes(FIXTURE.read_bytes().replace(b"\n", b" ") + b"\n")

    def run(strategy: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _MAIN, "fingerprint", str(entries)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent.parent,
            env={"PATH": "/usr/bin:/bin", "GROUPING_STRATEGY": strategy},
        )

    assert "\tfp1-" in run("fp1").stdout
    assert "\tfp2-" in run("").stdout  # unset: the default
    bad = run("fp9")
    assert bad.returncode == 2 and "GROUPING_STRATEGY" in bad.stderr and "fp2" in bad.stderr
