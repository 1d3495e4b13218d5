"""Strategy fp1: ErrorEvent -> Fingerprint (versioned group id, title, hashed components).

FROZEN: this package (with its own `stacktrace.py` and `template.py`) computes the ids of
groups that exist in deployments; editing it would regroup them. A change of algorithm is a
new strategy package (`bot/fingerprint/fp2`), registered in `bot/fingerprint/__init__.py`.
`tests/fingerprint/test_fingerprint.py` snapshots its output and must never need updating.

* with a stack trace (or an Error Reporting reportLocation, which counts as a frame):
  service + exception type of the ROOT cause + the top in-app frames (module and function,
  never line numbers, columns, goroutine ids or pointer arguments) + the source line of the
  crashing in-app frame when the runtime prints it (Python). The message template joins them
  when the type says little on its own (Go panics, bare `Error`/`Exception`, no type).
* without a trace: service + exception type if recognisable + `message_template(message)`;
* a request log without message (5xx `httpRequest`): service + method + route template + status.

Custom rules (`rules.py`) can replace the components or the title.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from bot.fingerprint.fp1.stacktrace import (
    DEFAULT_IN_APP,
    Frame,
    InAppConfig,
    Stacktrace,
    parse_stacktrace,
)
from bot.fingerprint.fp1.template import message_template
from bot.fingerprint.rules import FingerprintRule, expand, load_rules
from bot.models import ErrorEvent, Fingerprint

VERSION = "fp1"
TOP_FRAMES = 3  # in-app frames hashed
TITLE_MESSAGE_CHARS = 80

# Exception types that say little about the bug on their own: their message template is hashed.
GENERIC_TYPES = frozenset(
    {
        "",
        "Error",
        "Exception",
        "BaseException",
        "RuntimeError",
        "Throwable",
        "panic",
        "fatal error",
        "runtime error",
        "java.lang.Exception",
        "java.lang.RuntimeException",
        "java.lang.Throwable",
        "java.lang.Error",
        "kotlin.Exception",
        "kotlin.RuntimeException",
        "AssertionError",
        "java.lang.AssertionError",
    }
)
_TYPE_IN_MESSAGE = re.compile(
    r"^(?:(?:Uncaught|Unhandled) )?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*"
    r"(?:Error|Exception|Throwable|Fault|Failure|Interrupt|Exit)|Error|panic|fatal error)"
    r"(?::\s|$)"
)
_SEG_VARIABLE = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    r"|(?=[A-Za-z]*\d)[0-9a-fA-F]{6,}|(?=\D*\d)[\w.~%+=-]{8,}|[\w-]*\d[\w-]*\.\w+)$"
)


@dataclass(frozen=True, slots=True)
class FrameDecision:
    """Why a frame was or was not hashed (for `triage-bot explain`)."""

    frame: Frame
    kept: bool
    why: str


@dataclass(frozen=True, slots=True)
class Explanation:
    fingerprint: Fingerprint
    strategy: str  # "stacktrace" | "message" | "request" | "rule:<n>"
    runtime: str | None
    frames: tuple[FrameDecision, ...]
    notes: tuple[str, ...]


def fingerprint(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule] = (),
    in_app: InAppConfig = DEFAULT_IN_APP,
) -> Fingerprint:
    """The group of an event. Pure and deterministic; every replica computes the same id."""
    return _compute(event, rules, in_app, None)[0]


def explain(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule] = (),
    in_app: InAppConfig = DEFAULT_IN_APP,
) -> Explanation:
    """The fingerprint with the reasons: strategy, each frame's fate, notes."""
    notes: list[str] = []
    fp, strategy, runtime, decisions = _compute(event, rules, in_app, notes)
    return Explanation(fp, strategy, runtime, tuple(decisions), tuple(notes))


def _hash(components: Sequence[tuple[str, str]]) -> str:
    payload = "\x1f".join(chain.from_iterable(components))
    return _blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_blake2b = hashlib.blake2b


def short_type(type_: str) -> str:
    return type_.rsplit(".", 1)[-1] if "." in type_ and " " not in type_ else type_


def _short_message(text: str) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= TITLE_MESSAGE_CHARS else line[: TITLE_MESSAGE_CHARS - 1] + "…"


def route_template(url: str) -> str:
    """'https://h/tasks/charge/67121245?x=1' -> '/tasks/charge/{id}'."""
    path = url
    if "://" in path:
        path = path.split("://", 1)[1]
        slash = path.find("/")
        path = path[slash:] if slash >= 0 else "/"
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    segs = path.split("/")
    return "/".join("{id}" if s and _SEG_VARIABLE.match(s) else s for s in segs)


