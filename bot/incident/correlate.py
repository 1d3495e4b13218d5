"""Correlation: which groups that start together are one outage. Pure (no Redis, no Slack).

An *incident candidate* is a set of groups whose episodes start close together AND that share
a cause visible in their text: the same downstream endpoint (host:port), the same URL host,
the same dependency (a Cloud SQL instance, Redis, Postgres, an external API), the same
infrastructure failure mode across services ("connection refused", "timeout", ...) or a
non-generic error class (`psycopg2.OperationalError`). Weaker hints (the same region, the
same revision of one service, the same generic error class such as `ValueError`) only link
two groups together with another hint, because unrelated code bugs share them all the time.

How it decides, so a candidate can be explained like a fingerprint:

1. `evidence(event)` extracts typed `Evidence` (kind, value) from one event's message, stack,
   labels and revision. Each kind has a weight: 2 = links on its own, 1 = a hint.
2. Two groups are *linked* when their episodes start within `window` seconds of each other
   and the weights of the evidence they share add up to at least 2. Region and revision are
   both "where" hints and count once together; a region counts only when the groups in the
   window are not all in the same region (else it says nothing).
3. Candidates are the connected components of linked groups with at least `min_groups`
   groups. A group that shares nothing stays out (it is posted on its own).

Time is the groups' own first-seen times: nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.models import ErrorEvent


class Kind(StrEnum):
    ENDPOINT = "endpoint"  # host:port a service talks to
    URL_HOST = "url_host"  # the host of an http(s) URL in the error
    DEPENDENCY = "dependency"  # a named dependency: Cloud SQL instance, Redis, Postgres, an API
    FAILURE = "failure"  # an infrastructure failure mode: connection refused, timeout ...
    ERROR_CLASS = "error_class"  # a specific exception class (psycopg2.OperationalError)
    GENERIC_CLASS = "generic_class"  # a code-bug class (ValueError, KeyError, NPE ...)
    REVISION = "revision"  # the failing revision (Cloud Run revision, deploy version)
    REGION = "region"  # where it runs


# What one shared piece of evidence of a kind is worth (see the module doc, step 2).
WEIGHT: dict[Kind, int] = {
    Kind.ENDPOINT: 2,
    Kind.URL_HOST: 2,
    Kind.DEPENDENCY: 2,
    Kind.FAILURE: 2,
    Kind.ERROR_CLASS: 2,
    Kind.GENERIC_CLASS: 1,
    Kind.REVISION: 1,
    Kind.REGION: 1,
}
_WHERE = (Kind.REGION, Kind.REVISION)  # these two count once together
LINK_WEIGHT = 2
DEFAULT_WINDOW = 300.0  # seconds between two episode starts that can still be one outage
DEFAULT_MIN_GROUPS = 2
SAMPLE_EVENTS = 20  # events per group whose evidence is collected (the first ones)

# Wording in the summary line, per kind (the value follows).
_LABEL: dict[Kind, str] = {
    Kind.ENDPOINT: "",
    Kind.URL_HOST: "",
    Kind.DEPENDENCY: "",
    Kind.FAILURE: "",
    Kind.ERROR_CLASS: "",
    Kind.GENERIC_CLASS: "",
    Kind.REVISION: "revision ",
    Kind.REGION: "region ",
}


@dataclass(frozen=True, slots=True, order=True)
class Evidence:
    kind: Kind
    value: str

    def describe(self) -> str:
        return f"{_LABEL[self.kind]}{self.value}"


# Classes that signal a bug in one service's own code: sharing one says little about a cause.
_GENERIC_CLASSES = frozenset(
    {
        "Error",
        "Exception",
        "RuntimeError",
        "ValueError",
        "KeyError",
        "TypeError",
        "IndexError",
        "AttributeError",
        "NameError",
        "AssertionError",
        "ZeroDivisionError",
        "NotImplementedError",
        "UnboundLocalError",
        "LookupError",
        "ArithmeticError",
        "RangeError",
        "ReferenceError",
        "SyntaxError",
        "NullPointerException",
        "IllegalArgumentException",
        "IllegalStateException",
        "ArrayIndexOutOfBoundsException",
        "IndexOutOfBoundsException",
        "ClassCastException",
        "NumberFormatException",
        "UnsupportedOperationException",
        "ArgumentException",
        "ArgumentNullException",
        "InvalidOperationException",
        "NullReferenceException",
        "NoMethodError",
        "StandardError",
        "ArgumentError",
        "panic",
    }
)
# Infrastructure failure modes, whatever the runtime words them as (canonical name, regex).
_FAILURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("connection refused", re.compile(r"connection refused|ECONNREFUSED|ConnectException", re.I)),
    ("connection reset", re.compile(r"connection reset|ECONNRESET|broken pipe|EPIPE", re.I)),
    (
        "timeout",
        re.compile(
            r"timed? ?out|ETIMEDOUT|deadline exceeded|DEADLINE_EXCEEDED|i/o timeout"
            r"|SocketTimeoutException|TimeoutError",
            re.I,
        ),
    ),
    (
        "DNS failure",
        re.compile(
            r"ENOTFOUND|EAI_AGAIN|no such host|Name or service not known|UnknownHostException"
            r"|getaddrinfo failed|Temporary failure in name resolution",
            re.I,
        ),
    ),
    ("TLS failure", re.compile(r"certificate verify failed|SSLError|x509: |handshake failure")),
    (
        "too many connections",
        re.compile(r"too many connections|remaining connection slots|max_connections", re.I),
    ),
    (
        "unavailable",
        re.compile(r"\b503 Service Unavailable|\bService Unavailable\b|\bUNAVAILABLE\b"),
    ),
)
# Well-known ports -> what listens there (shown as the dependency of an endpoint).
_PORTS = {
    "5432": "Postgres",
    "3306": "MySQL",
    "6379": "Redis",
    "6380": "Redis",
    "11211": "Memcached",
    "9092": "Kafka",
    "27017": "MongoDB",
    "9200": "Elasticsearch",
    "5672": "RabbitMQ",
    "1433": "SQL Server",
}
# Client-library error classes -> the dependency they talk to.
_LIBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:psycopg2?|asyncpg|pg8000|org\.postgresql|PSQLException)\b"), "Postgres"),
    (re.compile(r"\b(?:pymysql|MySQLdb|mysql\.connector|com\.mysql)\b"), "MySQL"),
    (re.compile(r"\bredis(?:\.exceptions)?\.\w*Error\b|\bioredis\b|ReplyError|Jedis"), "Redis"),
    (re.compile(r"\bgoogle\.api_core\.exceptions\b|googleapis\.com"), "Google API"),
)
_IPV4_PORT = re.compile(r"(?<![\w.])((?:\d{1,3}\.){3}\d{1,3}):(\d{2,5})\b")
_HOST_PORT = re.compile(r"(?<![\w./-])((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*):(\d{2,5})\b", re.I)
_IPV6_PORT = re.compile(r"\[([0-9a-f:]+)\]:(\d{2,5})\b", re.I)
# psycopg2 / libpq: connection to server at "10.40.0.3", port 5432 failed
_LIBPQ = re.compile(r'server at "([^"]+)"(?: \([^)]*\))?, port (\d{2,5})')
_URL = re.compile(r"\bhttps?://([a-z0-9.-]+\.[a-z]{2,}|(?:\d{1,3}\.){3}\d{1,3})", re.I)
# A Cloud SQL connection name (project:region:instance), as in /cloudsql/... sockets.
_CLOUDSQL = re.compile(r"\b[a-z][a-z0-9-]{4,28}[a-z0-9]:[a-z]+-[a-z]+\d:([a-z][a-z0-9-]{0,62})\b")
# An exception class, where a runtime prints one: "pkg.Class: text" or the class alone on a line.
_CLASS = re.compile(
    r"(?<![\w.$])((?:[A-Za-z_][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception|Fault|Failure))(?=:|$)",
    re.M,
)
# Source-file names look like host:port ("app.py:42"): never endpoints.
_CODE_EXT = re.compile(
    r"\.(?:py|js|mjs|cjs|ts|tsx|jsx|go|java|kt|scala|rb|php|cs|rs|c|cc|cpp|h|swift|dart|ex|exs)$",
    re.I,
)
_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


def _endpoint(host: str, port: str) -> Evidence | None:
    if _CODE_EXT.search(host) or not 0 < int(port) < 65536:
        return None
    return Evidence(Kind.ENDPOINT, f"{host.lower()}:{port}")


def evidence(event: ErrorEvent) -> frozenset[Evidence]:
    """What one event says about where it failed. Untrusted text in, typed values out."""
    text = event.message if not event.stack else f"{event.message}\n{event.stack}"
    text = text[:16384]  # the head of a trace names the cause; a huge dump costs regex time
    out: set[Evidence] = set()
    for rx in (_IPV4_PORT, _IPV6_PORT, _LIBPQ, _HOST_PORT):
        for m in rx.finditer(text):
            ev = _endpoint(m.group(1), m.group(2))
            if ev is not None:
                out.add(ev)
    endpoints = [e for e in out if e.kind is Kind.ENDPOINT]
    for e in endpoints:
        name = _PORTS.get(e.value.rsplit(":", 1)[1])
        if name:
            out.add(Evidence(Kind.DEPENDENCY, name))
    for m in _URL.finditer(text):
        out.add(Evidence(Kind.URL_HOST, m.group(1).lower()))
    for m in _CLOUDSQL.finditer(text):
        out.add(Evidence(Kind.DEPENDENCY, f"Cloud SQL {m.group(1)}"))
    for rx, name in _LIBS:
        if rx.search(text):
            out.add(Evidence(Kind.DEPENDENCY, name))
    for name, rx in _FAILURES:
        if rx.search(text):
            out.add(Evidence(Kind.FAILURE, name))
    for m in _CLASS.finditer(text):
        cls = m.group(1)
        short = cls.rsplit(".", 1)[-1]
        kind = Kind.GENERIC_CLASS if short in _GENERIC_CLASSES else Kind.ERROR_CLASS
        out.add(Evidence(kind, cls))
    if event.revision:
        out.add(Evidence(Kind.REVISION, f"{event.service}/{event.revision}"))
    region = _region(event.labels)
    if region:
        out.add(Evidence(Kind.REGION, region))
    return frozenset(out)


def _region(labels: dict[str, str]) -> str | None:
    for key in ("region", "location", "zone"):
        val = labels.get(key)
        if val:
            m = _ZONE.match(val)
            return m.group(1) if m else val
    return None


@dataclass(slots=True)
class GroupEpisode:
    """A group's episode as correlation sees it: who, when it started, what it mentions."""

    group_id: str
    service: str
    title: str
    started: float  # epoch seconds of the episode's first event
    count: int = 0
    # evidence -> how many of the sampled events mention it
    evidence: Counter[Evidence] = field(default_factory=Counter)
    sampled: int = 0

    def add(self, event: ErrorEvent) -> None:
        """Count one more event of this group; the first SAMPLE_EVENTS are read for evidence."""
        self.count += 1
        self.started = min(self.started, event.timestamp)
        if self.sampled < SAMPLE_EVENTS:
            self.sampled += 1
            self.evidence.update(evidence(event))


