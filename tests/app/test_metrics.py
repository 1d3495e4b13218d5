"""/metrics: Prometheus' text format from prometheus_client, one registry per runtime."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }


def test_label_values_are_escaped_and_read_back_unchanged() -> None:
    metrics = Metrics()
    # A Slack error string is not ours: quotes, backslashes and newlines must not break a line.
    hostile = 'bad"error\\with\nnewline'
    metrics.slack_calls.labels("chat.postMessage", hostile).inc()
    text = metrics.render().decode()
    assert 'result="bad\\"error\\\\with\\nnewline"' in text
    samples = _samples(metrics)
    key = ("triage_slack_calls_total", (("method", "chat.postMessage"), ("result", hostile)))
    assert samples[key] == 1.0


def test_every_metric_keeps_its_name_and_counts_start_at_zero() -> None:
    metrics = Metrics()
    samples = _samples(metrics)
    for name in (
        "triage_entries_in_total",
        "triage_duplicates_total",
        "triage_dead_lettered_total",
        "triage_groups_new_total",
        "triage_groups_regressed_total",
        "triage_batch_seconds_count",
        "triage_batch_seconds_sum",
    ):
        assert samples[(name, ())] == 0.0, name
    assert not any(name.endswith("_created") for name, _ in samples)
    metrics.batch_seconds.observe(0.003)
    samples = _samples(metrics)
    assert samples[("triage_batch_seconds_bucket", (("le", "0.0025"),))] == 0.0
    assert samples[("triage_batch_seconds_bucket", (("le", "0.005"),))] == 1.0


def test_two_runtimes_count_apart() -> None:
    a, b = Metrics(), Metrics()
    a.entries_in.inc(3)
    assert a.value("triage_entries_in_total") == 3
    assert b.value("triage_entries_in_total") == 0
    assert b.value("triage_slack_calls_total", method="chat.update", result="ok") == 0
