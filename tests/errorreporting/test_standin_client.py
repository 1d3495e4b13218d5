"""The real google-cloud-error-reporting client against the stand-in: what it sends, and how the
API wrapper reads the answers."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud.errorreporting_v1beta1 import (
    ErrorGroup,
    ErrorGroupServiceClient,
    ResolutionStatus,
)
from triage_sandbox.errorreporting_standin import ErrorReportingStandIn, Recorded
from triage_sandbox.service import free_port

from bot.errorreporting import ApiError, ErrorReportingApi, make_client
from tests.errorreporting.conftest import PROJECT

NAME = f"projects/{PROJECT}/groups/CJ3x"


def test_raw_client_get_and_update(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    standin.add_group(PROJECT, "CJ3x", "OPEN")
    group = er_client.get_group(group_name=NAME)
    assert (group.name, group.group_id, group.resolution_status) == (
        NAME,
        "CJ3x",
        ResolutionStatus.OPEN,
    )

    updated = er_client.update_group(
        group=ErrorGroup(name=NAME, resolution_status=ResolutionStatus.ACKNOWLEDGED)
    )
    assert updated.resolution_status == ResolutionStatus.ACKNOWLEDGED
    assert standin.status(PROJECT, "CJ3x") == "ACKNOWLEDGED"
    assert standin.requests == [
        Recorded("GetGroup", NAME, None, "OK"),
        Recorded("UpdateGroup", NAME, "ACKNOWLEDGED", "OK"),
    ]


def test_update_replaces_the_group_and_unspecified_reads_as_open(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    standin.add_group(PROJECT, "CJ3x", "RESOLVED", tracking_issues=("https://issues/1",))
    er_client.update_group(group=ErrorGroup(name=NAME))
    assert standin.status(PROJECT, "CJ3x") == "OPEN"
    assert standin.tracking_issues(PROJECT, "CJ3x") == []  # replaced, as the API documents


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.get_group(group_name=f"projects/{PROJECT}/groups/nope"), gexc.NotFound),
        (lambda c: c.get_group(group_name="groups/CJ3x"), gexc.InvalidArgument),
        (
            lambda c: c.update_group(group=ErrorGroup(name=f"projects/{PROJECT}/groups/nope")),
            gexc.NotFound,
        ),
    ],
)
def test_errors_of_the_api(
    standin: ErrorReportingStandIn,
    er_client: ErrorGroupServiceClient,
    call: Callable[[ErrorGroupServiceClient], object],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        call(er_client)


def test_autocreate_creates_unknown_groups_open() -> None:
    with ErrorReportingStandIn(autocreate=True) as standin:
        client = make_client(f"http://{standin.host}")
        assert client.get_group(group_name=NAME).resolution_status == ResolutionStatus.OPEN
        assert standin.status(PROJECT, "CJ3x") == "OPEN"
        client.transport.close()


def test_api_set_status_keeps_tracking_issues(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    standin.add_group(PROJECT, "CJ3x", "OPEN", tracking_issues=("https://issues/1",))
    api = ErrorReportingApi(er_client, PROJECT, timeout=5)

    assert api.set_status("CJ3x", "MUTED") is True
    assert standin.status(PROJECT, "CJ3x") == "MUTED"
    assert standin.tracking_issues(PROJECT, "CJ3x") == ["https://issues/1"]
    assert [(r.method, r.name, r.resolution_status) for r in standin.requests] == [
        ("GetGroup", NAME, None),
        ("UpdateGroup", NAME, "MUTED"),
    ]

    standin.clear_requests()
    assert api.set_status("CJ3x", "MUTED") is False  # already so: nothing written
    assert [r.method for r in standin.requests] == ["GetGroup"]
    assert api.get_status("CJ3x") == "MUTED"


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (grpc.StatusCode.UNAVAILABLE, True),
        (grpc.StatusCode.INTERNAL, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, True),
        (grpc.StatusCode.UNAUTHENTICATED, True),
        (grpc.StatusCode.PERMISSION_DENIED, False),
        (grpc.StatusCode.INVALID_ARGUMENT, False),
    ],
)
def test_injected_failures_are_typed(
    standin: ErrorReportingStandIn,
    er_client: ErrorGroupServiceClient,
    code: grpc.StatusCode,
    retryable: bool,
) -> None:
    standin.add_group(PROJECT, "CJ3x")
    api = ErrorReportingApi(er_client, PROJECT, timeout=5)
    standin.fail_next(1, code)
    with pytest.raises(ApiError) as info:
        api.get_status("CJ3x")
    assert info.value.retryable is retryable
    assert info.value.message.startswith(code.name)
    assert api.get_status("CJ3x") == "OPEN"  # one failure only
    assert [r.code for r in standin.requests] == [code.name, "OK"]


def test_fail_next_for_one_method(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    standin.add_group(PROJECT, "CJ3x")
    api = ErrorReportingApi(er_client, PROJECT, timeout=5)
    standin.fail_next(1, grpc.StatusCode.INTERNAL, method="UpdateGroup")
    with pytest.raises(ApiError, match="INTERNAL"):
        api.set_status("CJ3x", "RESOLVED")
    assert [(r.method, r.code) for r in standin.requests] == [
        ("GetGroup", "OK"),
        ("UpdateGroup", "INTERNAL"),
    ]
    assert standin.status(PROJECT, "CJ3x") == "OPEN"


def test_down_and_up_again(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    standin.add_group(PROJECT, "CJ3x")
    api = ErrorReportingApi(er_client, PROJECT, timeout=5)
    standin.down = True
    for _ in range(3):
        with pytest.raises(ApiError, match="UNAVAILABLE") as info:
            api.get_status("CJ3x")
        assert info.value.retryable
    standin.down = False
    assert api.get_status("CJ3x") == "OPEN"


def test_nothing_listening_is_retryable() -> None:
    client = make_client(f"127.0.0.1:{free_port()}")
    api = ErrorReportingApi(client, PROJECT, timeout=2)
    with pytest.raises(ApiError, match="UNAVAILABLE") as info:
        api.get_status("CJ3x")
    assert info.value.retryable and not info.value.not_found
    client.transport.close()


def test_not_found_is_permanent(
    standin: ErrorReportingStandIn, er_client: ErrorGroupServiceClient
) -> None:
    api = ErrorReportingApi(er_client, PROJECT, timeout=5)
    with pytest.raises(ApiError) as info:
        api.set_status("gone", "RESOLVED")
    assert info.value.not_found and not info.value.retryable
