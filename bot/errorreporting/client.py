"""The Error Reporting API: building the real client, and the two calls the sync makes.

`make_client(None)` is Google's endpoint with Application Default Credentials;
`make_client("127.0.0.1:PORT")` is a plaintext gRPC channel without credentials (the local
stand-in, `triage_sandbox.errorreporting_standin`). API errors come out as one typed exception,
`ApiError`, that says whether trying again may help."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from google.cloud.errorreporting_v1beta1 import (
    ErrorGroup,
    ErrorGroupServiceClient,
    ResolutionStatus,
)
from google.cloud.errorreporting_v1beta1.services.error_group_service.transports import (
    ErrorGroupServiceGrpcTransport,
)

from bot.errorreporting.status import group_name, normalize_er_status

DEFAULT_TIMEOUT_S = 10.0

# Worth another try later (the API's own retry advice, plus server-side hiccups).
_RETRYABLE: tuple[type[Exception], ...] = (
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.DeadlineExceeded,
    gexc.TooManyRequests,  # RESOURCE_EXHAUSTED / 429
    gexc.Aborted,
    gexc.Unknown,
    gexc.BadGateway,
    gexc.GatewayTimeout,
    gexc.RetryError,
    # credentials missing, refused or not refreshable: reported, and tried again (the
    # configuration can be fixed without losing the queued statuses)
    auth_exc.GoogleAuthError,
    gexc.Unauthenticated,
)


class ApiError(Exception):
    def __init__(self, message: str, *, retryable: bool, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.not_found = not_found


def make_client(endpoint: str | None = None) -> ErrorGroupServiceClient:
    """The real client: Google's endpoint when `endpoint` is None, else a plaintext gRPC
    channel to `host:port` (an `http://` prefix is accepted and dropped)."""
    if endpoint is None:
        return ErrorGroupServiceClient()
    target = endpoint.removeprefix("http://").rstrip("/")
    transport = ErrorGroupServiceGrpcTransport(channel=grpc.insecure_channel(target))
    return ErrorGroupServiceClient(transport=transport)


def _api_error(exc: Exception) -> ApiError:
    if isinstance(exc, gexc.GoogleAPICallError):
        grpc_code = exc.grpc_status_code
        code = grpc_code.name if grpc_code is not None else f"HTTP {exc.code}"
        text = f"{code}: {exc.message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return ApiError(
        text,
        retryable=isinstance(exc, _RETRYABLE),
        not_found=isinstance(exc, gexc.NotFound),
    )


def _status_name(group: ErrorGroup) -> str:
    name = ResolutionStatus(group.resolution_status).name
    return normalize_er_status(name) or name


@dataclass
class ErrorReportingApi:
    """`get_status` and `set_status` on one project; raises `ApiError`, nothing else from the
    client library. No retries here: the sync's outbox does them, with backoff."""

    client: ErrorGroupServiceClient
    project: str
    timeout: float = DEFAULT_TIMEOUT_S

    def get_status(self, group_id: str) -> str:
        """The group's resolution status (UNSPECIFIED reads as OPEN)."""
        return _status_name(self._get(group_id))

    def set_status(self, group_id: str, status: str) -> bool:
        """Set the group's resolution status; False if it already had it (nothing written).

        UpdateGroup replaces the whole group, so the group is read first and written back with
        only the status changed: tracking issues linked in the console are kept."""
        group = self._get(group_id)
        if _status_name(group) == status:
            return False
        group.resolution_status = ResolutionStatus.__members__[status]
        try:
            self.client.update_group(group=group, retry=None, timeout=self.timeout)
        except (gexc.GoogleAPICallError, gexc.RetryError, auth_exc.GoogleAuthError) as exc:
            raise _api_error(exc) from exc
        return True

    def _get(self, group_id: str) -> ErrorGroup:
        try:
            return self.client.get_group(
                group_name=group_name(self.project, group_id), retry=None, timeout=self.timeout
            )
        except (gexc.GoogleAPICallError, gexc.RetryError, auth_exc.GoogleAuthError) as exc:
            raise _api_error(exc) from exc
