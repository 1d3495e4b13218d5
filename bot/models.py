"""Data the pipeline passes between its stages.

ErrorEvent, HttpInfo and Fingerprint are built once per log entry on the hot path, so they are
plain slotted dataclasses: a frozen dataclass's __init__ costs 4 us more per instance (16
fields, measured), about a tenth of parsing plus fingerprinting. Treat them as immutable."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class HttpInfo:
    method: str
    url: str
    status: int
    latency: str | None = None


@dataclass(slots=True)
class ErrorEvent:
    """One error-level LogEntry, reduced to what grouping, routing and rendering need."""

    insert_id: str
    timestamp: float  # epoch seconds (UTC)
    severity: str  # Cloud Logging severity name, e.g. "ERROR"
    service: str  # owning service: Cloud Run service, k8s namespace/container, function, job ...
    resource_type: str  # e.g. "cloud_run_revision"
    project_id: str = ""
    revision: str | None = None  # Cloud Run revision, pod's deployment, function version ...
    version: str | None = None  # serviceContext.version (Error Reporting) when present
    log_name: str = ""
    message: str = ""  # the error text (first line / message field), untrusted
    stack: str | None = None  # the full stack trace text when there is one, untrusted
    http: HttpInfo | None = None
    trace: str | None = None  # "projects/P/traces/ID"
    error_group_id: str | None = None  # errorGroups[0].id (Error Reporting)
    labels: dict[str, str] = field(default_factory=dict)  # resource + entry labels, flattened
    report_location: dict[str, object] | None = None  # ReportedErrorEvent context.reportLocation


@dataclass(frozen=True, slots=True)
class Rejected:
    """An entry that could not be turned into an ErrorEvent; counted and dead-lettered."""

    reason: str
    raw: str  # a (truncated) copy of the input for inspection
    insert_id: str | None = None


@dataclass(slots=True)
class Fingerprint:
    """The grouping decision for one event. `id` is the group id (stable, versioned)."""

    id: str  # e.g. "fp1-3f2a9c0d1e4b5a67"
    version: str  # "fp1"
    title: str  # human alert title, e.g. "KeyError: 'total_amount' in extract (ocr/extract.py)"
    culprit: str = ""  # "module.function" of the top in-app frame, when known
    frames: tuple[str, ...] = ()  # top in-app frames, rendered for the alert ("file in func")
    components: tuple[tuple[str, str], ...] = ()  # what was hashed, in order: (name, value)
