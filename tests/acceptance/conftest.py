"""Fixtures of the acceptance suite: a Slack stand-in per test, a Pub/Sub backend per session,
and `start_bot(config=...)`, which runs `triage-bot serve` and stops it after the test.

Backends: every test runs on the project's Pub/Sub stand-in; tests marked `both_backends` run
on Google's emulator too (where installed, and always in CI, where a missing one fails).
ACCEPTANCE_BACKENDS=all runs every test on both.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import redis
from triage_sandbox.pubsub_emulator import PubSubEmulator
from triage_sandbox.pubsub_standin import PubSubStandIn
from triage_sandbox.slack_standin import Channel, SlackStandIn

from tests.acceptance.harness import CHANNELS, BotProcess
from tests.pubsub_fixtures import PubSubBackend, backend_kinds

SECRET = "acceptance-signing-secret-0123"
StartBot = Callable[..., BotProcess]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run on Google's Pub/Sub emulator as well as the stand-in"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_kind" not in metafunc.fixturenames:
        return
    every = os.environ.get("ACCEPTANCE_BACKENDS", "") == "all"
    both = every or metafunc.definition.get_closest_marker("both_backends") is not None
    kinds = backend_kinds() if both else ["standin"]
    # Under pytest-xdist (`make test`), one worker runs every emulator case: one emulator (a
    # JVM) per run, not one per worker.
    params = [
        pytest.param(k, marks=pytest.mark.xdist_group("emulator")) if k == "emulator" else k
        for k in kinds
    ]
    metafunc.parametrize("backend_kind", params, scope="session")


Started = dict[str, tuple[PubSubBackend, PubSubStandIn | PubSubEmulator]]


@pytest.fixture(scope="session")
def _backends() -> Iterator[Started]:
    """Backends (and their servers) started on first use, stopped at the end of the session."""

    class Lazy(Started):
        def __missing__(self, kind: str) -> tuple[PubSubBackend, PubSubStandIn | PubSubEmulator]:
            server: PubSubStandIn | PubSubEmulator = (
                PubSubStandIn() if kind == "standin" else PubSubEmulator()
            )
            host = server.start()  # the emulator raises when missing or broken: never a skip
            self[kind] = (PubSubBackend(kind=kind, host=host), server)
            return self[kind]

    started = Lazy()
    yield started
    for backend, server in started.values():
        backend.close()
        server.stop()


@pytest.fixture
def pubsub(backend_kind: str, _backends: Started) -> PubSubBackend:
    return _backends[backend_kind][0]


@pytest.fixture
def unacked(backend_kind: str, _backends: Started) -> Callable[[str], int] | None:
    """Unacknowledged messages of a subscription, where the backend can tell (the stand-in)."""
    server = _backends[backend_kind][1]
    return server.unacked if isinstance(server, PubSubStandIn) else None


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    channels: dict[str, str | Channel] = dict(CHANNELS)
    channels["C0NOTIN"] = Channel("not-invited", is_member=False)
    with SlackStandIn(SECRET, "xoxb-acceptance", channels=channels) as standin:
        yield standin


@pytest.fixture(scope="session")
def _stopping() -> Iterator[list[BotProcess]]:
    """Bots told to stop (SIGTERM) at the end of their test. A stopping bot may sit in a
    long Pull for up to its pull timeout, so they are collected here, all at once, at the end
    of the session: each must exit 0 (a clean stop); then its Redis keys are deleted."""
    bots: list[BotProcess] = []
    yield bots
    client = None
    failures = []
    for bot in bots:
        if bot.proc is None:
            continue
        code = bot.wait_stopped()
        # A bot that was healthy must stop cleanly; one that never got there (its test failed
        # already, or it was meant to refuse to start) is only collected.
        if bot.terminated and code != 0:
            failures.append(f"bot {bot.prefix} exited {code} after SIGTERM" + bot.output(20))
        client = client or redis.Redis.from_url(bot.redis_url)
        for key in client.scan_iter(match=f"{bot.prefix}:*", count=1000):
            client.delete(key)
    assert not failures, "\n".join(failures)


@pytest.fixture
def start_bot(
    slack: SlackStandIn,
    pubsub: PubSubBackend,
    redis_url: str,
    _stopping: list[BotProcess],
) -> Iterator[StartBot]:
    """`start_bot(config=YAML or None, env={...})` -> a running BotProcess."""
    made: list[BotProcess] = []
    tmp = tempfile.TemporaryDirectory(prefix="triage-acceptance-")

    def start(
        config: str | None = None,
        env: Mapping[str, str] | None = None,
        *,
        run: bool = True,
        replica_of: BotProcess | None = None,
    ) -> BotProcess:
        """A BotProcess, started and healthy; with run=False, not started (for tests of a
        start-up that must fail: `bot.run_to_exit()`); `replica_of`: one more replica of a
        bot (same Redis prefix and subscription)."""
        workdir = Path(tmp.name) / f"bot{len(made)}"
        workdir.mkdir()
        bot = BotProcess(
            slack, pubsub, redis_url, workdir, config=config, env=env, replica_of=replica_of
        )
        made.append(bot)
        return bot.start() if run else bot

    yield start
    for bot in made:
        bot.terminate()
        _stopping.append(bot)
    # The workdir holds the bots' output, read by the session's reaper on failure.
    _stopping_dirs.append(tmp)


_stopping_dirs: list[tempfile.TemporaryDirectory[str]] = []
