"""The stand-in's HTTP server: ``/api/<method>`` (the Web API), ``/response/<id>``
(response_url), ``/upload/v1/<id>`` (file uploads) and the browsable UI; Socket Mode has a port of its own (``socket_mode``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from triage_sandbox import ui

if TYPE_CHECKING:
    from triage_sandbox.slack_standin.standin import SlackStandIn


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: SlackStandIn


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "SlackStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, verb: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        # Header lookups in the stand-in use canonical names.
        canonical = {k.title(): v for k, v in headers.items()}
        standin = self.server.standin
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            status, extra, response = standin.handle_api(method, verb, canonical, query, body)
            if isinstance(response, dict):
                self._send(status, json.dumps(response), "application/json; charset=utf-8", extra)
            else:
                self._send(status, response, "text/plain; charset=utf-8", extra)
        elif path.startswith("/upload/v1/") and verb == "POST":
            status, text = standin.handle_upload(path[len("/upload/v1/") :], body)
            self._send(status, text, "text/plain; charset=utf-8", {})
        elif path.startswith("/response/") and verb == "POST":
            status, text = standin.handle_response_url(path[len("/response/") :], canonical, body)
            self._send(status, text, "text/html", {})
        elif ui.handles(path):
            answer = ui.handle(standin, verb, path, query, canonical, body)
            self._send(answer.status, answer.body, answer.content_type, answer.headers)
        else:
            self._send(404, "not found", "text/plain", {})

    def _send(self, status: int, text: str | bytes, ctype: str, headers: Mapping[str, str]) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
