"""Per-runtime trace parsing on realistic traces: exception chain, frames, in-app classification."""

from __future__ import annotations

import pytest

from bot.fingerprint.fp1.stacktrace import InAppConfig, detect_runtime, parse_stacktrace

GO_PANIC = """panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x469244]

goroutine 8104 [running]:
github.com/example/billing/internal/invoice.(*Service).Get(0xfa3614b85d)
\t/src/internal/invoice/service.go:87 +0x18e
github.com/example/billing/internal/httpapi.(*Handler).GetInvoice(0xbd520162d3, 0xe134c9e645)
\t/src/internal/httpapi/invoice.go:55 +0x15
github.com/jackc/pgx/v5.(*Conn).Query(0xc0001)
\t/go/pkg/mod/github.com/jackc/pgx/v5@v5.5.0/conn.go:100 +0x15
net/http.HandlerFunc.ServeHTTP(0x9589815801)
\t/usr/local/go/src/net/http/server.go:2166 +0x98
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3285 +0x4b4

goroutine 1 [IO wait]:
main.main()
\t/src/cmd/api/main.go:30 +0x1ab
"""

GO_ZAP = """github.com/acme/orders/internal/orders.(*Service).Reserve
\t/src/internal/orders/service.go:88
main.run[...]
\t/src/cmd/orders/main.go:41"""

JVM = """org.springframework.dao.QueryTimeoutException: PreparedStatementCallback; timeout
\tat com.example.card.CardService.authorize(CardService.kt:122)
\tat com.example.card.CardController$authorize$1.invokeSuspend(CardController.kt:50)
\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)
\tat java.base/java.lang.Thread.run(Thread.java:833)
\tSuppressed: java.io.IOException: close failed
\t\tat com.example.card.Db.close(Db.kt:9)
Caused by: java.sql.SQLTimeoutException: Statement cancelled after 23934 ms
\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:418)
\tat com.example.card.Repo$$Lambda$412/0x0000000800c4b040.apply(Unknown Source)
\t... 49 more"""

PY_CHAINED = """Traceback (most recent call last):
  File "/app/shop/db.py", line 40, in fetch
    row = cursor.fetchone()
          ^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/site-packages/psycopg/cursor.py", line 10, in fetchone
    raise e.OperationalError('closed')
psycopg.OperationalError: closed

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/shop/api.py", line 77, in report
    data = fetch(report_id)
  File "/app/shop/db.py", line 44, in fetch
    raise RepositoryError(f'fetch {report_id} failed')
shop.db.RepositoryError: fetch 991 failed"""

NODE = """TypeError: Cannot read properties of undefined (reading 'id')
    at getRecipient (/workspace/src/recipients.js:31:9)
    at async sendNotification (/workspace/src/index.js:57:9)
    at new Mailer (/workspace/src/mailer.js:5:3)
    at Layer.handle [as handle_request] (/workspace/node_modules/express/lib/router/layer.js:95:5)
    at node:internal/process/task_queues:95:22
    at /workspace/src/main.js:3:1"""


def test_go_panic_first_goroutine_only_and_library_frames():
    st = parse_stacktrace(GO_PANIC)
    assert st is not None and st.runtime == "go"
    exc = st.root
    assert (exc.type, exc.value) == (
        "runtime error",
        "invalid memory address or nil pointer dereference",
    )
    names = [(f.module, f.function, f.in_app) for f in exc.frames]
    assert names == [
        ("github.com/example/billing/internal/invoice", "(*Service).Get", True),
        ("github.com/example/billing/internal/httpapi", "(*Handler).GetInvoice", True),
        ("github.com/jackc/pgx/v5", "(*Conn).Query", False),
        ("net/http", "HandlerFunc.ServeHTTP", False),
        ("net/http", "(*Server).Serve", False),
    ]  # main.main of goroutine 1 is another goroutine: not part of the failure
    assert exc.frames[0].lineno == 87 and exc.frames[0].filename == "service.go"


def test_go_frames_without_arguments_from_a_json_field():
    st = parse_stacktrace(GO_ZAP)
    assert st is not None and st.runtime == "go"
    assert [f.function for f in st.root.frames] == ["(*Service).Reserve", "run[...]"]
    assert st.root.frames[1].module == "main" and st.root.frames[1].in_app


def test_jvm_caused_by_chain_suppressed_and_synthetic_classes():
    st = parse_stacktrace(JVM)
    assert st is not None and st.runtime == "jvm"
    assert [e.type for e in st.exceptions] == [
        "org.springframework.dao.QueryTimeoutException",
        "java.sql.SQLTimeoutException",
    ]  # Suppressed is a sibling, not part of the cause chain
    outer, root = st.exceptions
    assert [(f.module, f.function, f.in_app) for f in outer.frames] == [
        ("com.example.card.CardService", "authorize", True),
        ("com.example.card.CardController$authorize", "invokeSuspend", True),
        ("kotlin.coroutines.jvm.internal.BaseContinuationImpl", "resumeWith", False),
        ("java.lang.Thread", "run", False),
    ]
    assert [(f.module, f.in_app) for f in root.frames] == [
        ("org.postgresql.jdbc.PgStatement", False),
        ("com.example.card.Repo", True),
    ]
    assert root.value == "Statement cancelled after 23934 ms"


def test_python_chain_root_is_printed_first_and_context_lines_kept():
    st = parse_stacktrace(PY_CHAINED)
    assert st is not None and st.runtime == "python"
    assert st.outer.type == "shop.db.RepositoryError" and st.root.type == "psycopg.OperationalError"
    top = st.root.frames[0]  # innermost first
    assert (top.module, top.function, top.in_app) == ("psycopg/cursor.py", "fetchone", False)
    caller = st.root.frames[1]
    assert (caller.module, caller.function, caller.context) == (
        "shop/db.py",
        "fetch",
        "row = cursor.fetchone()",
    )  # the 3.11 caret line is not taken for source


def test_node_frames_async_new_alias_internal_and_anonymous():
    st = parse_stacktrace(NODE)
    assert st is not None and st.runtime == "node"
    exc = st.root
    assert (exc.type, exc.value) == (
        "TypeError",
        "Cannot read properties of undefined (reading 'id')",
    )
    got = [(f.module, f.function, f.in_app) for f in exc.frames]
    assert got == [
        ("src/recipients.js", "getRecipient", True),
        ("src/index.js", "sendNotification", True),
        ("src/mailer.js", "Mailer", True),
        ("express/lib/router/layer.js", "Layer.handle", False),
        ("process/task_queues", "<anonymous>", False),
        ("src/main.js", "<anonymous>", True),
    ]


def test_in_app_include_overrides_library_prefixes():
    cfg = InAppConfig(include=("org.springframework.dao",))
    st = parse_stacktrace(
        JVM.replace("com.example.card.CardService", "org.springframework.dao.X"), cfg
    )
    assert st is not None and st.outer.frames[0].in_app


@pytest.mark.parametrize(
    "text",
    ["", "plain message", "line one\nline two", "at the end\n\tat", "goroutine 5 [running]:\n"],
)
def test_no_frames_is_no_trace(text):
    assert parse_stacktrace(text) is None


def test_detect_runtime():
    assert detect_runtime(GO_PANIC) == "go"
    assert detect_runtime(JVM) == "jvm"
    assert detect_runtime(PY_CHAINED) == "python"
    assert detect_runtime(NODE) == "node"
    assert detect_runtime("nothing here") is None
