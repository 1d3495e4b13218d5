"""ConfigHolder: a bad new file is refused and the old config stays; a good one is picked up."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.routing.config import Config, ConfigError
from bot.routing.reload import ConfigHolder

V1 = """\
teams: [{name: sre, channel: G0SRE}]
default_route: {team: sre}
"""
V2 = """\
teams: [{name: sre, channel: G0SRE}, {name: payments, channel: C0PAY}]
routes: [{team: payments, match: {service: payments-*}}]
default_route: {team: sre}
"""
BAD = V2.replace("team: payments, match", "team: paymnts, match")


def write(path: Path, text: str, mtime_ns: int) -> None:
    """Write and set an explicit mtime: the change is visible whatever the clock resolution."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    f = tmp_path / "triage.yml"
    write(f, V1, 1_000_000_000_000_000_000)
    return f


class Reloads:
    """Collects reloaded configs; lets a test wait for one without sleeping blindly."""

    def __init__(self) -> None:
        self.configs: list[Config] = []
        self.event = threading.Event()

    def __call__(self, config: Config) -> None:
        self.configs.append(config)
        self.event.set()

    def wait(self) -> Config:
        assert self.event.wait(10), "no reload happened"
        self.event.clear()
        return self.configs[-1]


@pytest.fixture
def holder(cfg: Path) -> Iterator[tuple[ConfigHolder, Reloads]]:
    reloads = Reloads()
    h = ConfigHolder(cfg, on_reload=reloads)
    yield h, reloads
    h.stop()


def test_bad_initial_file_raises(tmp_path: Path) -> None:
    f = tmp_path / "triage.yml"
    f.write_text(BAD, encoding="utf-8")
    with pytest.raises(ConfigError):
        ConfigHolder(f)


def test_reload_refuses_bad_file_and_keeps_old(
    cfg: Path, holder: tuple[ConfigHolder, Reloads], caplog: pytest.LogCaptureFixture
) -> None:
    h, reloads = holder
    old = h.current
    write(cfg, BAD, 2_000_000_000_000_000_000)
    with caplog.at_level(logging.ERROR, logger="bot.routing.reload"):
        assert h.reload() is False
    assert h.current is old
    assert reloads.configs == []
    [record] = caplog.records
    assert "refused, keeping the previous one" in record.getMessage()
    assert "routes[0].team: unknown team 'paymnts'" in record.getMessage()

    write(cfg, V2, 3_000_000_000_000_000_000)
    assert h.reload() is True
    assert [t.name for t in h.current.teams] == ["sre", "payments"]
    assert reloads.configs == [h.current]


def test_check_changed_only_reloads_on_change(
    cfg: Path, holder: tuple[ConfigHolder, Reloads]
) -> None:
    h, _ = holder
    assert h.check_changed() is None
    write(cfg, BAD, 2_000_000_000_000_000_000)
    assert h.check_changed() is False
    assert h.check_changed() is None  # the same bad file is not retried on every poll
    write(cfg, V2, 3_000_000_000_000_000_000)
    assert h.check_changed() is True
    assert len(h.current.routes) == 1


def test_deleted_file_keeps_old_config(cfg: Path, holder: tuple[ConfigHolder, Reloads]) -> None:
    h, _ = holder
    old = h.current
    cfg.unlink()
    assert h.check_changed() is False
    assert h.current is old


def test_watch_picks_up_a_good_file_and_ignores_a_bad_one(
    cfg: Path, holder: tuple[ConfigHolder, Reloads]
) -> None:
    h, reloads = holder
    thread = h.watch(poll_s=0.02)
    assert h.watch(poll_s=0.02) is thread  # idempotent
    old = h.current
    write(cfg, BAD, 2_000_000_000_000_000_000)
    write(cfg, V2, 3_000_000_000_000_000_000)
    new = reloads.wait()
    assert new is h.current and new is not old
    assert [t.name for t in new.teams] == ["sre", "payments"]
    h.stop()
    assert not thread.is_alive()


def test_sighup_reloads(cfg: Path, holder: tuple[ConfigHolder, Reloads]) -> None:
    h, reloads = holder
    previous = signal.getsignal(signal.SIGHUP)
    try:
        h.install_sighup()
        write(cfg, V2, 2_000_000_000_000_000_000)
        os.kill(os.getpid(), signal.SIGHUP)
        assert reloads.wait() is h.current
        assert len(h.current.routes) == 1
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_install_sighup_outside_main_thread_raises(holder: tuple[ConfigHolder, Reloads]) -> None:
    h, _ = holder
    errors: list[BaseException] = []

    def run() -> None:
        try:
            h.install_sighup()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert len(errors) == 1 and "main thread" in str(errors[0])


def test_reload_refuses_an_alias_bomb_at_once(
    cfg: Path, holder: tuple[ConfigHolder, Reloads], caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher reloads through the same bounded parse: refused, not a core burnt."""
    h, reloads = holder
    old = h.current
    bomb = ['a0: &a0 ["lol"]'] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)
    ]
    write(cfg, "\n".join(bomb) + "\n" + V2, 2_000_000_000_000_000_000)
    with caplog.at_level(logging.ERROR, logger="bot.routing.reload"):
        assert h.check_changed() is False
    assert h.current is old and reloads.configs == []
    assert "YAML aliases" in caplog.records[0].getMessage()
