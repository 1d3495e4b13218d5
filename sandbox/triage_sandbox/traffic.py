"""Demo and test traffic: realistic Cloud Logging error entries (camelCase LogEntry JSON, as a
Logging sink publishes them) for a handful of bugs in Go, Kotlin, Python and Node.js services.

Values that vary between occurrences of one bug (ids, IPs, durations, line numbers after a
redeploy, goroutine ids, pointers, revisions, traces) vary here too."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PROJECT = "demo-prod"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _run(service: str, rng: random.Random) -> dict[str, Any]:
    # One revision serves nearly all traffic; an older one still drains a little.
    rev = f"{service}-00043-kx2" if rng.random() < 0.97 else f"{service}-00042-q7w"
    return {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": PROJECT,
            "service_name": service,
            "revision_name": rev,
            "location": "asia-northeast1",
            "configuration_name": service,
        },
    }


def _go_panic(rng: random.Random) -> dict[str, Any]:
    gid, line = rng.randint(1, 90000), rng.choice([88, 91, 97])
    ptr = "0x" + _hex(rng, 10)
    text = (
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6f1c2a]\n\n"
        f"goroutine {gid} [running]:\n"
        f"example.com/shop/internal/orders.(*Service).Get({ptr}, {{0x9d4f20, {ptr}}}, 0x{_hex(rng, 4)})\n"
        f"\t/src/internal/orders/service.go:{line} +0x3a\n"
        f"example.com/shop/internal/api.(*Handler).getOrder({ptr}, {{0x9d1e60, {ptr}}}, {ptr})\n"
        f"\t/src/internal/api/orders.go:{line - 40} +0x1c5\n"
        "net/http.HandlerFunc.ServeHTTP(0x0?, {0x9d1e60?, 0xc000190000?}, 0x0?)\n"
        "\t/usr/local/go/src/net/http/server.go:2166 +0x29\n"
        f"created by net/http.(*Server).Serve in goroutine {rng.randint(1, 40)}\n"
        "\t/usr/local/go/src/net/http/server.go:3285 +0x4b4\n"
    )
    return {"resource": _run("orders-api", rng), "textPayload": text}


def _go_db(rng: random.Random) -> dict[str, Any]:
    msg = (
        f"pgx: failed to connect to `host={_ip(rng)} user=app database=orders`: "
        f"dial tcp {_ip(rng)}:5432: connect: connection refused"
    )
    payload = {"severity": "ERROR", "message": msg, "order_id": rng.randint(1000, 99999)}
    return {"resource": _run("orders-api", rng), "jsonPayload": payload}


def _kotlin(rng: random.Random) -> dict[str, Any]:
    n = rng.randint(3, 40)
    trace = (
        f"java.lang.IllegalStateException: card {_hex(rng, 12)} is not active\n"
        f"\tat com.example.cards.AuthorizeService.authorize(AuthorizeService.kt:{rng.choice([51, 57])})\n"
        "\tat com.example.cards.CardsRoutesKt$cardsRoutes$1.invokeSuspend(CardsRoutes.kt:33)\n"
        "\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)\n"
        "\tat io.ktor.server.routing.Route.invoke(Route.kt:120)\n"
        f"\t... {n} more\n"
    )
    payload = {
        "severity": "ERROR",
        "message": "authorization failed",
        "stack_trace": trace,
        "logger_name": "com.example.cards.AuthorizeService",
        "thread_name": f"eventLoopGroupProxy-4-{rng.randint(1, 8)}",
    }
    return {"resource": _run("cards-api", rng), "jsonPayload": payload}


def _python(rng: random.Random) -> dict[str, Any]:
    key = "total_amount"
    text = (
        "Traceback (most recent call last):\n"
        f'  File "/app/ocr/worker.py", line {rng.choice([88, 90])}, in handle\n'
        "    result = extract(doc)\n"
        f'  File "/app/ocr/extract.py", line {rng.choice([41, 44])}, in extract\n'
        f'    total = fields["{key}"]\n'
        f"KeyError: '{key}'\n"
    )
    return {
        "resource": {
            "type": "k8s_container",
            "labels": {
                "project_id": PROJECT,
                "location": "asia-northeast1",
                "cluster_name": "prod-1",
                "namespace_name": "ocr",
                "container_name": "ocr-pipeline",
                "pod_name": f"ocr-pipeline-7d9c5b8f64-{rng.choice(['x2k9p', 'm4q7z', 'b8w3n'])}",
            },
        },
        "textPayload": text,
    }


def _node(rng: random.Random) -> dict[str, Any]:
    col = rng.randint(5, 40)
    msg = (
        "TypeError: Cannot read properties of undefined (reading 'id')\n"
        f"    at buildPayload (/workspace/src/notify.js:{rng.choice([23, 25])}:{col})\n"
        "    at async sendNotification (/workspace/src/index.js:12:5)\n"
        "    at async /workspace/node_modules/@google-cloud/functions-framework/build/src/function_wrappers.js:100:17"
    )
    return {
        "resource": {
            "type": "cloud_function",
            "labels": {
                "project_id": PROJECT,
                "function_name": "send-notification",
                "region": "asia-northeast1",
            },
        },
        "jsonPayload": {"message": msg, "severity": "ERROR"},
    }


def _http_502(rng: random.Random) -> dict[str, Any]:
    return {
        "resource": _run("payments", rng),
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests",
        "httpRequest": {
            "requestMethod": "POST",
            "requestUrl": f"https://payments-abc-an.a.run.app/tasks/charge/{rng.randint(10000, 99999)}",
            "status": 502,
            "latency": f"{rng.uniform(10, 30):.3f}s",
        },
    }


def _reported(rng: random.Random) -> dict[str, Any]:
    email = f"{_hex(rng, 6)}@corp.example.com"
    return {
        "resource": _run("payments", rng),
        "jsonPayload": {
            "@type": "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent",
            "serviceContext": {"service": "payments", "version": "1.8.0"},
            "message": f"charge declined for customer {email}: insufficient_funds (charge ch_{_hex(rng, 20)})",
            "context": {
                "reportLocation": {
                    "filePath": "internal/charge/charge.go",
                    "lineNumber": 66,
                    "functionName": "charge.(*Client).Create",
                }
            },
        },
    }


def _job(rng: random.Random) -> dict[str, Any]:
    return {
        "resource": {
            "type": "cloud_run_job",
            "labels": {
                "project_id": PROJECT,
                "job_name": "nightly-close",
                "location": "asia-northeast1",
            },
        },
        "labels": {"run.googleapis.com/execution_name": f"nightly-close-{_hex(rng, 5)}"},
        "textPayload": f"step reconcile timed out after {rng.randint(300, 900)}s (batch {rng.randint(1, 99)})",
    }


_BATCH_STEPS = (
    "load_accounts",
    "fetch_rates",
    "apply_rates",
    "post_ledger",
    "close_period",
    "export_csv",
    "upload_report",
    "notify_owners",
    "archive_inputs",
    "reindex_search",
    "refresh_views",
    "rotate_keys",
    "prune_sessions",
    "rebuild_cache",
    "sync_tenants",
)


def _batch_step(step: str) -> Callable[[random.Random], dict[str, Any]]:
    """One of many distinct bugs of a legacy batch service (an outage upstream makes every step
    fail at once: the digest case)."""

    def make(rng: random.Random) -> dict[str, Any]:
        text = (
            "Traceback (most recent call last):\n"
            f'  File "/srv/batch/runner.py", line {rng.choice([51, 53])}, in run\n'
            "    step(ctx)\n"
            f'  File "/srv/batch/steps/{step}.py", line {rng.randint(20, 90)}, in {step}\n'
            "    resp = ctx.upstream.call(payload)\n"
            f"ConnectionError: upstream ledger-api unavailable (attempt {rng.randint(1, 5)})\n"
        )
        return {
            "resource": {
                "type": "k8s_container",
                "labels": {
                    "project_id": PROJECT,
                    "location": "asia-northeast1",
                    "cluster_name": "prod-1",
                    "namespace_name": "finance",
                    "container_name": "legacy-batch",
                    "pod_name": f"legacy-batch-5f6d7c9b8-{rng.choice(['a1b2c', 'd3e4f'])}",
                },
            },
            "textPayload": text,
        }

    return make


@dataclass(frozen=True)
class Bug:
    name: str
    make: Callable[[random.Random], dict[str, Any]]


BUGS: tuple[Bug, ...] = (
    Bug("go-nil-get", _go_panic),
    Bug("go-db-refused", _go_db),
    Bug("kt-ise-authorize", _kotlin),
    Bug("py-keyerror", _python),
    Bug("node-undefined", _node),
    Bug("req-502", _http_502),
    Bug("rep-charge-declined", _reported),
    Bug("job-timeout", _job),
)


def _monorepo(module: str, exc: str) -> Callable[[random.Random], dict[str, Any]]:
    """One service ("mono") holding the code of several teams: the code owners decide."""

    def make(rng: random.Random) -> dict[str, Any]:
        text = (
            "Traceback (most recent call last):\n"
            '  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 880, in wsgi\n'
            "    return self.handle(req)\n"
            f'  File "/app/services/{module}/api.py", line {rng.choice([52, 57])}, in handle\n'
            "    return run(req)\n"
            f"{exc}\n"
        )
        return {"resource": _run("mono", rng), "textPayload": text}

    return make


# Code of two teams in one service (the demo's `owners:` sends each to its team's channel).
MONOREPO_BUGS: tuple[Bug, ...] = (
    Bug("mono-payments", _monorepo("payments", "KeyError: 'iban'")),
    Bug("mono-search", _monorepo("search", "ValueError: cursor is past the last page")),
)

# A burst of many distinct groups at once (more than the digest threshold).
STORM_BUGS: tuple[Bug, ...] = tuple(Bug(f"batch-{s}", _batch_step(s)) for s in _BATCH_STEPS)


def entry(bug: Bug, rng: random.Random, ts: float, insert_id: str | None = None) -> dict[str, Any]:
    e = bug.make(rng)
    e.setdefault("logName", f"projects/{PROJECT}/logs/stderr")
    e["insertId"] = insert_id or _hex(rng, 17)
    e["timestamp"] = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    e["severity"] = "ERROR"
    e["receiveTimestamp"] = e["timestamp"]
    if rng.random() < 0.7:
        e["trace"] = f"projects/{PROJECT}/traces/{_hex(rng, 32)}"
    return e


def generate(
    n: int,
    *,
    seed: int = 7,
    start: float = 1_764_000_000.0,
    rate_per_s: float = 50.0,
    bugs: tuple[Bug, ...] = BUGS,
) -> Iterator[tuple[str, bytes]]:
    """`n` entries over the bugs (skewed: a few are frequent), as (bug name, JSON bytes)."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(bugs))]
    for i in range(n):
        bug = rng.choices(bugs, weights)[0]
        yield bug.name, json.dumps(entry(bug, rng, start + i / rate_per_s)).encode()
