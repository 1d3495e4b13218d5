"""A throwaway redis-server on 127.0.0.1 (tests, demo, benchmarks): used when none answers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis


class RedisStartError(RuntimeError):
    pass


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(*extra_args: str) -> Iterator[str]:
    """Start redis-server on a free loopback port (no persistence); yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RedisStartError("redis-server is not installed: apt-get install redis-server")
    port, workdir = _free_port(), tempfile.mkdtemp(prefix="tb-redis-")
    proc = subprocess.Popen(
        [
            exe,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    try:
        while not answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RedisStartError(f"could not start redis-server on 127.0.0.1:{port}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def ensure_redis(url: str) -> Iterator[tuple[str, bool]]:
    """`url` if a Redis answers there, else a throwaway one: yields (url, started_here)."""
    if answers(url):
        yield url, False
        return
    with redis_server() as started:
        yield started, True
