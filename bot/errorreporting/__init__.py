"""Optional two-way status sync with Cloud Error Reporting (`ERROR_REPORTING_SYNC=true`)."""

from bot.errorreporting.client import ApiError, ErrorReportingApi, make_client
from bot.errorreporting.policy import SyncPolicy
from bot.errorreporting.status import to_bot_state, to_er_status
from bot.errorreporting.sync import ErrorReportingSync, PushReport

__all__ = [
    "ApiError",
    "ErrorReportingApi",
    "ErrorReportingSync",
    "PushReport",
    "SyncPolicy",
    "make_client",
    "to_bot_state",
    "to_er_status",
]
