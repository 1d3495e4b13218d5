"""Socket Mode end to end: the bot connects to the Slack stand-in's websocket the way `serve()`
does (`connect_socket_mode`), and slash commands and button clicks arrive as envelopes there,
with no HTTP endpoint on the bot's side. Also the stand-in's websocket end, driven raw."""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry

from bot.app import Runtime, connect_socket_mode
from bot.notify.actions import Action

SECRET = "socket-signing-secret-01"
BOT_TOKEN = "xoxb-socket"
APP_TOKEN = "xapp-1-A0APP-1-socket"


@dataclass
class SocketBot:
    rt: Runtime
    slack: SlackStandIn
    handler: SocketModeHandler


def _interval_threads() -> set[threading.Thread]:
    """The socket mode client's loops (slack_sdk IntervalRunner threads run `_run`)."""
    return {t for t in threading.enumerate() if t.name.endswith("(_run)") and t.is_alive()}


@pytest.fixture
def bot(redis_url: str, key_prefix: str) -> Iterator[SocketBot]:
    with (
        SlackStandIn(SECRET, BOT_TOKEN, app_token=APP_TOKEN) as slack,
        # The HTTP endpoint is there but unused: the deliveries check below proves it.
        running_bot(slack, redis_url, key_prefix, slack_app_token=APP_TOKEN) as (rt, _),
    ):
        before = _interval_threads()
        handler = connect_socket_mode(rt)
        try:
            assert slack.wait_for(lambda: len(slack.socket_connections) == 1, timeout=5)
            [opened] = slack.calls_for("apps.connections.open")
            assert opened.ok and opened.response["url"].startswith("ws://127.0.0.1:")
            yield SocketBot(rt, slack, handler)
        finally:
            handler.close()
            # The client is gone from the stand-in's side and none of its loops is left.
            assert slack.wait_for(lambda: not slack.socket_connections, timeout=5)
            assert not handler.client.is_connected()
            assert _interval_threads() - before == set()
        # Everything travelled over the socket: no signed HTTP request was sent to the bot.
        assert slack.deliveries == []
        assert slack.warnings == []


def test_slash_command_over_the_socket_is_acked_and_answered(bot: SocketBot) -> None:
    slack = bot.slack
    envelope_id = slack.socket_slash_command("help", "U1", "C0ALERTS")
    assert slack.wait_for(lambda: slack.socket_ack(envelope_id), timeout=3)
    ack = slack.socket_ack(envelope_id)
    assert ack is not None and ack.type == "slash_commands" and ack.acked_in_time
    assert slack.wait_for(lambda: slack.responses, timeout=10)
    [answer] = slack.responses
    assert (answer.via, answer.source, answer.effect) == ("response_url", "command", "ephemeral")
    text = json.dumps(answer.payload, ensure_ascii=False)
    assert "*`/triage` commands*" in text and "`show <id>`" in text
    [envelope] = slack.socket_envelopes
    assert envelope.payload["command"] == "/triage" and envelope.payload["text"] == "help"


def test_button_click_over_the_socket_acknowledges_the_group(bot: SocketBot) -> None:
    rt, slack = bot.rt, bot.slack
    rng, now = random.Random(3), time.time()
    rt.pipeline.process([json.dumps(entry(BUGS[0], rng, now - 5 + i)).encode() for i in range(3)])
    rt.notifier.run_once()
    [alert] = slack.messages("C0ALERTS")
    [top] = rt.deps.history.top(time.time(), "1h")
    gid = top.group.id
    assert rt.store.load_group(gid).state != "acknowledged"

    envelope_id = slack.socket_click_button("C0ALERTS", alert["ts"], Action.ACK, user_id="U2")
    assert slack.wait_for(lambda: slack.socket_ack(envelope_id), timeout=3)
    ack = slack.socket_ack(envelope_id)
    assert ack is not None and ack.type == "interactive" and ack.acked_in_time
    assert slack.wait_for(lambda: rt.store.load_group(gid).state == "acknowledged", timeout=10)
    # The alert is re-rendered at once (a human action is not debounced).
    assert slack.wait_for(lambda: slack.calls_for("chat.update"), timeout=10)
    assert "U2" in json.dumps(slack.message("C0ALERTS", alert["ts"]))


def test_refresh_requested_reconnects_and_pings_are_answered(bot: SocketBot) -> None:
    slack = bot.slack
    [first] = slack.socket_connections
    slack.socket_ping(b"are-you-there")
    assert slack.wait_for(lambda: (first, b"are-you-there") in slack.socket_pongs, timeout=3)
    # Slack asks clients to move to a new connection from time to time.
    slack.socket_disconnect("refresh_requested")
    assert slack.wait_for(lambda: slack.socket_connections[-1:] != [first], timeout=5)
    assert slack.wait_for(lambda: len(slack.socket_connections) == 1, timeout=5)
    assert len(slack.calls_for("apps.connections.open")) == 2
    envelope_id = slack.socket_slash_command("help")
    assert slack.wait_for(lambda: slack.socket_ack(envelope_id), timeout=3)


# --------------------------------------------------------------------------- the raw websocket


