"""Code ownership: CODEOWNERS patterns, JVM packages, Go packages, the culprit frame."""

from __future__ import annotations

import pytest

from bot.models import ErrorEvent
from bot.routing.owners import (
    CodeLocation,
    OwnerTable,
    PatternError,
    code_location,
    codeowners_rules,
    compile_go,
    compile_package,
    compile_path,
    parse_codeowners,
    rule,
)


def _ev(stack: str, service: str = "mono") -> ErrorEvent:
    return ErrorEvent("i", 0.0, "ERROR", service, "cloud_run_revision", stack=stack)


PY_TRACE = """Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/flask/app.py", line 10, in wsgi
    return self.handle()
  File "/app/services/payments/api.py", line 42, in charge
    total = order["total"]
  File "/app/services/payments/ledger/book.py", line 7, in post
    raise KeyError("total")
  File "/usr/lib/python3.11/site-packages/sqlalchemy/orm.py", line 99, in flush
    raise err
KeyError: 'total'
"""

GO_TRACE = """panic: runtime error: index out of range [3] with length 3

goroutine 7 [running]:
github.com/acme/mono/search/index.(*Shard).Get(0xc000010000, 0x3)
\t/build/search/index/shard.go:88 +0x1d
github.com/acme/mono/internal/http.Serve(0xc000020000)
\t/build/internal/http/serve.go:12 +0x2a
net/http.HandlerFunc.ServeHTTP(0x0)
\t/usr/local/go/src/net/http/server.go:2136 +0x29
"""

JVM_TRACE = """java.lang.IllegalStateException: invoice closed
\tat com.acme.billing.invoice.Invoice.close(Invoice.kt:31)
\tat com.acme.platform.web.Controller.handle(Controller.kt:12)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)
"""

NODE_TRACE = """TypeError: Cannot read properties of undefined (reading 'id')
    at render (/srv/web/checkout/cart.js:14:9)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
"""


@pytest.mark.parametrize(
    ("stack", "runtime", "path", "module"),
    [
        (PY_TRACE, "python", "/app/services/payments/ledger/book.py", "ledger/book.py"),
        (GO_TRACE, "go", "/build/search/index/shard.go", "github.com/acme/mono/search/index"),
        (
            JVM_TRACE,
            "jvm",
            "com/acme/billing/invoice/Invoice.kt",
            "com.acme.billing.invoice.Invoice",
        ),
        (NODE_TRACE, "node", "/srv/web/checkout/cart.js", "checkout/cart.js"),
    ],
)
def test_the_culprit_is_the_top_in_app_frame_of_the_root_cause(
    stack: str, runtime: str, path: str, module: str
) -> None:
    loc = code_location(_ev(stack))
    assert loc is not None
    assert (loc.runtime, loc.path, loc.module) == (runtime, path, module)


def test_no_trace_no_location() -> None:
    assert code_location(ErrorEvent("i", 0.0, "ERROR", "s", "r", message="boom")) is None


def test_error_reporting_location_is_used_without_a_trace() -> None:
    ev = ErrorEvent(
        "i", 0.0, "ERROR", "s", "r", report_location={"filePath": "svc/a.py", "functionName": "f"}
    )
    loc = code_location(ev)
    assert loc is not None and loc.path == "svc/a.py" and loc.function == "f"


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*", "a/b/c.py", True),
        ("*.js", "web/checkout/cart.js", True),
        ("*.js", "web/checkout/cart.jsx", False),
        ("/docs/", "docs/a/b.md", True),
        ("/docs/", "docs", False),  # a directory pattern never matches a file of that name
        ("docs/*", "docs/a.md", True),
        ("docs/*", "docs/a/b.md", False),
        ("apps/", "x/apps/y.py", True),  # no slash inside: any depth
        ("/build/logs/", "build/logs/x/y.log", True),
        ("services/payments", "services/payments/api.py", True),
        ("services/payments", "services/paymentsx/api.py", False),
        ("**/logs", "a/b/logs/x", True),
        ("**/logs", "logs/x", True),
        ("src/**/util.py", "src/util.py", True),
        ("src/**/util.py", "src/a/b/util.py", True),
        ("src/**/util.py", "lib/src/a/util.py", False),
        ("docs/**", "docs/a/b.md", True),
        ("a?c.py", "abc.py", True),
        ("a?c.py", "a/c.py", False),
        ("/", "anything/at/all.py", True),
    ],
)
def test_codeowners_path_patterns(pattern: str, path: str, hit: bool) -> None:
    assert (compile_path(pattern).match(path) is not None) is hit


def test_anchored_patterns_are_tried_from_each_directory_of_the_trace_path() -> None:
    r = rule("path", "/services/payments/", "payments", "owners.rules[0]")
    assert r.matches(CodeLocation("/app/services/payments/api.py", "api.py"))
    assert r.matches(CodeLocation("/workspace/services/payments/x/y.py", "x/y.py"))
    assert not r.matches(CodeLocation("/app/services/search/api.py", "api.py"))


@pytest.mark.parametrize("bad", ["!/docs/", "src/[ab]/x", "  "])
def test_invalid_path_patterns_say_why(bad: str) -> None:
    with pytest.raises(PatternError) as err:
        compile_path(bad)
    assert err.value.fix