_DIGIT_TOKEN = re.compile(r"(?a)\b[A-Za-z_]*+[0-9]\w*")
_TEMPLATE_CACHE: dict[str, str] = {}
_TEMPLATE_CACHE_MAX = 16384


def cached_template(text: str) -> str:
    """`message_template` of the text with every word that holds a digit made "0" first.

    The template treats any token holding a digit as a variable, so canonicalising those words
    does not change what is hashed, but it makes recurrences of one message share one cache
    entry (the template is the costliest step of the no-trace path). Deterministic: the result
    depends only on the text, never on what was cached before.
    """
    canon = _DIGIT_TOKEN.sub("0", text)
    out = _TEMPLATE_CACHE.get(canon)
    if out is None:
        if len(_TEMPLATE_CACHE) >= _TEMPLATE_CACHE_MAX:
            _TEMPLATE_CACHE.clear()
        out = _TEMPLATE_CACHE[canon] = message_template(canon)
    return out


# What `_TYPE_IN_MESSAGE` can capture ends with one of these. The type holds no ":", so it
# ends at the first ":" of the message (or the message is all type): a cheap test that spares
# most messages the backtracking regex, without changing any result.
_TYPE_ENDINGS = (
    "Error", "Exception", "Throwable", "Fault", "Failure", "Interrupt", "Exit", "panic",
    "fatal error",
)  # fmt: skip


def _type_from_message(message: str) -> str:
    colon = message.find(":")
    head = message[:colon] if colon >= 0 else message.removesuffix("\n")
    if not head.endswith(_TYPE_ENDINGS):
        return ""
    m = _TYPE_IN_MESSAGE.match(message)
    return m.group(1) if m else ""


def _compute(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule],
    in_app: InAppConfig,
    notes: list[str] | None,
) -> tuple[Fingerprint, str, str | None, list[FrameDecision]]:
    service = event.service
    message = event.message
    stack = event.stack
    st: Stacktrace | None = None
    if stack:
        st = parse_stacktrace(stack, in_app)
    if st is None and "\n" in message:
        st = parse_stacktrace(message, in_app)
    loc = event.report_location
    if st is None and not (loc and loc.get("functionName")):  # the common no-trace shapes
        if rules:
            return _finish(event, rules, None, None, notes)
        if message:
            type_ = _type_from_message(message)
            tpl = cached_template(message)
            comps = [("service", service), ("type", type_), ("message", tpl)]
            if not type_:
                del comps[1]
            title = _short_message(message)
            strategy = "message"
        else:
            comps, strategy, title = _no_message(event)
        fp = Fingerprint(f"{VERSION}-{_hash(comps)}", VERSION, title, "", (), tuple(comps))
        return fp, strategy, None, []
    return _finish(event, rules, st, loc, notes)


def _no_message(event: ErrorEvent) -> tuple[list[tuple[str, str]], str, str]:
    """(components, strategy, title) of an event with neither a trace nor a message."""
    comps: list[tuple[str, str]] = [("service", event.service)]
    h = event.http
    if h is not None:
        route = route_template(h.url)
        comps += [("method", h.method), ("route", route), ("status", str(h.status))]
        return comps, "request", f"{h.status} {h.method} {route}".strip()
    comps.append(("message", ""))
    return comps, "empty", f"error in {event.service}"


