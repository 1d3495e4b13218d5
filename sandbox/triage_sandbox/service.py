"""A local server of the sandbox (a stand-in or an emulator) usable as a context manager, and
the free port such a server listens on."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self


class LocalService:
    """Subclasses set `_host` ("host:port" while running, else None) and define start/stop."""

    _host: str | None = None

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        if self._host is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (for a server the sandbox or a test starts)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
