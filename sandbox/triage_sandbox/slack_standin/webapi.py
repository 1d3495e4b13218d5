"""The stand-in's Web API: every call is checked against Slack's published description of the
method (``slack_methods.json``, extracted from Slack's OpenAPI spec), authenticated, answered by
the method's function, and recorded as an :class:`ApiCall`; queued faults answer first.

A Web API method is one function in ``methods/``, registered by name::

    @web_api("pins.add")
    def pins_add(ws: Workspace, args: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        ...  # raise SlackError("...") for ok: false; return the rest of the ok: true body

``args`` are decoded (JSON arguments parsed, no token); append to ``warnings`` what Slack
accepts silently but is probably a mistake. The method must be in ``slack_methods.json`` too
(unless it takes the app-level token: ``@web_api(name, app_level=True)``).
"""

from __future__ import annotations

import copy
import importlib
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from triage_sandbox.slack_standin.model import METHOD_TIERS, ApiCall, SlackError
from triage_sandbox.slack_standin.workspace import Workspace

METHODS_FILE = Path(__file__).parent.parent / "slack_methods.json"

Method = Callable[[Workspace, dict[str, Any], list[str]], dict[str, Any]]

# Arguments whose value is JSON when form-encoded.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")
# Methods whose missing required argument Slack reports with a specific error.
_MISSING_ARG_ERRORS = {
    "channel": "channel_not_found",
    "user": "user_not_found",
    "timestamp": "no_item_specified",
    "name": "invalid_name",
    "ts": "message_not_found",
    "message_ts": "message_not_found",
}


@dataclass(frozen=True)
class MethodSpec:
    http_verb: str
    required: frozenset[str]
    optional: frozenset[str]

    @property
    def known(self) -> frozenset[str]:
        return self.required | self.optional


def load_method_specs(path: Path = METHODS_FILE) -> dict[str, MethodSpec]:
    """Method -> accepted arguments, from the extract of Slack's OpenAPI description."""
    data = json.loads(path.read_text(encoding="utf-8"))
    everywhere = frozenset(data.get("global_optional", ()))
    return {
        name: MethodSpec(
            http_verb=m["http_verb"],
            required=frozenset(m["required"]),
            optional=frozenset(m["optional"]) | frozenset(m["supplement"]) | everywhere,
        )
        for name, m in data["methods"].items()
    }


METHODS: dict[str, Method] = {}
# Methods that take an app-level token (xapp-...), not the bot token; they are not in the
# bot's extract of the spec.
APP_LEVEL: dict[str, MethodSpec] = {}


def web_api(name: str, *, app_level: bool = False) -> Callable[[Method], Method]:
    """Register ``fn`` as the Web API method ``name``."""

    def register(fn: Method) -> Method:
        if name in METHODS:
            raise ValueError(f"Web API method {name} is registered twice")
        METHODS[name] = fn
        if app_level:
            APP_LEVEL[name] = MethodSpec("POST", frozenset(), frozenset())
        return fn

    return register


@dataclass
class _Fault:
    status: int
    retry_after: int
    error: str | None
    remaining: int


