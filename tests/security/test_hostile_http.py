"""Hostile HTTP: the server bounds what it reads and holds before the app sees a byte, answers
a malformed unsigned request with a 4xx (logged at WARNING at most, never a traceback), and
never logs a request body."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn

from bot.app import HttpLimits, Runtime

SECRET = "hostile-signing-secret-13"
TOKEN = "xoxb-hostile"


@pytest.fixture
def bot(redis_url: str, key_prefix: str) -> Iterator[tuple[Runtime, SlackStandIn, str]]:
    limits = HttpLimits(threads=4, connection_limit=50, channel_timeout=1)
    with (
        SlackStandIn(SECRET, TOKEN) as slack,
        running_bot(slack, redis_url, key_prefix, http_limits=limits) as (rt, url),
    ):
        yield rt, slack, url


def _raw(url: str, request: bytes, timeout: float = 5.0) -> bytes:
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def _post(path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


def test_a_huge_body_is_refused_before_it_is_read(bot) -> None:
    """50 MB announced, 1 KB sent: answered 413 at once, the rest never awaited nor buffered."""
    _, _, url = bot
    started = time.monotonic()
    reply = _raw(
        url,
        _post(
            "/slack/events",
            {"Content-Length": str(50 * 1024 * 1024), "X-Slack-Signature": "v0=bogus"},
            b"x" * 1024,
        ),
    )
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert time.monotonic() - started < 4


def test_a_slack_body_over_the_slack_limit_is_refused(bot) -> None:
    """Slack's payloads are small: 2 MB to /slack/events is 413, whatever the server allows push."""
    _, _, url = bot
    reply = _raw(url, _post("/slack/events", {"Content-Length": str(2 * 1024 * 1024)}, b"a="))
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    # A chunk announced at 1 MB, sent up to just over the limit: refused while it arrives.
    chunked = b"%x\r\n" % (1024 * 1024) + b"x" * (512 * 1024 + 100)
    reply = _raw(url, _post("/slack/events", {"Transfer-Encoding": "chunked"}, chunked))
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_a_body_shorter_than_its_length_does_not_hold_the_connection(bot) -> None:
    _, _, url = bot
    started = time.monotonic()
    reply = _raw(url, _post("/slack/events", {"Content-Length": "1000"}, b"short"), timeout=10)
    assert time.monotonic() - started < 6  # closed by the server's channel timeout (1 s here)
    assert not reply.startswith(b"HTTP/1.1 5")


@pytest.mark.parametrize(
    "headers, body",
    [
        ({"Content-Length": "abc"}, b""),
        (
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": "not-a-number",
                "X-Slack-Signature": "v0=00",
            },
            b"command=%2Ftriage&text=top",
        ),
        ({"Content-Type": "application/json", "X-Slack-Request-Timestamp": "1e99"}, b"{not json"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"payload=%7B%7B%7B"),
    ],
)
def test_malformed_unsigned_requests_are_a_4xx_without_error_logs(
    bot, headers: dict[str, str], body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _, slack, url = bot
    if "Content-Length" not in headers:
        headers = {**headers, "Content-Length": str(len(body))}
    mark = len(slack.calls)
    with caplog.at_level(logging.DEBUG):
        reply = _raw(url, _post("/slack/events", headers, body))
    assert reply[:12] in (b"HTTP/1.1 400", b"HTTP/1.1 401", b"HTTP/1.1 413"), reply[:300]
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]
    assert slack.calls[mark:] == []


def test_request_bodies_are_never_logged(bot, caplog: pytest.LogCaptureFixture) -> None:
    _, slack, url = bot
    marker = "zz-secret-body-marker-zz"
    with caplog.at_level(logging.DEBUG):
        slack.send_slash_command(url, "/triage", f"show {marker}")
        slack.send_slash_command(url, "/triage", f"show {marker}", signing="bad_signature")
        body = f"token=x&text={marker}".encode()
        _raw(url, _post("/slack/events", {"Content-Length": str(len(body))}, body))
        slack.wait_for(lambda: len(slack.responses) >= 1)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert marker not in logged
