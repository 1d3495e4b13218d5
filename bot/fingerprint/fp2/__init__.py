"""Strategy fp2: fp1's scheme with the fixes real error output needed.

FROZEN once released, like fp1: a change of algorithm is a new strategy (`fp3`).

* with a stack trace: service + ROOT cause type + the top in-app frames (module and function:
  never line numbers, columns, goroutine ids, pointers, generated class suffixes, mangled
  names or versions inside paths) + the crashing frame's source line when printed (Python);
  the message template joins them when the type says little on its own (Go, bare `Error`,
  no type) and whenever no frame is in-app. With no in-app frame no library frame is hashed
  but the innermost one's module and function (where it was thrown; a missing or extra frame
  further out, or a runtime patch release, must not split a group).
* in-app: the service's `in_app` rules (exclude, then include), else the runtime's defaults
  (`stacktrace.py`).
* the message is first reduced to what a JSON encoder would log (`logline.py`): a console
  encoder's line and the JSON encoder's fields of one call give one group.
* without a trace: service + exception type if recognisable + the message template;
  a request log without message: service + method + route template + status.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from itertools import chain

from bot.fingerprint.fp1 import GENERIC_TYPES as FP1_GENERIC_TYPES
from bot.fingerprint.fp1 import (
    Explanation,
    FrameDecision,
    _func_name,
    _short_message,
    _type_from_message,
    culprit_of,
    route_template,
    short_type,
)
from bot.fingerprint.fp2.logline import canonical, json_text_stack
from bot.fingerprint.fp2.stacktrace import (
    ExceptionInfo,
    Frame,
    InAppConfig,
    Stacktrace,
    config_of,
    parse_stacktrace,
)
from bot.fingerprint.fp2.template import message_template
from bot.fingerprint.inapp import InAppRules
from bot.fingerprint.rules import FingerprintRule, expand
from bot.models import ErrorEvent, Fingerprint

VERSION = "fp2"
# Types that say little on their own: fp1's, and wrappers of other errors.
GENERIC_TYPES = FP1_GENERIC_TYPES | {
    "ExceptionGroup", "BaseExceptionGroup", "AggregateError", "kotlin.Throwable",
    "java.util.concurrent.ExecutionException", "java.util.concurrent.CompletionException",
    "java.lang.reflect.InvocationTargetException", "java.lang.reflect.UndeclaredThrowableException",
}  # fmt: skip
TOP_FRAMES = 3  # in-app frames hashed
TITLE_MESSAGE_CHARS = 80


# Go frames of the panic machinery itself, above the frame that panicked.
_GO_PANIC_MODULES = frozenset(("runtime", "panic"))


def _hash(components: Sequence[tuple[str, str]]) -> str:
    key = tuple(components)
    out = _DIGESTS.get(key)
    if out is None:
        payload = "\x1f".join(chain.from_iterable(key))
        out = _blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        if len(payload) <= _DIGEST_KEY_MAX:  # a freak event: not worth the memory
            if len(_DIGESTS) >= _DIGESTS_MAX:
                _DIGESTS.clear()
            _DIGESTS[key] = out
    return out


# Digests by their components: a recurring error hashes the same components every time (that
# is what a group is), so a group's digest is computed once, not per event. A pure function's
# memo, bounded like the template cache; it never changes a result.
_DIGESTS: dict[tuple[tuple[str, str], ...], str] = {}
_DIGESTS_MAX = 16384
_DIGEST_KEY_MAX = 2048  # characters of payload kept as a key


_blake2b = hashlib.blake2b


_DIGIT_TOKEN = re.compile(r"(?a)\b[A-Za-z_]*+[0-9]\w*")
_TEMPLATE_CACHE: dict[str, str] = {}
_TEMPLATE_CACHE_MAX = 16384


def cached_template(text: str) -> str:
    """fp2's `message_template`, memoised as fp1's is (see fp1.cached_template)."""
    canon = _DIGIT_TOKEN.sub("0", text)
    out = _TEMPLATE_CACHE.get(canon)
    if out is None:
        if len(_TEMPLATE_CACHE) >= _TEMPLATE_CACHE_MAX:
            _TEMPLATE_CACHE.clear()
        out = _TEMPLATE_CACHE[canon] = message_template(canon)
    return out


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


def fingerprint(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule] = (),
    in_app: InAppRules | None = None,
) -> Fingerprint:
    """The group of an event. Pure and deterministic; every replica computes the same id."""
    return _compute(event, rules, config_of(in_app), None)[0]


def explain(
    event: ErrorEvent,
    rules: Sequence[FingerprintRule] = (),
    in_app: InAppRules | None = None,
) -> Explanation:
    """The fingerprint with the reasons: strategy, each frame's fate, notes."""
    notes: list[str] = []
    fp, strategy, runtime, decisions = _compute(event, rules, config_of(in_app), notes)
    return Explanation(fp, strategy, runtime, tuple(decisions), tuple(notes))


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
    if st is None and not stack and message[:1] == "{":  # a JSON line logged as text
        inner = json_text_stack(message)
        if inner is not None:
            st = parse_stacktrace(inner, in_app)
    loc = event.report_location
    if st is None and not (loc and loc.get("functionName")):  # the common no-trace shapes
        if rules:
            return _finish(event, rules, None, None, notes)
        if message:
            message = canonical(message)
            type_ = _type_from_message(message)
            tpl = cached_template(message)
            tcomps: tuple[tuple[str, str], ...]
            if type_:
                tcomps = (("service", service), ("type", type_), ("message", tpl))
            else:
                tcomps = (("service", service), ("message", tpl))
            digest = _hash(tcomps)
            title = _short_message(message)
            fp = Fingerprint(f"{VERSION}-{digest}", VERSION, title, "", (), tcomps)
            return fp, "message", None, []
        comps, strategy, title = _no_message(event)
        fp = Fingerprint(f"{VERSION}-{_hash(comps)}", VERSION, title, "", (), tuple(comps))
        return fp, strategy, None, []
    return _finish(event, rules, st, loc, notes)


