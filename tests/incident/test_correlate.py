"""Correlation: table-driven evidence extraction and candidate grouping, time injected."""

from __future__ import annotations

import pytest

from bot.incident.correlate import (
    Evidence,
    GroupEpisode,
    Kind,
    correlate,
    episodes_from_events,
    evidence,
    explain,
)
from bot.models import ErrorEvent

T0 = 1_764_644_000.0  # 2025-12-02 02:53:20 UTC


def ev(
    message: str,
    service: str = "svc",
    ts: float = T0,
    stack: str | None = None,
    revision: str | None = None,
    region: str | None = None,
) -> ErrorEvent:
    return ErrorEvent(
        insert_id=f"{service}-{ts}",
        timestamp=ts,
        severity="ERROR",
        service=service,
        resource_type="cloud_run_revision",
        revision=revision,
        message=message,
        stack=stack,
        labels={"location": region} if region else {},
    )


E = Evidence
EVIDENCE_CASES = [
    # (text, evidence that must be found)
    (
        'psycopg2.OperationalError: connection to server at "10.40.0.3", port 5432 failed: '
        "Connection refused",
        {
            E(Kind.ENDPOINT, "10.40.0.3:5432"),
            E(Kind.DEPENDENCY, "Postgres"),
            E(Kind.FAILURE, "connection refused"),
            E(Kind.ERROR_CLASS, "psycopg2.OperationalError"),
        },
    ),
    (
        "dial tcp 10.0.0.7:6379: connect: connection refused",
        {E(Kind.ENDPOINT, "10.0.0.7:6379"), E(Kind.DEPENDENCY, "Redis")},
    ),
    (
        "redis.exceptions.ConnectionError: Error 111 connecting to cache.internal:6379.",
        {
            E(Kind.ENDPOINT, "cache.internal:6379"),
            E(Kind.ERROR_CLASS, "redis.exceptions.ConnectionError"),
        },
    ),
    (
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.stripe.com', port=443): "
        "Read timed out. (https://api.stripe.com/v1/charges)",
        {E(Kind.URL_HOST, "api.stripe.com"), E(Kind.FAILURE, "timeout")},
    ),
    (
        "failed to connect to /cloudsql/acme-prod:asia-northeast1:billing-db/.s.PGSQL.5432",
        {E(Kind.DEPENDENCY, "Cloud SQL billing-db")},
    ),
    (
        "getaddrinfo ENOTFOUND payments.example.com",
        {E(Kind.FAILURE, "DNS failure")},
    ),
    ("KeyError: 'total_amount'", {E(Kind.GENERIC_CLASS, "KeyError")}),
    (
        "java.lang.NullPointerException: x is null",
        {E(Kind.GENERIC_CLASS, "java.lang.NullPointerException")},
    ),
]


@pytest.mark.parametrize(("text", "want"), EVIDENCE_CASES)
def test_evidence_found(text: str, want: set[Evidence]) -> None:
    assert want <= evidence(ev(text))
    # the same evidence with text around it (a log prefix, a trailing request id)
    assert want <= evidence(ev(f"2025-12-02 03:12:04 worker[3]: {text} req=ab12"))


NOT_EVIDENCE = [
    # source positions look like host:port but are code
    ('  File "/app/shop/api.py", line 41, in handle\nValueError: bad', Kind.ENDPOINT),
    ("    at com.acme.Billing.charge(Billing.java:42)", Kind.ENDPOINT),
    ("    at handler (/srv/app/index.js:10:5)", Kind.ENDPOINT),
    ("bad input 503 for order 12", Kind.FAILURE),
    ("ValueError: bad input 8 for order 99", Kind.ERROR_CLASS),  # generic, not specific
]


@pytest.mark.parametrize(("text", "kind"), NOT_EVIDENCE)
def test_not_evidence(text: str, kind: Kind) -> None:
    assert not [e for e in evidence(ev(text)) if e.kind is kind]


def test_region_from_zone_and_revision_per_service() -> None:
    found = evidence(ev("x", service="api", revision="api-00042-abc", region="asia-northeast1-b"))
    assert E(Kind.REGION, "asia-northeast1") in found
    assert E(Kind.REVISION, "api/api-00042-abc") in found


def episode(gid: str, service: str, start: float, *texts: str, **kw: object) -> GroupEpisode:
    g = GroupEpisode(gid, service, texts[0][:40], start)
    for t in texts:
        g.add(ev(t, service=service, ts=start, **kw))  # type: ignore[arg-type]
    return g