def test_apps_connections_open_wants_the_app_level_token() -> None:
    with SlackStandIn(SECRET, BOT_TOKEN, app_token=APP_TOKEN) as slack:

        def error(token: str | None) -> str:
            try:
                WebClient(base_url=slack.api_url).apps_connections_open(app_token=token)  # type: ignore[arg-type]
            except SlackApiError as exc:
                return str(exc.response["error"])
            return "ok"

        assert error(APP_TOKEN) == "ok"
        assert error("xapp-1-A0APP-1-wrong") == "invalid_auth"
        assert error(BOT_TOKEN) == "not_allowed_token_type"
        # ... and the app-level token does not post messages
        assert WebClient(token=BOT_TOKEN, base_url=slack.api_url).auth_test()["ok"]
        with pytest.raises(SlackApiError) as exc:
            WebClient(token=APP_TOKEN, base_url=slack.api_url).auth_test()
        assert exc.value.response["error"] == "not_allowed_token_type"


class RawClient:
    """A minimal websocket client on a plain socket, to check the server end frame by frame."""

    def __init__(self, url: str, *, key: str | None = None, version: str = "13") -> None:
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.rfile = self.sock.makefile("rb")
        self.status = int(self.rfile.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.rfile.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def send(self, opcode: int, data: bytes, *, masked: bool = True, fin: bool = True) -> None:
        b1 = (0x80 if fin else 0) | opcode
        mask = os.urandom(4) if masked else b""
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", b1, (0x80 if masked else 0) | n)
        else:
            head = struct.pack("!BBH", b1, (0x80 if masked else 0) | 126, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if masked else data
        self.sock.sendall(head + mask + body)

    def receive(self) -> tuple[int, bytes]:
        b1, b2 = self.rfile.read(2)
        assert b2 & 0x80 == 0, "server frames are not masked"
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.rfile.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.rfile.read(8))[0]
        return b1 & 0x0F, self.rfile.read(n)

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


def _ws_url(slack: SlackStandIn) -> str:
    answer = WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)
    return str(answer["url"])


def test_websocket_handshake_frames_ping_and_close() -> None:
    with SlackStandIn(SECRET, BOT_TOKEN) as slack:
        url = _ws_url(slack)
        assert url.startswith(f"ws://127.0.0.1:{url.split(':')[2].split('/')[0]}/socket/")
        ws = RawClient(url, key="dGhlIHNhbXBsZSBub25jZQ==")
        # RFC 6455's own example key and accept value.
        assert ws.status == 101
        assert ws.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        opcode, data = ws.receive()
        hello = json.loads(data)
        assert opcode == 0x1 and hello["type"] == "hello"
        assert hello["connection_info"]["app_id"] == slack.app_id
        # ping -> pong with the same payload
        ws.send(0x9, b"p1")
        assert ws.receive() == (0xA, b"p1")
        # an envelope, then an ack in two fragments (with a ping between them)
        envelope_id = slack.socket_slash_command("help", "U2", "C0ALERTS")
        opcode, data = ws.receive()
        envelope = json.loads(data)
        assert opcode == 0x1 and envelope["envelope_id"] == envelope_id
        assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"]
        assert envelope["payload"]["user_id"] == "U2" and envelope["payload"]["text"] == "help"
        ack = json.dumps({"envelope_id": envelope_id, "payload": {"text": "on it"}}).encode()
        ws.send(0x1, ack[:10], fin=False)
        ws.send(0x9, b"mid")
        ws.send(0x0, ack[10:])
        assert ws.receive() == (0xA, b"mid")
        assert slack.wait_for(lambda: slack.socket_ack(envelope_id), timeout=3)
        recorded = slack.socket_ack(envelope_id)
        assert recorded is not None and recorded.payload == {"text": "on it"}
        # an ack payload is the command's answer, as an HTTP ack body would be
        [response] = slack.responses
        assert (response.via, response.effect, response.user) == ("ack", "ephemeral", "U2")
        # the client closes: the server echoes its close frame and forgets the connection
        ws.send(0x8, struct.pack("!H", 1000) + b"bye")
        assert ws.receive() == (0x8, struct.pack("!H", 1000) + b"bye")
        ws.close()
        assert slack.wait_for(lambda: not slack.socket_connections, timeout=3)


def test_websocket_refusals_and_protocol_errors() -> None:
    with SlackStandIn(SECRET, BOT_TOKEN) as slack:
        url = _ws_url(slack)
        unknown = RawClient(url.rsplit("/", 1)[0] + "/not-a-ticket")
        assert unknown.status == 401
        unknown.close()
        old_version = RawClient(url, version="8")
        assert old_version.status == 400
        old_version.close()
        # a ticket is good for one connection
        ws = RawClient(url)
        assert ws.status == 101
        again = RawClient(url)
        assert again.status == 401
        again.close()
        ws.receive()  # hello
        ws.send(0x1, b'{"envelope_id": "x"}', masked=False)
        opcode, data = ws.receive()
        assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1002
        assert b"mask" in data
        ws.close()
        assert slack.wait_for(lambda: not slack.socket_connections, timeout=3)
        with pytest.raises(LookupError):
            slack.socket_slash_command("help")


def test_stop_closes_open_connections() -> None:
    slack = SlackStandIn(SECRET, BOT_TOKEN)
    slack.start()
    ws = RawClient(_ws_url(slack))
    ws.receive()  # hello
    [connection] = slack.socket_connections
    stopper = threading.Thread(target=slack.stop)
    stopper.start()
    opcode, data = ws.receive()
    assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1001
    ws.send(0x8, data[:2])
    ws.close()
    stopper.join(timeout=5)
    assert not stopper.is_alive() and slack.socket_connections == []
    assert connection
