"""Keep the routing config current while the bot runs: reload on SIGHUP or when the file changes.

What is in force is one `Snapshot`: the routing config AND the timings derived from it (its
`defaults:` over the environment's), so ingest, the notifier and escalation never mix an old
config with new timings. A new file with problems is refused (logged with every problem) and
the snapshot in force stays, whole. Readers take `holder.snapshot` once per decision (a batch,
a notifier pass); the swap is a single reference assignment.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from bot.models import Timings
from bot.routing.config import Config, ConfigError, load_config

log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int] | None


def _stamp(path: str) -> _Stamp:
    """What changes when the file is rewritten or its symlink swapped (Kubernetes ConfigMap)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The routing config in force (None: everything to DEFAULT_CHANNEL) and its timings."""

    config: Config | None
    timings: Timings

    @classmethod
    def of(cls, config: Config | None, base: Timings) -> Snapshot:
        return cls(config, config.timings(base) if config is not None else base)

    @property
    def version(self) -> str:
        """Names the routing decisions of this config ("" without one)."""
        return self.config.version if self.config is not None else ""


class FixedConfig:
    """The snapshot when there is no config file: the environment's timings, never reloaded."""

    def __init__(self, timings: Timings | None = None) -> None:
        self.snapshot = Snapshot(None, timings or Timings())
        self.current: Config | None = None


class ConfigHolder:
    """The config in force. Construction loads the file and raises ConfigError if it is bad.
    `base`: the timings of the environment, which the config's `defaults:` override."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_reload: Callable[[Config], None] | None = None,
        base: Timings | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self._on_reload = on_reload
        self._base = base or Timings()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stamp = _stamp(self.path)
        self._snapshot = Snapshot.of(load_config(self.path), self._base)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def current(self) -> Config:
        config = self._snapshot.config
        assert config is not None  # a holder always has a file's config
        return config

    def reload(self) -> bool:
        """Load the file again; True when the new config is in force, False when refused."""
        with self._lock:
            stamp = _stamp(self.path)
            try:
                config = load_config(self.path)
            except ConfigError as exc:
                self._stamp = stamp  # do not retry the same bad file on every poll
                log.error(
                    "config %s refused, keeping the previous one (%d problem%s):\n%s",
                    self.path,
                    len(exc.problems),
                    "" if len(exc.problems) == 1 else "s",
                    exc,
                )
                return False
            self._stamp = stamp
            self._snapshot = Snapshot.of(config, self._base)
            log.info(
                "config %s reloaded: %d teams, %d routes",
                self.path,
                len(config.teams),
                len(config.routes),
            )
        if self._on_reload is not None:
            self._on_reload(config)
        return True

    def check_changed(self) -> bool | None:
        """Reload if the file changed since the last load; None when it did not change."""
        if _stamp(self.path) == self._stamp:
            return None
        return self.reload()

    def watch(self, poll_s: float = 2.0) -> threading.Thread:
        """Poll the file's mtime in a daemon thread and reload on change. Idempotent."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(poll_s):
                try:
                    self.check_changed()
                except Exception:  # the watcher is an edge: never let it die silently
                    log.exception("config watcher: reload of %s failed", self.path)

        self._thread = threading.Thread(target=run, name="config-watch", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the watcher thread, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def install_sighup(self) -> None:
        """Reload on SIGHUP. Call from the main thread (Python delivers signals only there).

        The handler only starts a thread: reading the file and logging inside a signal handler
        could deadlock on a lock the interrupted code holds.
        """
        if not hasattr(signal, "SIGHUP"):
            raise RuntimeError("SIGHUP does not exist on this platform; use watch() instead")
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("install_sighup() must be called from the main thread")

        def handler(signum: int, frame: FrameType | None) -> None:
            threading.Thread(target=self.reload, name="config-sighup", daemon=True).start()

        signal.signal(signal.SIGHUP, handler)