DB = 'psycopg2.OperationalError: connection to server at "10.40.0.3", port 5432 failed'
# (name, episodes, expected candidates as sets of group ids)
SCENARIOS = [
    (
        "same endpoint across services is one candidate",
        [
            episode("a", "invoice-api", T0, DB),
            episode("b", "billing-worker", T0 + 3, f"sqlalchemy.exc.OperationalError: {DB}"),
            episode("c", "ledger", T0 + 9, "dial tcp 10.40.0.3:5432: i/o timeout"),
        ],
        [{"a", "b", "c"}],
    ),
    (
        "unrelated code bugs in the same minute stay apart",
        [
            episode("a", "invoice-api", T0, DB),
            episode("b", "ledger", T0 + 2, DB),
            episode("k", "cart", T0 + 1, "KeyError: 'sku'"),
            episode("v", "search", T0 + 4, "ValueError: bad page 3"),
            episode("t", "profile", T0 + 5, "TypeError: 'NoneType' object is not subscriptable"),
        ],
        [{"a", "b"}],
    ),
    (
        "the same cause too far apart in time is not one outage",
        [episode("a", "invoice-api", T0, DB), episode("b", "ledger", T0 + 3600, DB)],
        [],
    ),
    (
        "a shared external API host links",
        [
            episode("a", "checkout", T0, "HTTPError 502 from https://api.stripe.com/v1/charges"),
            episode("b", "refunds", T0 + 30, "POST https://api.stripe.com/v1/refunds failed"),
        ],
        [{"a", "b"}],
    ),
    (
        "a generic class alone does not link, even in one region",
        [
            episode("a", "cart", T0, "KeyError: 'sku'", region="asia-northeast1"),
            episode("b", "search", T0 + 1, "KeyError: 'q'", region="asia-northeast1"),
        ],
        [],
    ),
    (
        "a generic class in one failing region (others fine) links",
        [
            episode("a", "cart", T0, "TypeError: x", region="us-east1"),
            episode("b", "search", T0 + 1, "TypeError: y", region="us-east1"),
            episode("c", "other", T0 + 2, "IndexError: z", region="asia-northeast1"),
        ],
        [{"a", "b"}],
    ),
    (
        "a new revision with several new errors of one class links",
        [
            episode("a", "cart", T0, "TypeError: x", revision="cart-00043-new"),
            episode("b", "cart", T0 + 5, "TypeError: y", revision="cart-00043-new"),
        ],
        [{"a", "b"}],
    ),
    (
        "chains: a links b by endpoint, b links c by URL host",
        [
            episode("a", "s1", T0, "dial tcp 10.1.1.1:443: i/o timeout"),
            episode("b", "s2", T0 + 1, "10.1.1.1:443 https://auth.example.com/token"),
            episode("c", "s3", T0 + 2, "GET https://auth.example.com/keys returned 500"),
        ],
        [{"a", "b", "c"}],
    ),
]


@pytest.mark.parametrize(("name", "eps", "want"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_correlate(name: str, eps: list[GroupEpisode], want: list[set[str]]) -> None:
    got = [set(c.group_ids) for c in correlate(eps)]
    assert got == want


def test_order_of_input_does_not_matter() -> None:
    eps = SCENARIOS[1][1]
    assert [c.group_ids for c in correlate(eps)] == [c.group_ids for c in correlate(eps[::-1])]


def test_summary_names_the_shared_cause_with_its_dependency() -> None:
    text = f"{DB}\n(connection name acme-prod:asia-northeast1:billing-db)"
    eps = [
        episode("a", "invoice-api", T0 + 4, text),
        episode("b", "billing-worker", T0 + 10, text),
        episode("c", "ledger", T0 + 20, text),
        episode("d", "cart", T0 + 21, "https://api.stripe.com down"),
    ]
    (cand,) = correlate(eps)
    assert cand.cause == "10.40.0.3:5432 (Cloud SQL billing-db)"
    # 2025-12-02 02:53:24 UTC is the first start
    assert cand.summary() == (
        "3 new errors in 3 services since 02:53 — 3 mention 10.40.0.3:5432 "
        "(Cloud SQL billing-db); first: invoice-api 02:53:24"
    )
    out = explain([cand], eps)
    assert "shared endpoint      10.40.0.3:5432  (3/3 groups, weight 2)" in out
    assert "on their own: 1 groups" in out and "group d  cart" in out


def test_episodes_from_events_keeps_earliest_start_and_counts() -> None:
    eps = episodes_from_events(
        [("g1", "t", ev("x", ts=T0 + 5)), ("g1", "t", ev("x", ts=T0)), ("g2", "u", ev("y"))]
    )
    assert [(g.group_id, g.started, g.count) for g in eps] == [("g1", T0, 2), ("g2", T0, 1)]