@dataclass(frozen=True, slots=True)
class Shared:
    """One piece of evidence a candidate's groups share, and which of them mention it."""

    evidence: Evidence
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    groups: tuple[GroupEpisode, ...]  # by start time
    shared: tuple[Shared, ...]  # strongest and most widely shared first

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(g.service for g in self.groups))

    @property
    def started(self) -> float:
        return self.groups[0].started

    @property
    def group_ids(self) -> tuple[str, ...]:
        return tuple(g.group_id for g in self.groups)

    @property
    def cause(self) -> str:
        """The headline cause: the most widely shared strong evidence, with the dependency
        it names when one covers the same groups ("10.40.0.3:5432 (Cloud SQL billing-db)")."""
        if not self.shared:
            return ""
        top = self.shared[0]
        text = top.evidence.describe()
        if top.evidence.kind is not Kind.DEPENDENCY:
            covered = set(top.groups)
            # The dependency named alongside it: a named instance (Cloud SQL billing-db) when
            # some of the same groups name one, else the product its port says (Postgres).
            deps = [
                s
                for s in self.shared
                if s.evidence.kind is Kind.DEPENDENCY and len(covered & set(s.groups)) >= 2
            ]
            deps.sort(
                key=lambda s: (
                    not s.evidence.value.startswith("Cloud SQL"),
                    -len(covered & set(s.groups)),
                    s.evidence.value,
                )
            )
            if deps:
                text += f" ({deps[0].evidence.value})"
        return text

    def evidence_line(self) -> str:
        """ "14 mention 10.40.0.3:5432 (Cloud SQL billing-db); first: invoice-api 03:12:04"."""
        first = self.groups[0]
        head = f"{len(self.shared[0].groups)} mention {self.cause}; " if self.shared else ""
        return f"{head}first: {first.service} {_hms(first.started)}"

    def summary(self) -> str:
        """ "19 new errors in 7 services since 03:12 — 14 mention 10.40.0.3:5432 (Cloud SQL
        billing-db); first: invoice-api 03:12:04". Plain text: the caller escapes it."""
        first = self.groups[0]
        n, s = len(self.groups), len(self.services)
        head = f"{n} new errors in {s} service{'s' if s != 1 else ''} since {_hm(self.started)}"
        if self.shared:
            head += f" — {len(self.shared[0].groups)} mention {self.cause}"
        return f"{head}; first: {first.service} {_hms(first.started)}"


