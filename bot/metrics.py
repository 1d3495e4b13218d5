"""Process metrics, served at /metrics in Prometheus' text format by prometheus_client.

Each :class:`Metrics` has its own registry (``build()`` makes one per runtime), so a test reads
the counts of the bot it built and never those of another test's.
"""

from __future__ import annotations

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram

# The `_created` series prometheus_client adds to every counter and histogram are not part
# of what /metrics has served; keep the output to the counts.
prometheus_client.disable_created_metrics()

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

# The notifier's stages a failure is counted in (triage_notify_failures_total{stage=...}).
NOTIFY_STAGES = ("render", "admit", "digest", "escalation", "auto_resolve")


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.entries_in = Counter("triage_entries_in_total", "Log entries received", registry=r)
        self.duplicates = Counter(
            "triage_duplicates_total", "Entries already seen (insertId)", registry=r
        )
        self.dead_lettered = Counter(
            "triage_dead_lettered_total", "Entries rejected and kept", registry=r
        )
        self.groups_new = Counter("triage_groups_new_total", "New alert groups", registry=r)
        self.groups_regressed = Counter(
            "triage_groups_regressed_total", "Regressed groups", registry=r
        )
        self.slack_calls = Counter(
            "triage_slack_calls_total",
            "Slack Web API calls",
            ("method", "result"),
            registry=r,
        )
        self.notify_failures = Counter(
            "triage_notify_failures_total",
            "Groups, digests or escalations whose handling failed (retried later, alone)",
            ("stage",),
            registry=r,
        )
        for stage in NOTIFY_STAGES:  # every stage shows, at 0, before its first failure
            self.notify_failures.labels(stage)
        self.batch_seconds = Histogram(
            "triage_batch_seconds", "Ingest batch latency", buckets=_BUCKETS, registry=r
        )

    def value(self, name: str, **labels: str) -> float:
        """The current value of one series (0 when it has no sample yet), e.g.
        ``value("triage_slack_calls_total", method="chat.update", result="ratelimited")``."""
        got = self.registry.get_sample_value(name, labels)
        return got if got is not None else 0.0

    def render(self) -> bytes:
        """Every metric in the text exposition format (label values escaped)."""
        return prometheus_client.generate_latest(self.registry)