@pytest.mark.parametrize(
    ("pattern", "cls", "hit"),
    [
        ("com.acme.billing", "com.acme.billing.Invoice", True),
        ("com.acme.billing", "com.acme.billing.invoice.Invoice$Line", True),
        ("com.acme.billing", "com.acme.billingx.Invoice", False),
        ("com.acme.billing", "com.acme.Billing", False),
        ("com.acme.*.web", "com.acme.shop.web.Controller", True),
        ("com.acme.*.web", "com.acme.web.Controller", False),
        ("com.acme.billing.*", "com.acme.billing.Invoice", True),
    ],
)
def test_jvm_package_patterns(pattern: str, cls: str, hit: bool) -> None:
    assert (compile_package(pattern).match(cls) is not None) is hit


@pytest.mark.parametrize(
    ("pattern", "pkg", "hit"),
    [
        ("github.com/acme/mono/search/...", "github.com/acme/mono/search", True),
        ("github.com/acme/mono/search/...", "github.com/acme/mono/search/index", True),
        ("github.com/acme/mono/search/...", "github.com/acme/mono/searchx", False),
        ("github.com/acme/mono/search", "github.com/acme/mono/search/index", False),
        ("github.com/acme/mono/search", "github.com/acme/mono/search", True),
        ("github.com/acme/.../http", "github.com/acme/mono/internal/http", True),
    ],
)
def test_go_package_patterns(pattern: str, pkg: str, hit: bool) -> None:
    assert (compile_go(pattern).match(pkg) is not None) is hit


@pytest.mark.parametrize("bad", ["com..acme", "com.acme-x", ""])
def test_invalid_package_patterns(bad: str) -> None:
    with pytest.raises(PatternError):
        compile_package(bad)


def test_config_rules_first_match_wins() -> None:
    table = OwnerTable(
        (
            rule("path", "/services/payments/ledger/", "ledger", "owners.rules[0]"),
            rule("path", "/services/payments/", "payments", "owners.rules[1]"),
        )
    )
    m = table.owner(code_location(_ev(PY_TRACE)))
    assert m is not None and m.team == "ledger" and m.rule.source == "owners.rules[0]"
    assert "owners.rules[0]" in m.describe() and "book.py" in m.describe()


def test_each_kind_of_rule_on_its_own_runtime() -> None:
    table = OwnerTable(
        (
            rule("package", "com.acme.billing", "billing", "r0"),
            rule("go", "github.com/acme/mono/search/...", "search", "r1"),
            rule("path", "*.js", "web", "r2"),
        )
    )
    got = {
        rt: table.owner(code_location(_ev(s)))
        for rt, s in [("jvm", JVM_TRACE), ("go", GO_TRACE), ("node", NODE_TRACE), ("py", PY_TRACE)]
    }
    assert {k: (v.team if v else None) for k, v in got.items()} == {
        "jvm": "billing",
        "go": "search",
        "node": "web",
        "py": None,
    }


CODEOWNERS = """\
# the whole repo
*                       @acme/platform
/services/payments/     @acme/payments-devs @alice
/services/payments/ledger/  @alice
/services/search/       @acme/search  # trailing comment
docs/                   docs@acme.example
"""


def test_codeowners_file_last_match_wins_and_maps_teams() -> None:
    lines, problems = parse_codeowners(CODEOWNERS)
    assert problems == [] and [ln.line for ln in lines] == [2, 3, 4, 5, 6]
    rules, problems = codeowners_rules(
        lines, ["platform", "payments", "search"], {"@acme/payments-devs": "payments"}, "CODEOWNERS"
    )
    assert problems == []
    table = OwnerTable(tuple(rules))

    def team(path: str) -> str | None:
        m = table.owner(CodeLocation(path, path))
        return m.team if m else "no match"

    assert team("/app/services/payments/api.py") == "payments"  # line 3 beats line 2
    assert team("/app/services/search/q.py") == "search"  # slug of @acme/search
    assert team("/app/tools/x.py") == "platform"
    # line 4 names only a user: the ledger is owned by no config team (the route's team is used)
    assert team("/app/services/payments/ledger/book.py") is None
    m = table.owner(CodeLocation("/app/services/payments/api.py", ""))
    assert m is not None and m.rule.source == "CODEOWNERS:3"


def test_codeowners_unmapped_team_is_a_problem_with_a_fix() -> None:
    lines, _ = parse_codeowners("/billing/ @acme/billing-team\n")
    _, problems = codeowners_rules(lines, ["payments"], {}, "CODEOWNERS")
    assert len(problems) == 1 and problems[0].line == 1
    assert "@acme/billing-team" in problems[0].message
    assert "codeowners_teams" in problems[0].fix


def test_codeowners_bad_line_is_reported_and_others_kept() -> None:
    lines, problems = parse_codeowners("/a/ @acme/x\n!/b/ @acme/y\n/c/ @acme/z\n")
    assert [ln.line for ln in lines] == [1, 3]
    assert [p.line for p in problems] == [2] and "negation" in problems[0].message
