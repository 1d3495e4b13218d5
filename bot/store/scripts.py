"""The one loader of every Lua script (bot/store/lua, bot/errorreporting/lua).

A script is loaded once (SCRIPT LOAD) and called by SHA; a NOSCRIPT reply (the script cache was
flushed, e.g. by a Redis restart) reloads it and retries just those calls. Calls are pipelined:
a list of calls is one round trip."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import NoScriptError

STORE_LUA = Path(__file__).parent / "lua"

Call = tuple[str, Sequence[str], Sequence[Any]]  # script name, KEYS, ARGV


class Script:
    """A Lua script loaded once; called by SHA, reloaded on NOSCRIPT (e.g. after a restart)."""

    def __init__(self, client: Any, path: Path) -> None:
        self.name = path.stem
        self.source = path.read_text()
        self.client = client
        self.sha = client.script_load(self.source)

    def reload(self) -> None:
        self.sha = self.client.script_load(self.source)


class Scripts:
    """The scripts of one directory, loaded on first use."""

    def __init__(self, client: redis.Redis, directory: Path = STORE_LUA) -> None:
        self.client = client
        self.directory = directory
        self._loaded: dict[str, Script] = {}

    def get(self, name: str) -> Script:
        s = self._loaded.get(name)
        if s is None:
            s = self._loaded[name] = Script(self.client, self.directory / f"{name}.lua")
        return s

    def run(self, calls: Sequence[Call], extra: Iterable[Callable[[Any], None]] = ()) -> list[Any]:
        """Run scripts (and extra pipeline commands queued by `extra` callables) in one round
        trip; returns their replies in order. Any error but NOSCRIPT propagates, so the caller
        does not ack."""
        scripts = [self.get(name) for name, _, _ in calls]
        pipe = self.client.pipeline(transaction=False)
        for script, (_, keys, args) in zip(scripts, calls, strict=True):
            # execute_command, not evalsha(): redis-py's cluster pipeline blocks evalsha() but
            # routes a raw EVALSHA by its keys (one slot per call: they share a hash tag).
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        for queue in extra:
            queue(pipe)
        results = pipe.execute(raise_on_error=False)
        retry = [i for i, r in enumerate(results[: len(calls)]) if isinstance(r, NoScriptError)]
        if retry:
            for name in {calls[i][0] for i in retry}:
                self._loaded[name].reload()
            pipe = self.client.pipeline(transaction=False)
            for i in retry:
                _, keys, args = calls[i]
                pipe.execute_command("EVALSHA", scripts[i].sha, len(keys), *keys, *args)
            for i, r in zip(retry, pipe.execute(raise_on_error=False), strict=True):
                results[i] = r
        for r in results:
            if isinstance(r, Exception):
                raise r
        return list(results)

    def call(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return self.run([(name, keys, args)])[0]
