"""Fixtures: the Error Reporting stand-in, a real client bound to it, an injected clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud.errorreporting_v1beta1 import ErrorGroupServiceClient
from triage_sandbox.clock import FakeClock
from triage_sandbox.errorreporting_standin import ErrorReportingStandIn

from bot.errorreporting import make_client

PROJECT = "triage-test"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def standin() -> Iterator[ErrorReportingStandIn]:
    with ErrorReportingStandIn() as s:
        yield s


@pytest.fixture
def er_client(standin: ErrorReportingStandIn) -> Iterator[ErrorGroupServiceClient]:
    client = make_client(standin.host)
    yield client
    client.transport.close()
