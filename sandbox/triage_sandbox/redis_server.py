"""The one way tests, the demo and benchmarks start a redis-server of their own: on 127.0.0.1,
a free port (or a given one), a directory of its own, never the shared server's settings.

:class:`RedisServer` can be stopped (SIGTERM), killed (SIGKILL) and started again on the same
port and directory (``durable``: AOF with fsync on every write, so a restart keeps what was
acknowledged); :func:`redis_server` is the throwaway form; :func:`ensure_redis` uses a Redis
that answers and starts one only when none does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from triage_sandbox.service import free_port


class RedisStartError(RuntimeError):
    pass


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout).ping())
    except redis.RedisError:
        return False


class RedisServer:
    """One redis-server process. ``workdir``: where its data and ``redis.log`` go (a temp dir,
    removed by :meth:`close`, when not given); ``extra_args`` are passed on (e.g. cluster mode)."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        port: int | None = None,
        durable: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="tb-redis-")) if workdir is None else workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port()
        self.durable = durable
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> str:
        """Start it and wait until it answers; returns its URL."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise RedisStartError("redis-server is not installed: apt-get install redis-server")
        args = [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        if self.durable:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        args += ["--dir", str(self.dir), *self.extra_args]
        with (self.dir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not answers(self.url, timeout=0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RedisStartError(
                    f"could not start redis-server on 127.0.0.1:{self.port}: {self.log_tail()}"
                )
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        """SIGTERM (a durable server writes its AOF out), then SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL: an abrupt stop (durable: nothing acknowledged is lost)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def close(self) -> None:
        """Stop, and remove the directory when it was made here."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, chars: int = 500) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def redis_server(*extra_args: str) -> Iterator[str]:
    """A throwaway redis-server (no persistence); yields its URL."""
    with RedisServer(extra_args=extra_args) as server:
        yield server.url


@contextmanager
def ensure_redis(url: str) -> Iterator[tuple[str, bool]]:
    """`url` if a Redis answers there, else a throwaway one: yields (url, started_here)."""
    if answers(url):
        yield url, False
        return
    with redis_server() as started:
        yield started, True