def _hm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def _hms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _link_weight(shared: Iterable[Evidence], region_counts: bool) -> int:
    strong = 0
    where = 0
    for ev in shared:
        w = WEIGHT[ev.kind]
        if ev.kind in _WHERE:
            if ev.kind is Kind.REGION and not region_counts:
                continue
            where = max(where, w)
        else:
            strong += w
    return strong + where


def correlate(
    episodes: Sequence[GroupEpisode],
    window: float = DEFAULT_WINDOW,
    min_groups: int = DEFAULT_MIN_GROUPS,
) -> list[Candidate]:
    """The incident candidates among `episodes` (see the module doc). Deterministic: the
    same episodes give the same candidates in the same order (by start time)."""
    eps = sorted(episodes, key=lambda g: (g.started, g.group_id))
    n = len(eps)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Inverted index: evidence -> the episodes mentioning it; pairs are only built from it,
    # so unrelated groups never cost a comparison.
    by_ev: dict[Evidence, list[int]] = defaultdict(list)
    for i, g in enumerate(eps):
        for ev in g.evidence:
            by_ev[ev].append(i)
    regions = {ev for ev in by_ev if ev.kind is Kind.REGION}
    region_counts = len(regions) > 1
    pair_shared: dict[tuple[int, int], list[Evidence]] = defaultdict(list)
    for ev, idx in by_ev.items():
        for a_pos, a in enumerate(idx):
            for b in idx[a_pos + 1 :]:
                if abs(eps[b].started - eps[a].started) <= window:
                    pair_shared[(a, b)].append(ev)
    for (a, b), shared in pair_shared.items():
        if _link_weight(shared, region_counts) >= LINK_WEIGHT:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        comps[find(i)].append(i)
    out: list[Candidate] = []
    for members in comps.values():
        if len(members) < min_groups:
            continue
        groups = tuple(eps[i] for i in members)
        out.append(Candidate(groups, _shared(groups, region_counts)))
    out.sort(key=lambda c: (c.started, c.group_ids))
    return out


