"""A local three-node Redis Cluster (no replicas) for the session, and the store fixtures
(`redis_client`, `key_prefix`) bound to it through redis-py's RedisCluster.

The nodes are redis-server processes in cluster mode on loopback ports, each in its own temp
dir; `redis-cli --cluster create` assigns the slots. Torn down after the session. If the
cluster cannot be created the tests fail (never skip)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

NODES = 3


def _free_cluster_port() -> int:
    """A port that is free together with its cluster bus port (port + 10000)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def _ping(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _cluster_ok(port: int) -> bool:
    try:
        info = redis.Redis(port=port, socket_connect_timeout=0.5).cluster("info")
    except redis.RedisError:
        return False
    text = info if isinstance(info, str) else str(info)
    return "cluster_state:ok" in text or (
        isinstance(info, dict) and info.get("cluster_state") == "ok"
    )


class LocalCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tb-cluster-"))
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if server is None or cli is None:
            raise RuntimeError(
                "redis-server and redis-cli are needed (apt-get install redis-server)"
            )
        for _ in range(NODES):
            port = _free_cluster_port()
            node_dir = self.dir / str(port)
            node_dir.mkdir()
            args = [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"]
            args += ["--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no"]
            args += ["--dir", str(node_dir), "--cluster-node-timeout", "5000"]
            log = (node_dir / "redis.log").open("wb")
            self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
            self.ports.append(port)
        deadline = time.monotonic() + 10
        while not all(_ping(p) for p in self.ports):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"cluster nodes did not start: {self.tail()}")
            time.sleep(0.05)
        create = [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports)]
        create += ["--cluster-replicas", "0", "--cluster-yes"]
        out = subprocess.run(create, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {out.stdout}{out.stderr}")
        deadline = time.monotonic() + 20
        while not all(_cluster_ok(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not reach state ok: {self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        return " | ".join(
            (p / "redis.log").read_text(errors="replace")[-500:]
            for p in self.dir.iterdir()
            if (p / "redis.log").exists()
        )

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0])

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster()
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        cluster.stop()
        pytest.fail(f"could not create a local Redis Cluster: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_client(redis_cluster: LocalCluster) -> Iterator[RedisCluster]:
    """The store tests' client, here a RedisCluster (overrides tests/conftest.py's)."""
    client = redis_cluster.client()
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client: RedisCluster) -> Iterator[str]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*", count=1000):
        redis_client.delete(key)
