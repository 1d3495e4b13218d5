"""Log lines as console encoders print them -> the message and error a JSON encoder would give.

One error logged through a console encoder and through a JSON encoder must group together, so
both are reduced to `"<message>: <error>"`, the form `bot/ingest/logentry.py` builds from a
jsonPayload's `msg`/`message` and `error`/`err` fields. Recognised layouts (first line only):

- zap console: `TIME<TAB>LEVEL<TAB>[logger<TAB>][caller<TAB>]message[<TAB>{json fields}]`
- logfmt (logrus TextFormatter, slog TextHandler, go-kit): `... level=error msg="..." error="..."`
- zerolog ConsoleWriter: `10:04AM ERR message error="..." key=value`
- a JSON object printed as text (an agent that did not parse it): its msg/message/event and
  error/err/exception fields
- Node's unhandled rejection of a non-Error: the rejection reason

Anything else is returned unchanged. Pure; never raises.
"""

from __future__ import annotations

import json
import re

_LEVEL_NAMES = ("debug", "info", "warn", "warning", "error", "dpanic", "panic", "fatal", "critical")
_LEVELS = frozenset((*_LEVEL_NAMES, *(n.upper() for n in _LEVEL_NAMES)))
_CALLER = re.compile(r"^[\w./@-]+\.\w+:\d+$")
_LOGFMT_PAIR = re.compile(r'(?:^|\s)([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_ZEROLOG = re.compile(
    r"^(?:\S+ )?(?:TRC|DBG|INF|WRN|ERR|FTL|PNC|\?\?\?) (.*?)(?=(?:\s+[A-Za-z_][\w.-]*=)|$)(.*)$"
)
_REJECTION = re.compile(r'^\[UnhandledPromiseRejection: .*? reason "(.*)"\.\]')
_MESSAGE_FIELDS = ("msg", "message", "event")
_ERROR_FIELDS = ("error", "err", "exception")


def _join(message: str, error: str) -> str:
    """The logentry.py rule: `message: error` unless the error is already in the message."""
    if error and error not in message:
        return f"{message}: {error}" if message else error
    return message


def _from_fields(fields: dict[str, object], message: str) -> str:
    error = ""
    for key in _ERROR_FIELDS:
        val = fields.get(key)
        if isinstance(val, dict):  # pino/bunyan err objects
            m = val.get("message") or val.get("msg")
            t = val.get("type") or val.get("name")
            if isinstance(m, str) and m:
                error = f"{t}: {m}" if isinstance(t, str) and t and not m.startswith(t) else m
                break
        elif isinstance(val, str) and val:
            error = val.split("\n", 1)[0] if "\n" in val else val
            break
    return _join(message, error)


def _json_object(text: str) -> dict[str, object] | None:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            out = json.loads(value)
        except ValueError:
            return value[1:-1]
        return out if isinstance(out, str) else value[1:-1]
    return value


def _zap(parts: list[str]) -> str | None:
    """parts: the first line split at tabs; parts[1] is the level."""
    rest = parts[2:]
    fields: dict[str, object] = {}
    if rest and rest[-1].startswith("{") and rest[-1].endswith("}"):
        fields = _json_object(rest[-1]) or {}
        if fields:
            rest = rest[:-1]
    while len(rest) > 1 and (_CALLER.match(rest[0]) or " " not in rest[0]):
        rest = rest[1:]  # logger name and caller come before the message
    message = "\t".join(rest).strip()
    return _from_fields(fields, message)


def _logfmt(line: str) -> str | None:
    pairs = {k: _unquote(v) for k, v in _LOGFMT_PAIR.findall(line)}
    if "msg" not in pairs and "message" not in pairs:
        return None
    if "level" not in pairs and "lvl" not in pairs:
        return None
    message = pairs.get("msg", pairs.get("message", ""))
    return _from_fields(dict(pairs), message)


def canonical(message: str) -> str:
    """The message as a JSON encoder would have given it; `message` when not a known layout."""
    nl = message.find("\n")
    line = (message if nl < 0 else message[:nl]).strip()
    if not line:
        return message
    first = line[0]
    if first == "{" and line.endswith("}"):
        obj = _json_object(line)
        if obj is not None:
            msg = next((obj[k] for k in _MESSAGE_FIELDS if isinstance(obj.get(k), str)), "")
            return _from_fields(obj, str(msg))
        return message
    if "\t" in line:
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].strip() in _LEVELS:
            return _zap(parts) or message
    if "=" in line and ("msg=" in line or "message=" in line):
        out = _logfmt(line)
        if out is not None:
            return out
    if first == "[" and line.startswith("[UnhandledPromiseRejection"):
        m = _REJECTION.match(line)
        if m is not None:
            return m.group(1)
    if " ERR " in line or " WRN " in line or " FTL " in line or line.startswith(("ERR ", "WRN ")):
        m = _ZEROLOG.match(line)
        if m is not None:
            pairs = {k: _unquote(v) for k, v in _LOGFMT_PAIR.findall(m.group(2))}
            return _from_fields(dict(pairs), m.group(1).strip())
    return message


_STACK_FIELDS = ("stack_trace", "stack", "stacktrace", "exception", "exc_info", "error", "err")


def json_text_stack(message: str) -> str | None:
    """The stack trace inside a JSON object logged as text (an agent that did not parse the
    line): the fields `bot/ingest/logentry.py` reads from a jsonPayload, in its order."""
    line = message.strip()
    if not (line.startswith("{") and line.endswith("}")) or "\\n" not in line:
        return None
    obj = _json_object(line)
    if obj is None:
        return None
    for key in _STACK_FIELDS:
        val = obj.get(key)
        if isinstance(val, dict):
            val = val.get("stack")
        if isinstance(val, str) and "\n" in val:
            return val
    return None
