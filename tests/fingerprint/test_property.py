"""parse_entry + fingerprint never raise, whatever arrives on the subscription."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.fingerprint import fingerprint
from bot.ingest.logentry import parse_entry
from bot.models import ErrorEvent, Rejected

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=25,
)
_trace_text = st.lists(
    st.sampled_from(
        [
            "panic: boom",
            "goroutine 1 [running]:",
            "main.f(0x1)",
            "\t/src/main.go:1 +0x1",
            "Traceback (most recent call last):",
            '  File "/app/x.py", line 1, in f',
            "KeyError: 'k'",
            "java.lang.IllegalStateException: x",
            "\tat a.B.c(B.java:1)",
            "Caused by: x.Y: z",
            "\t... 3 more",
            "    at f (/a/b.js:1:2)",
            "    at async g (node:internal/x:1:1)",
            "During handling of the above exception, another exception occurred:",
            "",
            "\t",
        ]
    )
    | st.text(max_size=40),
    max_size=30,
).map("\n".join)

_entry = st.fixed_dictionaries(
    {"insertId": st.text(min_size=1, max_size=20)},
    optional={
        "resource": _json | st.fixed_dictionaries({"type": st.text(), "labels": _json}),
        "textPayload": _trace_text | _json,
        "jsonPayload": _json
        | st.fixed_dictionaries(
            {"message": _trace_text | _json},
            optional={"stack_trace": _trace_text, "err": _json, "context": _json},
        ),
        "httpRequest": _json | st.fixed_dictionaries({"status": _json, "requestUrl": _json}),
        "timestamp": _json | st.just("2026-11-24T01:00:00Z"),
        "severity": _json,
        "labels": _json,
        "errorGroups": _json,
        "trace": _json,
    },
)


def _check(data: object) -> None:
    got = parse_entry(data)  # type: ignore[arg-type]
    assert isinstance(got, ErrorEvent | Rejected)
    if isinstance(got, ErrorEvent):
        fp = fingerprint(got)
        assert fp.id.startswith(f"{fp.version}-") and len(fp.id) == 20


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_entry)
def test_structured_entries_never_raise(entry):
    _check(entry)
    try:
        raw = json.dumps(entry)
    except ValueError:
        return
    _check(raw)
    _check(raw.encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200) | _json)
def test_arbitrary_input_never_raises(data):
    _check(data)


def test_huge_strings_deep_nesting_and_invalid_utf8_never_raise():
    _check({"insertId": "a", "textPayload": "x" * (2 << 20)})
    _check({"insertId": "a", "textPayload": "\tat a.B.c(B.java:1)\n" * 50_000})
    deep: object = "leaf"
    for _ in range(5000):
        deep = {"message": deep}
    _check({"insertId": "a", "jsonPayload": deep})
    _check(b'{"insertId": "a", "textPayload": "\xc3\x28"}')
    _check("{" * 100_000)
    _check({"insertId": "a", "textPayload": "\ud800 lone surrogate\n\tat a.B.c(B.java:1)"})


_type_like = st.lists(
    st.sampled_from(
        ["Uncaught ", "Unhandled ", "java.lang.", "Key", "Error", "Exception", "fatal error",
         "panic", "Exit", ": ", ":", " ", "\n", "x", "$", ".", "é", "Failure"]
    ),
    max_size=8,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_type_like | st.text(max_size=40))
def test_type_prefilter_never_changes_the_type(message: str) -> None:
    """The cheap suffix test in front of the type regex only skips messages it cannot match."""
    from bot.fingerprint.fp1 import _TYPE_IN_MESSAGE, _type_from_message

    m = _TYPE_IN_MESSAGE.match(message)
    assert _type_from_message(message) == (m.group(1) if m else "")
