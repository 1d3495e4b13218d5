"""The bot's own logs: structured JSON on stdout that Cloud Logging parses (severity, message,
trace), through google-cloud-logging's StructuredLogHandler."""

from __future__ import annotations

import logging
import sys

from google.cloud.logging.handlers import StructuredLogHandler


def setup_logging(level: str = "INFO", project_id: str | None = None) -> None:
    handler = StructuredLogHandler(stream=sys.stdout, project_id=project_id)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "google.api_core", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