def _top_frames(
    chain: Sequence[ExceptionInfo], candidates: list[Frame], seen: set[tuple[str, str]]
) -> None:
    """The general loop of `_finish` without rules or an explanation to feed: only the top
    in-app frames are hashed, so it stops once they are found (what follows cannot change
    the result), and a library frame costs one test."""
    for exc in chain:
        for f in exc.frames:
            if not f.in_app:
                continue
            key = (f.module, f.function)
            if key in seen:
                continue
            seen.add(key)
            candidates.append(f)
            if len(candidates) >= TOP_FRAMES:
                return


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
    # canonical() only where the message is read: a trace's own exception usually says it all
    lazy = st is not None and not rules
    message = "" if lazy else canonical(event.message)
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
                if lazy:
                    message = canonical(event.message)
                type_ = _type_from_message(message)
                value = message
            outer = exceptions[0]
            title_type, title_value = outer.type or type_, outer.value or value
            # root cause first, then outwards
            chain: Sequence[ExceptionInfo] = (
                exceptions if len(exceptions) == 1 else [root, *reversed(exceptions[:-1])]
            )
        else:
            type_ = _type_from_message(message)
            value = message
            title_type, title_value = type_, message
            chain = []
        candidates: list[Frame] = []
        seen: set[tuple[str, str]] = set()
        # Only the top in-app frames are hashed: without rules or an explanation to feed,
        # stop looking once they are found (what follows cannot change the result).
        if decisions is None and all_frames is None:
            _top_frames(chain, candidates, seen)
            chain = ()  # done: the general loop below is for rules and explanations
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
        innermost: Frame | None = None
        if not top and st is not None:  # no in-app frame: the message tells bugs apart
            innermost = next(
                (f for f in st.root.frames if f.function and f.module not in _GO_PANIC_MODULES),
                None,
            )
        if type_:
            comps.append(("type", type_))
        if type_ in GENERIC_TYPES or runtime == "go" or (st is not None and not top):
            tpl = cached_template(value)
            comps.append(("value", tpl))
            if notes is not None:
                why = "no frame is in-app" if not top else f"type {type_!r} is generic"
                notes.append(f"{why}: the message template is hashed")
            if not top and st is not None and len(st.exceptions) > 1:
                # the wrappers say which library failed ("PSQLException" over a refused
                # ConnectException): their types, outermost first, never their frames
                comps.append(("chain", " ".join(e.type for e in st.exceptions[:-1])))
            if not top and innermost is not None:
                comps.append(("frame", f"{innermost.module} {innermost.function}"))
                if notes is not None:
                    notes.append("no frame is in-app: the innermost frame is hashed, no other")
        for f in top:
            comps.append(("frame", f"{f.module} {f.function}"))
        if top and top[0].context:
            comps.append(("context", top[0].context))
        if top:
            culprit = culprit_of(top[0])
            # Frame.render() inlined (a method call per frame is measurable on this path)
            frames_out = tuple([f"{f.filename or f.module} in {f.function}" for f in top])
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


__all__ = ["VERSION", "explain", "fingerprint", "route_template"]
