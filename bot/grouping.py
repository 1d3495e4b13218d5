"""The fingerprinter the pipeline uses: custom rules from the routing config, and optionally
Error Reporting's grouping (`grouping: error_reporting`) when an entry carries errorGroups[].id."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from bot.fingerprint import fingerprint
from bot.models import ErrorEvent, Fingerprint
from bot.routing.config import Config

ER_VERSION = "er1"


def make_fingerprinter(config: Callable[[], Config | None]) -> Callable[[ErrorEvent], Fingerprint]:
    def fp(event: ErrorEvent) -> Fingerprint:
        cfg = config()
        own = fingerprint(event, cfg.fingerprint_rules if cfg else ())
        if cfg is not None and cfg.defaults.grouping == "error_reporting" and event.error_group_id:
            digest = hashlib.blake2b(event.error_group_id.encode(), digest_size=8).hexdigest()
            return replace(
                own,
                id=f"{ER_VERSION}-{digest}",
                version=ER_VERSION,
                components=(("service", event.service), ("error_group", event.error_group_id)),
            )
        return own

    return fp
