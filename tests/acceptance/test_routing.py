"""README, "Routing: who owns an error": each way a route can match, first match wins,
`continue: true` fans out, `default_route` takes the rest; through `triage-bot serve`.

Each team posts in a channel of its own (tests/acceptance/harness.py: payments C0PAYMT,
search C0SEARCH, data C0DATA, sre C0SRE = the default route), so where the alert lands says
which route matched. Every test publishes one entry the route must take and one it must not.
"""

from __future__ import annotations

import pytest

from tests.acceptance.harness import config_yaml, log_entry

WAIT = 10.0


def _lands(bot, channel: str, text: str, timeout: float = WAIT) -> None:
    bot.wait_for_post(
        channel, lambda m: text in str(m), timeout, f"the alert {text!r} in {channel}"
    )


def _not_in(bot, channel: str, text: str) -> None:
    assert not [m for m in bot.messages(channel) if text in str(m)], (
        f"{text!r} was posted in {channel}" + bot.output()
    )


@pytest.mark.both_backends
def test_service_exact(start_bot) -> None:
    bot = start_bot(config_yaml("- team: payments\n  match: {service: checkout}\n"))
    bot.publish([log_entry("checkout", "card declined"), log_entry("checkout-v2", "v2 broke")])
    _lands(bot, "C0PAYMT", "card declined")
    _lands(bot, "C0SRE", "v2 broke")  # exact: a longer name is not the same service
    _not_in(bot, "C0PAYMT", "v2 broke")


def test_service_glob(start_bot) -> None:
    bot = start_bot(config_yaml('- team: payments\n  match: {service: "payments-*"}\n'))
    bot.publish([log_entry("payments-api", "ledger locked"), log_entry("search-api", "no shard")])
    _lands(bot, "C0PAYMT", "ledger locked")
    _lands(bot, "C0SRE", "no shard")


def test_service_regex_between_slashes(start_bot) -> None:
    routes = "- team: payments\n  match: {service: '/^(checkout|billing)(-worker)?$/'}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("billing-worker", "invoice stuck"),
            log_entry("billing-workers", "plural is not matched"),
        ]
    )
    _lands(bot, "C0PAYMT", "invoice stuck")
    _lands(bot, "C0SRE", "plural is not matched")


def test_service_regex_key(start_bot) -> None:
    routes = "- team: search\n  match: {service_regex: '^search-(api|indexer)$'}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish([log_entry("search-indexer", "segment corrupt"), log_entry("search-ui", "css")])
    _lands(bot, "C0SEARCH", "segment corrupt")
    _lands(bot, "C0SRE", "css")


def test_resource_type(start_bot) -> None:
    routes = "- team: search\n  match: {resource_type: '/^(cloud_run_job|k8s_container)$/'}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("reindex", "job ran out of memory", resource_type="cloud_run_job"),
            log_entry("reindex", "service timed out", resource_type="cloud_run_revision"),
        ]
    )
    _lands(bot, "C0SEARCH", "job ran out of memory")
    _lands(bot, "C0SRE", "service timed out")


def test_severity_at_or_above(start_bot) -> None:
    bot = start_bot(config_yaml("- team: payments\n  match: {severity: CRITICAL}\n"))
    bot.publish(
        [
            log_entry("api", "exactly critical", severity="CRITICAL"),
            log_entry("api", "above critical", severity="EMERGENCY"),
            log_entry("api", "only an error", severity="ERROR"),
        ]
    )
    _lands(bot, "C0PAYMT", "exactly critical")
    _lands(bot, "C0PAYMT", "above critical")
    _lands(bot, "C0SRE", "only an error")


def test_log_name_by_log_id(start_bot) -> None:
    routes = "- team: data\n  match: {log_name: cloudfunctions.googleapis.com/cloud-functions}\n"
    bot = start_bot(config_yaml(routes))
    fn_log = "projects/acceptance-prod/logs/cloudfunctions.googleapis.com%2Fcloud-functions"
    bot.publish(
        [
            log_entry("loader", "function failed", log_name=fn_log),
            log_entry("loader", "stderr failure"),  # run.googleapis.com/stderr
        ]
    )
    _lands(bot, "C0DATA", "function failed")
    _lands(bot, "C0SRE", "stderr failure")


def test_log_name_by_full_name_glob(start_bot) -> None:
    routes = "- team: data\n  match: {log_name: 'projects/*/logs/batch'}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("loader", "batch failed", log_name="projects/acceptance-prod/logs/batch"),
            log_entry("loader", "other log"),
        ]
    )
    _lands(bot, "C0DATA", "batch failed")
    _lands(bot, "C0SRE", "other log")


def test_labels(start_bot) -> None:
    routes = "- team: payments\n  match: {labels: {env: prod}}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("checkout", "prod is down", labels={"env": "prod"}),
            log_entry("checkout", "staging is down", labels={"env": "staging"}),
        ]
    )
    _lands(bot, "C0PAYMT", "prod is down", 4)
    _lands(bot, "C0SRE", "staging is down")


