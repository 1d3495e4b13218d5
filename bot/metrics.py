"""Process metrics in Prometheus' text format (served at /metrics). Small and dependency-free."""

from __future__ import annotations

import threading
from collections import defaultdict

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Counter:
    def __init__(self, name: str, help_: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.labels = name, help_, labels
        self._values: dict[tuple[str, ...], float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, n: float = 1, **labels: str) -> None:
        if n:
            key = tuple(labels.get(k, "") for k in self.labels)
            with self._lock:
                self._values[key] += n

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(labels.get(k, "") for k in self.labels), 0.0)

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.labels:
            items = [((), 0.0)]
        for key, v in items:
            lbl = ",".join(f'{k}="{val}"' for k, val in zip(self.labels, key, strict=True))
            out.append(f"{self.name}{{{lbl}}} {v:g}" if lbl else f"{self.name} {v:g}")
        return out


class Histogram:
    def __init__(self, name: str, help_: str) -> None:
        self.name, self.help = name, help_
        self._counts = [0] * (len(_BUCKETS) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, v: float) -> None:
        with self._lock:
            self._sum += v
            for i, b in enumerate(_BUCKETS):
                if v <= b:
                    self._counts[i] += 1
                    break
            else:
                self._counts[-1] += 1

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            acc = 0
            for b, c in zip(_BUCKETS, self._counts, strict=False):
                acc += c
                out.append(f'{self.name}_bucket{{le="{b}"}} {acc}')
            acc += self._counts[-1]
            out.append(f'{self.name}_bucket{{le="+Inf"}} {acc}')
            out.append(f"{self.name}_sum {self._sum:g}")
            out.append(f"{self.name}_count {acc}")
        return out


class Metrics:
    def __init__(self) -> None:
        self.entries_in = Counter("triage_entries_in_total", "Log entries received")
        self.duplicates = Counter("triage_duplicates_total", "Entries already seen (insertId)")
        self.dead_lettered = Counter("triage_dead_lettered_total", "Entries rejected and kept")
        self.groups_new = Counter("triage_groups_new_total", "New alert groups")
        self.groups_regressed = Counter("triage_groups_regressed_total", "Regressed groups")
        self.slack_calls = Counter(
            "triage_slack_calls_total", "Slack Web API calls", ("method", "result")
        )
        self.batch_seconds = Histogram("triage_batch_seconds", "Ingest batch latency")

    def render(self) -> str:
        lines: list[str] = []
        for m in (
            self.entries_in,
            self.duplicates,
            self.dead_lettered,
            self.groups_new,
            self.groups_regressed,
            self.slack_calls,
            self.batch_seconds,
        ):
            lines += m.render()
        return "\n".join(lines) + "\n"


METRICS = Metrics()
