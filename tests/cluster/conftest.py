"""A local three-node Redis Cluster (no replicas) for the session, and the store fixtures
(`redis_client`, `key_prefix`) bound to it through redis-py's RedisCluster.

The nodes are redis-server processes in cluster mode (triage_sandbox.redis_server) on loopback
ports, each in its own temp dir; `redis-cli --cluster create` assigns the slots. Torn down after
the session. If the cluster cannot be created the tests fail (never skip)."""

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
from triage_sandbox.redis_server import RedisServer

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
        self.nodes: list[RedisServer] = []

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def start(self) -> None:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is needed (apt-get install redis-server)")
        for _ in range(NODES):
            port = _free_cluster_port()
            node = RedisServer(
                self.dir / str(port),
                port=port,
                extra_args=(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000",
                ),
            )  # fmt: skip
            self.nodes.append(node)
            node.start(timeout=10)
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
        return " | ".join(n.log_tail() for n in self.nodes)

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0])

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster()
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # RedisStartError too
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
