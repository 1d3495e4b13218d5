"""Per-service in-app rules (Sentry's stack-trace rules, simplified): which frames are the
service's own code. Set in the routing config (`in_app:`), applied by strategies from fp2 on.

A pattern matches a frame when it is a prefix of the frame's module (JVM class, Go package,
Python module) or occurs in its file path. `exclude` wins over `include`, which wins over the
runtime's defaults (`bot/fingerprint/fp2/inapp_defaults.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InAppRules:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


NO_RULES = InAppRules()
