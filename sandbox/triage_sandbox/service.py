"""A local server of the sandbox (a stand-in or an emulator) usable as a context manager."""

from __future__ import annotations

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
