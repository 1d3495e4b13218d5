"""Strategy er1: Error Reporting's own grouping (`grouping: {error_reporting: true}`).

FROZEN like every strategy. An entry that Error Reporting has grouped carries
`errorGroups[].id`; er1 makes that id the group (service + Error Reporting group), keeping the
title, culprit and frames of the fingerprint strategy's result, which it falls back to when
the entry has no group id.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from bot.models import ErrorEvent, Fingerprint

VERSION = "er1"


def over(event: ErrorEvent, own: Fingerprint) -> Fingerprint:
    """`own` (the fingerprint strategy's result) with Error Reporting's group id, if any."""
    if not event.error_group_id:
        return own
    digest = hashlib.blake2b(event.error_group_id.encode(), digest_size=8).hexdigest()
    return replace(
        own,
        id=f"{VERSION}-{digest}",
        version=VERSION,
        components=(("service", event.service), ("error_group", event.error_group_id)),
    )