def _finish(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule],
    st: Stacktrace | None,
    loc: dict[str, object] | None,
    notes: list[str] | None,
) -> tuple[Fingerprint, str, str | None, list[FrameDecision]]:
    """The general path: traces, Error Reporting locations, custom rules, explanations."""
    service = event.service
    message = event.message
    comps: list[tuple[str, str]] = [("service", service)]
    culprit = ""
    decisions: list[FrameDecision] | None = [] if notes is not None else None
    frames_out: tuple[str, ...] = ()
    all_frames: list[tuple[str, str]] | None = [] if rules else None
    type_ = ""
    runtime = st.runtime if st is not None else None
    top: list[Frame] = []
    strategy: str

    if st is not None or (loc and loc.get("functionName")):
        strategy = "stacktrace"
        if st is not None:
            exceptions = st.exceptions
            root = exceptions[-1]
            type_ = root.type
            value = root.value
            if not type_ and not value:  # frames only (zap's `stacktrace`): the message says it
                type_ = _type_from_message(message)
                value = message
            outer = exceptions[0]
            title_type, title_value = outer.type or type_, outer.value or value
            chain = [root, *reversed(exceptions[:-1])]  # root cause first, then outwards
        else:
            type_ = _type_from_message(message)
            value = message
            title_type, title_value = type_, message
            chain = []
        candidates: list[Frame] = []
        seen: set[tuple[str, str]] = set()
        # Only the top in-app frames are hashed: without rules or an explanation to feed,
        # stop looking once they are found (what follows cannot change the result).
        enough = decisions is None and all_frames is None
        for exc in chain:
            for f in exc.frames:
                key = (f.module, f.function)
                if all_frames is not None:
                    all_frames.append(key)
                if not f.in_app:
                    if decisions is not None:
                        decisions.append(FrameDecision(f, False, f.why))
                    continue
                if key in seen:
                    if decisions is not None:
                        decisions.append(FrameDecision(f, False, "repeat (recursion or chain)"))
                    continue
                seen.add(key)
                candidates.append(f)
                if decisions is not None:
                    kept = len(candidates) <= TOP_FRAMES
                    why = f"{f.why}; top {TOP_FRAMES}" if kept else f"beyond top {TOP_FRAMES}"
                    decisions.append(FrameDecision(f, kept, why))
                elif enough and len(candidates) >= TOP_FRAMES:
                    break
            else:
                continue
            break
        if loc and loc.get("functionName"):
            path = str(loc.get("filePath") or "")
            fn = str(loc.get("functionName"))
            f = Frame(path, fn, path.rsplit("/", 1)[-1], None, True, "Error Reporting location")
            if all_frames is not None:
                all_frames.append((f.module, f.function))
            if (f.module, f.function) not in seen and len(candidates) < TOP_FRAMES:
                candidates.insert(0, f)
                if decisions is not None:
                    decisions.insert(0, FrameDecision(f, True, "reportLocation counts as a frame"))
        top = candidates[:TOP_FRAMES]
        if not top and st is not None:  # no in-app frame at all: fall back to the raw top
            top = list(st.root.frames[:TOP_FRAMES])
            if notes is not None:
                notes.append("no in-app frame: hashing the top library frames instead")
        if type_:
            comps.append(("type", type_))
        if type_ in GENERIC_TYPES or (runtime == "go"):
            comps.append(("value", cached_template(value)))
            if notes is not None:
                notes.append(f"type {type_!r} is generic: its message template is hashed too")
        for f in top:
            comps.append(("frame", f"{f.module} {f.function}"))
        if top and top[0].context:
            comps.append(("context", top[0].context))
        if top:
            culprit = culprit_of(top[0])
            frames_out = tuple(f.render() for f in top)
            where = f" in {_func_name(top[0].function)} ({top[0].filename or top[0].module})"
        else:
            where = ""
        head = short_type(title_type) if title_type else ""
        msg = _short_message(title_value)
        title = f"{head}: {msg}" if head and msg else (head or msg or "error")
        title += where
    elif message:
        strategy = "message"
        type_ = _type_from_message(message)
        if type_:
            comps.append(("type", type_))
        comps.append(("message", cached_template(message)))
        title = _short_message(message)
    else:
        comps, strategy, title = _no_message(event)

    if rules:
        for i, rule in enumerate(rules):
            if not rule.matches(service, type_, message, all_frames or ()):
                continue
            dotted = f"{top[0].module}.{top[0].function}" if top else ""
            values = _variables(comps, service, type_, dotted, message)
            if rule.fingerprint is not None:
                comps = [("rule", str(i))] + [
                    ("fingerprint", expand(v, values)) for v in rule.fingerprint
                ]
                strategy = f"rule:{i}"
            if rule.title is not None:
                values["default"] = title
                title = expand(rule.title, values)
            if notes is not None:
                notes.append(f"custom rule {i} matched")
            break

    fp = Fingerprint(f"{VERSION}-{_hash(comps)}", VERSION, title, culprit, frames_out, tuple(comps))
    return fp, strategy, runtime, decisions or []


def culprit_of(frame: Frame) -> str:
    """Where the error happened, for people: `module.function` for JVM classes and Go
    packages; `function (path)` when the module is a source path (Python, Node.js)."""
    if frame.filename and frame.module.endswith(frame.filename):
        return f"{frame.function} ({frame.module})"
    return f"{frame.module}.{frame.function}"


def _func_name(function: str) -> str:
    """'(*Service).Get' -> 'Get'; 'CardService.authorize' -> 'authorize'."""
    return function.rsplit(".", 1)[-1] if "." in function else function


def _variables(
    comps: Sequence[tuple[str, str]], service: str, type_: str, dotted: str, message: str
) -> dict[str, str]:
    mod, _, fn = dotted.rpartition(".")  # "module.function" of the top frame, split at its last dot
    return {
        "default": " ".join(v for _, v in comps),
        "service": service,
        "type": type_,
        "function": fn,
        "module": mod,
        "message": cached_template(message) if message else "",
    }


__all__ = [
    "VERSION",
    "Explanation",
    "FingerprintRule",
    "FrameDecision",
    "InAppConfig",
    "explain",
    "fingerprint",
    "load_rules",
    "route_template",
]