class WebApi:
    """Answers ``/api/<method>`` from a :class:`Workspace`. Not thread-safe: the stand-in calls
    it under its lock."""

    def __init__(self, workspace: Workspace, bot_token: str, app_token: str) -> None:
        importlib.import_module("triage_sandbox.slack_standin.methods")  # registers them all
        self.workspace = workspace
        self.bot_token = bot_token
        self.app_token = app_token
        self.specs = {**load_method_specs(), **APP_LEVEL}
        missing = sorted(set(self.specs) - set(METHODS))
        if missing:
            raise RuntimeError(f"Web API methods in the spec without a function: {missing}")
        unknown = sorted(set(METHODS) - set(self.specs))
        if unknown:
            raise RuntimeError(f"Web API methods not in slack_methods.json: {unknown}")
        self.reset()

    def reset(self) -> None:
        self.calls: list[ApiCall] = []
        self.faults: dict[str, list[_Fault]] = {}

    def inject(
        self, method: str, *, status: int | None, retry_after: int, error: str | None, times: int
    ) -> None:
        if method != "*" and method not in self.specs:
            raise ValueError(f"unknown Slack method {method!r}")
        if status is None:
            status = 200 if error else 429
        if status == 200 and not error:
            raise ValueError("an HTTP 200 fault needs an error")
        self.faults.setdefault(method, []).append(_Fault(status, retry_after, error, times))

    def handle(
        self, method: str, verb: str, headers: Mapping[str, str], query: str, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        args: dict[str, Any] = {}
        warnings: list[str] = []
        extra_headers: dict[str, str] = {}
        response: dict[str, Any] | str | None = None
        status, injected = 200, False
        try:
            args, token = self._decode_args(headers, query, body)
            if method not in self.specs:
                raise SlackError("unknown_method", req_method=method)
            if not token:
                raise SlackError("not_authed")
            expected = self.app_token if method in APP_LEVEL else self.bot_token
            if token != expected:
                # Slack tells a valid token of the wrong kind from an unknown one.
                known = token in (self.app_token, self.bot_token)
                raise SlackError("not_allowed_token_type" if known else "invalid_auth")
            fault = self._take_fault(method)
            if fault is not None:
                injected = True
                status, extra_headers, response = fault
            else:
                args = self._parse_json_args(method, args)
                warnings = self._check_spec(method, args)
                tier = METHOD_TIERS.get(method)
                if tier is not None:
                    self.workspace.tier_limit(method, tier)
                response = {"ok": True, **METHODS[method](self.workspace, args, warnings)}
        except SlackError as e:
            status = e.status
            if e.status == 429:
                extra_headers = {"Retry-After": str(e.extra.get("retry_after", 1))}
                response = {"ok": False, "error": "ratelimited"}
            else:
                response = {"ok": False, "error": e.error, **e.extra}
        assert response is not None
        self.calls.append(
            ApiCall(
                method=method,
                args=args,
                status=status,
                response=copy.deepcopy(response),
                time=time.time(),
                warnings=tuple(warnings),
                http_verb=verb,
                injected=injected,
            )
        )
        return status, extra_headers, response

    def _decode_args(
        self, headers: Mapping[str, str], query: str, body: bytes
    ) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body_token: str | None = args.pop("token", None)
        if body:
            if ctype == "application/json":
                try:
                    decoded = json.loads(body)
                except ValueError as e:
                    raise SlackError("invalid_json") from e
                if not isinstance(decoded, dict):
                    raise SlackError("invalid_json")
                # Slack ignores a token inside a JSON body: it must be in Authorization.
                decoded.pop("token", None)
                args.update(decoded)
            elif ctype in ("application/x-www-form-urlencoded", ""):
                form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                body_token = form.pop("token", None) or body_token
                args.update(form)
            else:
                raise SlackError("invalid_form_data")
        auth = headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        return args, token or body_token

    def _parse_json_args(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for key in _JSON_ARGS:
            value = out.get(key)
            if isinstance(value, str):
                if key == "blocks" and value == "":
                    continue
                try:
                    out[key] = json.loads(value)
                except ValueError as e:
                    error = {
                        "blocks": "invalid_blocks_format",
                        "attachments": "invalid_attachments",
                        "metadata": "invalid_metadata_format",
                        "files": "invalid_arguments",
                    }.get(key, "invalid_arguments")
                    raise SlackError(error) from e
        if (
            "blocks" in out
            and out["blocks"] not in ("", None)
            and not isinstance(out["blocks"], list)
        ):
            raise SlackError("invalid_blocks_format")
        return out

    def _check_spec(self, method: str, args: dict[str, Any]) -> list[str]:
        spec = self.specs[method]
        warnings = [
            f"argument {k!r} is not in Slack's description of {method}"
            for k in sorted(args)
            if k not in spec.known
        ]
        for name in sorted(spec.required):
            if args.get(name) in (None, ""):
                error = _MISSING_ARG_ERRORS.get(name)
                if error:
                    raise SlackError(error)
                raise SlackError(
                    "invalid_arguments",
                    response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
                )
        return warnings

    def _take_fault(self, method: str) -> tuple[int, dict[str, str], dict[str, Any] | str] | None:
        for key in (method, "*"):
            queue = self.faults.get(key)
            if not queue:
                continue
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            if fault.status == 429:
                return (
                    429,
                    {"Retry-After": str(fault.retry_after)},
                    {
                        "ok": False,
                        "error": "ratelimited",
                    },
                )
            if fault.status >= 500:
                return fault.status, {}, HTTPStatus(fault.status).phrase
            return fault.status, {}, {"ok": False, "error": fault.error or "invalid_request"}
        return None
