"""Deployability: the Slack manifest matches the listeners the code registers; the Dockerfile
parses and names paths that exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

import handlers
from bot.notify.actions import Action

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """Stands in for a Bolt App to record what handlers.register() registers."""

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.commands: set[str] = set()
        self.events: set[str] = set()

    def _decorator(self, *args: Any, **kwargs: Any) -> Any:
        return lambda fn=None, **kw: fn

    def action(self, action_id: str) -> Any:
        self.actions.add(str(action_id))
        return self._decorator()

    def command(self, command: str) -> Any:
        self.commands.add(command)
        return self._decorator()

    def event(self, event: str) -> Any:
        self.events.add(event)
        return self._decorator()

    def __getattr__(self, name: str) -> Any:  # view, options, shortcut ... would be new surface
        raise AssertionError(f"handlers registered an unexpected listener kind: {name}")


def registered() -> Recorder:
    rec = Recorder()
    handlers.register(rec, deps=object())  # type: ignore[arg-type]
    return rec


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app-manifest.yml").read_text())


def test_slash_commands_match_the_manifest() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert registered().commands == declared


def test_events_match_the_manifest() -> None:
    assert registered().events == set(manifest()["settings"]["event_subscriptions"]["bot_events"])


def test_every_action_is_handled_and_interactivity_is_on() -> None:
    assert registered().actions == {str(a) for a in Action}
    assert manifest()["settings"]["interactivity"]["is_enabled"] is True


def test_request_urls_point_at_the_bolt_endpoint() -> None:
    m = manifest()
    urls = [c["url"] for c in m["features"]["slash_commands"]]
    urls += [
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
    ]
    assert all(u.endswith("/slack/events") for u in urls)


def test_bot_scopes_are_the_ones_the_code_uses() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "chat:write",
        "commands",
        "channels:read",
        "groups:read",
        "usergroups:read",
        # bot.incident: conversations.create/invite/setTopic/setPurpose, pins.add, file upload
        "channels:manage",
        "groups:write",
        "pins:write",
        "files:write",
    }


def test_dockerfile_parses_and_copies_existing_paths() -> None:
    df = DockerfileParser(path=str(ROOT / "Dockerfile"))
    stages = [i for i in df.structure if i["instruction"] == "FROM"]
    assert len(stages) == 2, "multi-stage build"
    for ins in df.structure:
        if ins["instruction"] == "COPY" and "--from" not in ins["value"]:
            *sources, _dest = ins["value"].split()
            for src in sources:
                assert (ROOT / src).exists(), f"Dockerfile copies missing path {src}"
    users = [i["value"] for i in df.structure if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert '"triage-bot", "serve"' in df.content
    assert "PORT" in df.content


def test_production_wheel_holds_no_stand_in(tmp_path: Path) -> None:
    """The stand-ins (Slack, Pub/Sub, Error Reporting, demo traffic, UI) live in sandbox/, a
    package of their own: the wheel the Docker image installs carries only bot/ and handlers/."""
    import subprocess
    import sys
    import zipfile

    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*cmd, "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("triage_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.startswith("triage_bot-")}
    assert tops == {"bot", "handlers"}
    assert not [n for n in names if "sandbox" in n or "standin" in n or "stand_in" in n]
    assert "bot/store/lua/record_batch.lua" in names