def test_labels_glob_and_resource_labels(start_bot) -> None:
    # Resource labels count as labels too (entry labels win on a clash).
    routes = "- team: payments\n  match: {labels: {location: 'asia-*', tier: gold}}\n"
    bot = start_bot(config_yaml(routes))
    entry = log_entry("checkout", "gold tier down", labels={"tier": "gold"})
    entry["resource"]["labels"]["location"] = "asia-northeast1"
    bot.publish([entry, log_entry("checkout", "no tier", labels={"tier": "silver"})])
    _lands(bot, "C0PAYMT", "gold tier down", 4)
    _lands(bot, "C0SRE", "no tier")


def test_message_regex(start_bot) -> None:
    routes = "- team: data\n  match: {message: 'BigQuery|quota exceeded for .*dataset'}\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("etl", "quota exceeded for project dataset analytics"),
            log_entry("etl", "disk full"),
        ]
    )
    _lands(bot, "C0DATA", "quota exceeded for project dataset analytics")
    _lands(bot, "C0SRE", "disk full")


def test_every_condition_of_a_match_must_hold(start_bot) -> None:
    routes = "- team: data\n  match:\n    resource_type: cloud_function\n    message: BigQuery\n"
    bot = start_bot(config_yaml(routes))
    bot.publish(
        [
            log_entry("fn", "BigQuery job failed", resource_type="cloud_function"),
            log_entry("svc", "BigQuery in a service", resource_type="cloud_run_revision"),
        ]
    )
    _lands(bot, "C0DATA", "BigQuery job failed")
    _lands(bot, "C0SRE", "BigQuery in a service")


def test_first_match_wins(start_bot) -> None:
    routes = (
        "- team: payments\n  match: {service: 'checkout*'}\n"
        "- team: search\n  match: {service: checkout}\n"
    )
    bot = start_bot(config_yaml(routes))
    bot.publish([log_entry("checkout", "first route takes it")])
    _lands(bot, "C0PAYMT", "first route takes it")
    bot.quiet("C0SEARCH", 1.5)
    bot.quiet("C0SRE", 0)


def test_continue_fans_out(start_bot) -> None:
    routes = (
        "- team: sre\n  match: {severity: CRITICAL}\n  continue: true\n"
        "- team: payments\n  match: {service: checkout}\n"
        "- team: search\n  match: {service: checkout}\n"
    )
    bot = start_bot(config_yaml(routes, default_team="data"))
    bot.publish([log_entry("checkout", "fan out", severity="CRITICAL")])
    _lands(bot, "C0SRE", "fan out")
    _lands(bot, "C0PAYMT", "fan out")
    # payments had no `continue`: the route after it is not tried, nor is the default
    bot.quiet("C0SEARCH", 1.5)
    bot.quiet("C0DATA", 0)


def test_default_route_takes_the_unowned(start_bot) -> None:
    bot = start_bot(
        config_yaml("- team: payments\n  match: {service: checkout}\n", default_team="search")
    )
    bot.publish([log_entry("nobody-owns-me", "orphan error")])
    _lands(bot, "C0SEARCH", "orphan error")


def test_without_a_config_everything_goes_to_default_channel(start_bot) -> None:
    bot = start_bot(None)
    bot.publish([log_entry("checkout", "no config at all")])
    _lands(bot, "C0ALERTS", "no config at all")


def test_fallback_channel_when_the_bot_cannot_post(start_bot) -> None:
    bot = start_bot(
        config_yaml(
            "- team: ghost\n  match: {service: checkout}\n", teams=[("ghost", "C0NOTIN", "")]
        )
    )
    bot.publish([log_entry("checkout", "nobody can see this channel")])
    msg = bot.wait_for_post("C0ALERTS", lambda m: "nobody can see this channel" in str(m), WAIT)
    # The alert says why it is here and how to fix it.
    assert "Could not post to C0NOTIN (not_in_channel)" in str(msg)
    assert "/invite @triage-bot" in str(msg)


def test_team_locale_and_timezone(start_bot) -> None:
    config = config_yaml("- team: data\n  match: {service: loader}\n").replace(
        "  - name: data\n    channel: C0DATA\n",
        "  - name: data\n    channel: C0DATA\n    locale: ja\n    timezone: Asia/Tokyo\n",
    )
    bot = start_bot(config)
    bot.publish([log_entry("loader", "load job failed"), log_entry("other", "english here")])
    ja = bot.wait_for_post("C0DATA", lambda m: "load job failed" in str(m))
    assert "件数" in str(ja) and "未対応" in str(ja) and "JST" in str(ja), ja
    en = bot.wait_for_post("C0SRE", lambda m: "english here" in str(m))
    assert "*Count*" in str(en) and "UTC" in str(en)


def test_without_a_config_the_environment_sets_the_timings(start_bot) -> None:
    bot = start_bot(None, env={"DIGEST_THRESHOLD": "2", "UPDATE_INTERVAL_S": "1"})
    bot.publish([log_entry(f"svc-{name}", "env storm") for name in ("a", "b", "c", "d", "e")])
    bot.wait_for_post("C0ALERTS", lambda m: "new errors at once" in str(m), WAIT)
    assert len(bot.messages("C0ALERTS")) <= 3
