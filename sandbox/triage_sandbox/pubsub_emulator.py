"""Launch Google's Pub/Sub emulator (from the Cloud SDK) on a free local port.

``PubSubEmulator().start()`` runs ``platform/pubsub-emulator/bin/cloud-pubsub-emulator`` in its
own process group with a temporary working directory, waits until it answers a gRPC call and
returns "host:port"; ``stop()`` kills the process group. A failed start raises
``EmulatorStartError`` carrying the tail of the emulator's output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import grpc
from google.pubsub_v1.types import pubsub

from triage_sandbox.service import LocalService, free_port

_EMULATOR_SCRIPT = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
_SDK_ROOTS = (
    Path("/usr/lib/google-cloud-sdk"),
    Path("/usr/share/google-cloud-sdk"),
    Path("/opt/google-cloud-sdk"),
    Path.home() / "google-cloud-sdk",
)
_PROBE_METHOD = "/google.pubsub.v1.Publisher/GetTopic"
_PROBE_TOPIC = "projects/emulator-probe/topics/probe"
_LOG_TAIL_CHARS = 4000
_GetTopicRequest = pubsub.GetTopicRequest.pb()


class EmulatorStartError(RuntimeError):
    """The emulator is missing, exited, or did not answer in time."""


def find_emulator() -> Path | None:
    """The emulator's start script, from the SDK that ``gcloud`` belongs to or a usual place."""
    roots: list[Path] = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.append(Path(gcloud).resolve().parent.parent)
    roots.extend(_SDK_ROOTS)
    for root in roots:
        script = root / _EMULATOR_SCRIPT
        if script.is_file() and os.access(script, os.X_OK):
            return script
    return None


def emulator_available() -> bool:
    """True when the emulator and a Java runtime to run it are installed."""
    return find_emulator() is not None and _java_available()


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


def _answers(target: str, timeout: float) -> bool:
    """True once the server answers a GetTopic (NOT_FOUND is an answer)."""
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            _PROBE_METHOD,
            request_serializer=_GetTopicRequest.SerializeToString,
            response_deserializer=lambda raw: raw,
        )
        try:
            call(_GetTopicRequest(topic=_PROBE_TOPIC), timeout=timeout)
        except grpc.RpcError as exc:
            return exc.code() not in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
            )
        return True


class PubSubEmulator(LocalService):
    """One emulator process. Usable as a context manager; ``host`` is "host:port"."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 60.0,
        script: Path | None = None,
    ) -> None:
        self._bind_host = host
        self._start_timeout = start_timeout
        self._script = script
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._host: str | None = None

    @property
    def host(self) -> str:
        if self._host is None:
            raise RuntimeError("the Pub/Sub emulator is not running")
        return self._host

    @property
    def log_path(self) -> Path | None:
        return None if self._workdir is None else self._workdir / "emulator.log"

    def start(self) -> str:
        with self._lock:
            if self._host is not None:
                raise RuntimeError(f"the Pub/Sub emulator already runs on {self._host}")
            script = self._script or find_emulator()
            if script is None:
                raise EmulatorStartError(
                    "Pub/Sub emulator not found: install the Cloud SDK component "
                    "'pubsub-emulator' (looked next to gcloud and in "
                    + ", ".join(str(r) for r in _SDK_ROOTS)
                    + ")"
                )
            if not _java_available():
                raise EmulatorStartError("the Pub/Sub emulator needs Java, and none is on PATH")
            attempts = 3  # the free port can be taken between choosing and binding it
            for attempt in range(1, attempts + 1):
                try:
                    self._host = self._launch(script)
                    return self._host
                except EmulatorStartError as exc:
                    in_use = "Address already in use" in str(exc)
                    self._cleanup()
                    if not in_use or attempt == attempts:
                        raise
            raise AssertionError("unreachable")

    def _launch(self, script: Path) -> str:
        port = free_port(self._bind_host)
        target = f"{self._bind_host}:{port}"
        self._workdir = Path(tempfile.mkdtemp(prefix="pubsub-emulator-"))
        log_path = self._workdir / "emulator.log"
        with log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [str(script), f"--host={self._bind_host}", f"--port={port}"],
                cwd=self._workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        give_up = time.monotonic() + self._start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise EmulatorStartError(
                    f"the Pub/Sub emulator exited with code {code} before answering on "
                    f"{target}; output:\n{self._log_tail()}"
                )
            if _answers(target, timeout=1.0):
                return target
            if time.monotonic() >= give_up:
                raise EmulatorStartError(
                    f"the Pub/Sub emulator did not answer on {target} within "
                    f"{self._start_timeout:.0f} s; output:\n{self._log_tail()}"
                )
            time.sleep(0.2)

    def _log_tail(self) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no output)"
        text = path.read_bytes()[-_LOG_TAIL_CHARS:].decode("utf-8", "replace")
        return text or "(no output)"

    def stop(self) -> None:
        with self._lock:
            self._host = None
            self._cleanup()

    def _cleanup(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            _kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid
