"""The bot's own logs: structured JSON on stdout that Cloud Logging parses (severity, message,
trace), through google-cloud-logging's StructuredLogHandler."""

from __future__ import annotations

import logging
import sys

from google.cloud.logging.handlers import StructuredLogHandler

# Loggers that write request or response bodies (user text, tokens in URLs) below WARNING:
# Bolt's signature check logs the whole body of a refused request at INFO, slack_sdk logs every
# API request and response body at DEBUG. Never below WARNING, whatever LOG_LEVEL says.
BODY_LOGGERS = ("slack_bolt", "slack_sdk", "waitress")


def silence_body_loggers() -> None:
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(level: str = "INFO", project_id: str | None = None) -> None:
    handler = StructuredLogHandler(stream=sys.stdout, project_id=project_id)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "google.api_core", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    silence_body_loggers()
