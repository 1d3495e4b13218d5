"""Socket Mode: ``apps.connections.open`` hands out ``ws://HOST:PORT/socket/<ticket>``, served on
the stand-in's port by a minimal RFC 6455 endpoint. It greets with ``hello``, pushes envelopes
(slash commands, interactions, events) as Slack does, and records the app's acks and pongs."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import struct
import threading
import time
import uuid
from typing import Any

from triage_sandbox.slack_standin.model import SOCKET_TICKET_TTL_SECONDS, SocketAck, SocketEnvelope
from triage_sandbox.slack_standin.response_url import ResponseUrls
from triage_sandbox.slack_standin.workspace import Workspace

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


class SocketMode:
    """The Socket Mode half of :class:`~triage_sandbox.slack_standin.SlackStandIn`. Open
    connections survive ``reset()``; they end with ``stop()`` or the client."""

    workspace: Workspace
    app_id: str
    _lock: threading.RLock
    _response_urls: ResponseUrls

    def _init_sockets(self) -> None:
        self._sockets: dict[str, WebSocket] = {}
        self._socket_threads: list[threading.Thread] = []
        self._reset_socket_log()

    def _reset_socket_log(self) -> None:
        self._envelopes: dict[str, tuple[SocketEnvelope, float]] = {}
        self._socket_acks: list[SocketAck] = []
        self._pongs: list[tuple[str, bytes]] = []

    @property
    def socket_connections(self) -> list[str]:
        """Ids of the open Socket Mode connections, oldest first."""
        with self._lock:
            return list(self._sockets)

    @property
    def socket_envelopes(self) -> list[SocketEnvelope]:
        """Every envelope pushed to the app, oldest first."""
        with self._lock:
            return [envelope for envelope, _ in self._envelopes.values()]

    @property
    def socket_acks(self) -> list[SocketAck]:
        """Every ack the app sent, in arrival order (``wait_for`` on it)."""
        with self._lock:
            return list(self._socket_acks)

    def socket_ack(self, envelope_id: str) -> SocketAck | None:
        """The app's first ack of ``envelope_id``; ``None`` while it has not acked."""
        with self._lock:
            return next((a for a in self._socket_acks if a.envelope_id == envelope_id), None)

    @property
    def socket_pongs(self) -> list[tuple[str, bytes]]:
        """(connection, payload) of every pong the app sent."""
        with self._lock:
            return list(self._pongs)

    def socket_slash_command(
        self,
        text: str = "top",
        user_id: str = "U1",
        channel_id: str = "C0ALERTS",
        *,
        command: str = "/triage",
        connection: str | None = None,
    ) -> str:
        """Push a slash command (``type: slash_commands``) over Socket Mode; returns the
        envelope id. A payload in the ack is treated as an HTTP ack body is."""
        payload = self._slash_payload(command, text, user_id, channel_id)
        return self._send_envelope("slash_commands", payload, True, connection)

    def socket_click_button(
        self,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        user_id: str = "U1",
        *,
        connection: str | None = None,
    ) -> str:
        """Click a button as :meth:`click_button` does, over Socket Mode (``type:
        interactive``, the ``block_actions`` payload); returns the envelope id."""
        cid, msg, block_id, action = self._button_action(channel, ts, action_id, value)
        payload = self._block_action_payload(cid, msg, block_id, action, user_id)
        return self._send_envelope("interactive", payload, False, connection)

    def socket_event(self, event: dict[str, Any], *, connection: str | None = None) -> str:
        """Push an Events API event (``type: events_api``, the ``event_callback`` payload of
        :meth:`send_event`); returns the envelope id."""
        kind, payload = self._event_payload(event)
        if kind != "event":
            raise ValueError("url_verification does not exist in Socket Mode")
        return self._send_envelope("events_api", payload, False, connection)

    def socket_ping(self, payload: bytes = b"", *, connection: str | None = None) -> None:
        """Send a ping frame; the app's pong shows in ``socket_pongs``."""
        self._pick_socket(connection).send(WebSocket.PING, payload)

    def socket_disconnect(
        self, reason: str = "refresh_requested", *, connection: str | None = None
    ) -> None:
        """Send Slack's ``disconnect`` message (a client then opens a new connection and drops
        this one)."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-standin"},
        }
        self._pick_socket(connection).send_text(json.dumps(message))

    def close_sockets(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """Close every Socket Mode connection: a close frame, then, if the client has not gone
        within ``timeout`` seconds, the TCP connection."""
        with self._lock:
            sockets = list(self._sockets.values())
        for ws in sockets:
            ws.close(code, reason)
        deadline = time.monotonic() + timeout
        for ws in sockets:
            if ws.thread is not None:
                ws.thread.join(timeout=max(0.0, deadline - time.monotonic()))
            ws.shutdown()

    def _pick_socket(self, connection: str | None) -> WebSocket:
        with self._lock:
            if connection is not None:
                if connection not in self._sockets:
                    raise LookupError(f"no open Socket Mode connection {connection!r}")
                return self._sockets[connection]
            if not self._sockets:
                raise LookupError("no Socket Mode connection: the app has not connected")
            return list(self._sockets.values())[-1]

    def _send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts_response_payload: bool,
        connection: str | None,
    ) -> str:
        ws = self._pick_socket(connection)
        envelope_id = str(uuid.uuid4())
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            message.update(retry_attempt=0, retry_reason="")
        with self._lock:
            record = SocketEnvelope(
                envelope_id, kind, payload, ws.id, accepts_response_payload, time.time()
            )
            self._envelopes[envelope_id] = (record, time.monotonic())
        if not ws.send_text(json.dumps(message)):
            raise ConnectionError(f"Socket Mode connection {ws.id} is closed")
        return envelope_id

    def take_socket_ticket(self, ticket: str) -> bool:
        """Whether ``ticket`` (from ``apps.connections.open``) may connect; each is used once."""
        with self._lock:
            issued = self.workspace.socket_tickets.pop(ticket, None)
            return (
                self.workspace.socket_base is not None
                and issued is not None
                and time.monotonic() - issued < SOCKET_TICKET_TTL_SECONDS
            )

    def run_socket(self, ws: WebSocket) -> None:
        """Serve one Socket Mode connection until it closes (on the server's handler thread):
        ``hello``, then answer pings, record pongs and acks, and answer a close."""
        ws.thread = threading.current_thread()
        with self._lock:
            self._sockets[ws.id] = ws
            self._socket_threads = [t for t in self._socket_threads if t.is_alive()]
            self._socket_threads.append(ws.thread)
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-standin",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        try:
            ws.send_text(json.dumps(hello))
            while True:
                message = ws.receive()
                if message is None:
                    break
                opcode, data = message
                if opcode == WebSocket.PING:
                    ws.send(WebSocket.PONG, data)
                elif opcode == WebSocket.PONG:
                    with self._lock:
                        self._pongs.append((ws.id, data))
                elif opcode == WebSocket.CLOSE:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000
                    ws.close(code)  # echo it, unless this was the answer to ours
                    break
                elif opcode == WebSocket.TEXT:
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise ProtocolError(1007, "invalid UTF-8") from e
                    self._on_socket_text(ws, text)
                else:
                    raise ProtocolError(1003, "binary frames are not accepted")
        except ProtocolError as e:
            ws.close(e.code, e.reason)
        finally:
            ws.shutdown()
            with self._lock:
                self._sockets.pop(ws.id, None)

    def _on_socket_text(self, ws: WebSocket, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return  # Slack ignores what it cannot parse
        if not isinstance(message, dict) or not message.get("envelope_id"):
            return
        envelope_id = str(message["envelope_id"])
        payload = message.get("payload")
        with self._lock:
            found = self._envelopes.get(envelope_id)
            envelope = found[0] if found else None
            seconds = time.monotonic() - found[1] if found else 0.0
            self._socket_acks.append(
                SocketAck(
                    envelope_id,
                    envelope.type if envelope else "",
                    payload if isinstance(payload, dict) else None,
                    seconds,
                    ws.id,
                )
            )
            first = sum(a.envelope_id == envelope_id for a in self._socket_acks) == 1
        if (
            first
            and envelope is not None
            and envelope.accepts_response_payload
            and isinstance(payload, dict)
            and payload
        ):
            # Like an HTTP slash command's ack body: an ephemeral or in-channel response.
            with self._lock:
                self._response_urls.record_ack(
                    envelope.payload["response_url"], json.dumps(payload)
                )


def handshake_problem(upgrade: str, connection: str, version: str, key: str) -> str | None:
    """Why an opening handshake is refused (RFC 6455, 4.2.1), or ``None``."""
    if upgrade.strip().lower() != "websocket":
        return "Upgrade: websocket expected"
    if "upgrade" not in [t.strip().lower() for t in connection.split(",")]:
        return "Connection: Upgrade expected"
    if version.strip() != "13":
        return "Sec-WebSocket-Version: 13 expected"
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return "Sec-WebSocket-Key must be 16 random bytes, base64-encoded"
    except ValueError:
        return "Sec-WebSocket-Key is not base64"
    return None


class ProtocolError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocket:
    """The server end of one websocket: unmasked frames out, masked frames in (RFC 6455, 5)."""

    CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
    MAX_MESSAGE = 16 * 1024 * 1024

    def __init__(self, conn_id: str, sock: socket.socket, rfile: io.BufferedIOBase) -> None:
        self.id = conn_id
        self._sock = sock
        self._rfile = rfile
        self._send_lock = threading.Lock()
        self._fragments: list[bytes] = []
        self._first_opcode: int | None = None
        self.close_sent = False
        self.thread: threading.Thread | None = None

    # sending ---------------------------------------------------------------
    def send(self, opcode: int, data: bytes) -> bool:
        """Send one frame; False when the connection is closing or gone."""
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._send_lock:
            if self.close_sent:
                return False
            try:
                self._sock.sendall(header + data)
            except OSError:
                return False
            if opcode == self.CLOSE:
                self.close_sent = True
        return True

    def send_text(self, text: str) -> bool:
        return self.send(self.TEXT, text.encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once); the reader ends when the client answers or goes."""
        self.send(self.CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:123])

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    # receiving -------------------------------------------------------------
    def _read(self, n: int) -> bytes | None:
        try:
            data = self._rfile.read(n)
        except (OSError, ValueError):
            return None
        return data if len(data) == n else None

    def _frame(self) -> tuple[bool, int, bytes] | None:
        head = self._read(2)
        if head is None:
            return None
        b1, b2 = head
        fin, opcode, length = bool(b1 & 0x80), b1 & 0x0F, b2 & 0x7F
        if b1 & 0x70:
            raise ProtocolError(1002, "reserved bits set without an extension")
        if not b2 & 0x80:
            raise ProtocolError(1002, "client frames must be masked")
        if length >= 126:
            ext = self._read(2 if length == 126 else 8)
            if ext is None:
                return None
            length = struct.unpack("!H" if length == 126 else "!Q", ext)[0]
        if opcode >= 0x8 and (length > 125 or not fin):
            raise ProtocolError(1002, "control frames are at most 125 bytes, unfragmented")
        if length > self.MAX_MESSAGE:
            raise ProtocolError(1009, "message too big")
        mask = self._read(4)
        data = self._read(length) if length else b""
        if mask is None or data is None:
            return None
        if length:
            key = (mask * (length // 4 + 1))[:length]
            data = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(
                length, "big"
            )
        return fin, opcode, data

    def receive(self) -> tuple[int, bytes] | None:
        """The next whole message or control frame (control frames may arrive between the
        fragments of a message); ``None`` when the connection is gone."""
        while True:
            frame = self._frame()
            if frame is None:
                return None
            fin, opcode, data = frame
            if opcode in (self.CLOSE, self.PING, self.PONG):
                return opcode, data
            if opcode == self.CONTINUATION:
                if self._first_opcode is None:
                    raise ProtocolError(1002, "continuation frame without a message")
            elif opcode in (self.TEXT, self.BINARY):
                if self._first_opcode is not None:
                    raise ProtocolError(1002, "new message inside a fragmented one")
                self._first_opcode = opcode
            else:
                raise ProtocolError(1002, f"unknown opcode {opcode:#x}")
            self._fragments.append(data)
            if sum(len(f) for f in self._fragments) > self.MAX_MESSAGE:
                raise ProtocolError(1009, "message too big")
            if fin:
                first, message = self._first_opcode, b"".join(self._fragments)
                self._first_opcode, self._fragments = None, []
                return first, message