def _shared(groups: Sequence[GroupEpisode], region_counts: bool) -> tuple[Shared, ...]:
    seen: dict[Evidence, list[str]] = defaultdict(list)
    for g in groups:
        for ev in g.evidence:
            seen[ev].append(g.group_id)
    rows = [
        Shared(ev, tuple(ids))
        for ev, ids in seen.items()
        if len(ids) >= 2 and (ev.kind is not Kind.REGION or region_counts)
    ]
    # Most groups first; among equals, the stronger kind, then the more specific (an endpoint
    # before the product behind it), then by value so the order is stable.
    order = list(Kind)
    rows.sort(
        key=lambda s: (
            -len(s.groups),
            -WEIGHT[s.evidence.kind],
            order.index(s.evidence.kind),
            s.evidence.value,
        )
    )
    return tuple(rows)


def episodes_from_events(
    events: Iterable[tuple[str, str, ErrorEvent]],
) -> list[GroupEpisode]:
    """(group id, title, event) triples -> one GroupEpisode per group, in first-seen order."""
    out: dict[str, GroupEpisode] = {}
    for gid, title, ev in events:
        g = out.get(gid)
        if g is None:
            g = out[gid] = GroupEpisode(gid, ev.service, title, ev.timestamp)
        g.add(ev)
    return list(out.values())


def explain(candidates: Sequence[Candidate], episodes: Sequence[GroupEpisode]) -> str:
    """The candidates with their shared evidence, then the groups left on their own."""
    lines: list[str] = []
    inside: set[str] = set()
    for n, c in enumerate(candidates, 1):
        lines.append(f"candidate {n}: {c.summary()}")
        for s in c.shared:
            ev = s.evidence
            lines.append(
                f"  shared {ev.kind.value:<13} {ev.value}  "
                f"({len(s.groups)}/{len(c.groups)} groups, weight {WEIGHT[ev.kind]})"
            )
        for g in c.groups:
            inside.add(g.group_id)
            lines.append(
                f"  group {g.group_id}  {g.service}  {_hms(g.started)}  {g.count}x  {g.title}"
            )
    alone = [g for g in episodes if g.group_id not in inside]
    if alone:
        lines.append(f"on their own: {len(alone)} groups (share no cause with a group nearby)")
        for g in sorted(alone, key=lambda g: (g.started, g.group_id)):
            lines.append(
                f"  group {g.group_id}  {g.service}  {_hms(g.started)}  {g.count}x  {g.title}"
            )
    return "\n".join(lines) + "\n"


def episode_of(
    group_id: str,
    service: str,
    title: str,
    started: float,
    sample: str,
    *,
    revision: str | None = None,
    region: str | None = None,
    count: int = 1,
) -> GroupEpisode:
    """A stored group (its title, sample message and where it runs) as an episode: what the
    notifier correlates, since it holds groups rather than their events."""
    event = ErrorEvent(
        insert_id="",
        timestamp=started,
        severity="ERROR",
        service=service,
        resource_type="",
        revision=revision,
        message=f"{title}\n{sample}" if sample and sample not in title else title,
        labels={"region": region} if region else {},
    )
    g = GroupEpisode(group_id, service, title, started)
    g.add(event)
    g.count = count
    return g
