"""README, "Routing": the file is validated at start-up, reloaded on SIGHUP or when it
changes, and a bad new file is refused (the old one stays in force); `defaults:` timings are
part of the config and reload with it. Through `triage-bot serve`.
"""

from __future__ import annotations

import pytest

from tests.acceptance.harness import config_yaml, count_of, log_entry

TO_PAYMENTS = config_yaml("- team: payments\n  match: {service: checkout}\n")
TO_SEARCH = config_yaml("- team: search\n  match: {service: checkout}\n")


def _lands(bot, channel: str, text: str, timeout: float = 10.0) -> None:
    bot.wait_for_post(
        channel, lambda m: text in str(m), timeout, f"the alert {text!r} in {channel}"
    )


@pytest.mark.both_backends
def test_sighup_reloads_routes(start_bot) -> None:
    bot = start_bot(TO_PAYMENTS)
    bot.publish([log_entry("checkout", "before the reload")])
    _lands(bot, "C0PAYMT", "before the reload")
    # Rewritten so that the file watcher cannot notice: only the signal reloads it.
    bot.rewrite_config_unnoticed(TO_SEARCH)
    mark = len(bot.logs())
    bot.sighup()
    bot.wait_for_log("reloaded", 5, after=mark)
    bot.publish([log_entry("checkout", "after the reload")])
    _lands(bot, "C0SEARCH", "after the reload")
    assert not [m for m in bot.messages("C0PAYMT") if "after the reload" in str(m)]


def test_changed_file_reloads_routes(start_bot) -> None:
    bot = start_bot(TO_PAYMENTS)
    bot.publish([log_entry("checkout", "before the edit")])
    _lands(bot, "C0PAYMT", "before the edit")
    mark = len(bot.logs())
    bot.rewrite_config(TO_SEARCH)  # no signal: the watcher sees the new file
    bot.wait_for_log("reloaded", 8, after=mark)
    bot.publish([log_entry("checkout", "after the edit")])
    _lands(bot, "C0SEARCH", "after the edit")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            config_yaml("- team: nobody\n  match: {service: checkout}\n"), id="unknown-team"
        ),
        pytest.param("routes: [\n  - team: {\n", id="not-yaml"),
        pytest.param(config_yaml(defaults={"update_interval": "fast"}), id="bad-duration"),
    ],
)
def test_bad_new_file_is_refused_and_the_old_one_stays(start_bot, bad: str) -> None:
    bot = start_bot(TO_PAYMENTS)
    mark = len(bot.logs())
    bot.rewrite_config(bad)
    bot.sighup()
    refused = bot.wait_for_log("refused, keeping the previous one", 8, after=mark)
    assert refused["severity"] == "ERROR"
    bot.publish([log_entry("checkout", "still routed by the old file")])
    _lands(bot, "C0PAYMT", "still routed by the old file")
    # ... and a good file after the bad one is taken again
    mark = len(bot.logs())
    bot.rewrite_config(TO_SEARCH)
    bot.sighup()
    bot.wait_for_log("reloaded", 8, after=mark)
    bot.publish([log_entry("checkout", "routed by the fixed file")])
    _lands(bot, "C0SEARCH", "routed by the fixed file")


def test_bad_file_at_start_up_stops_the_bot_naming_the_problem(start_bot) -> None:
    bot = start_bot(config_yaml("- team: nobody\n  match: {service: checkout}\n"), run=False)
    code, stderr = bot.run_to_exit()
    assert code == 2, stderr
    # The line of the bad value, its path, what is wrong and how to fix it.
    assert "triage.yml:" in stderr and "routes[0].team" in stderr, stderr
    assert "unknown team 'nobody'" in stderr and "add it under teams" in stderr, stderr


def test_missing_setting_stops_the_bot_naming_it(start_bot) -> None:
    bot = start_bot(None, env={"DEFAULT_CHANNEL": "alerts-without-hash"}, run=False)
    code, stderr = bot.run_to_exit()
    assert code == 2, stderr
    assert "DEFAULT_CHANNEL is invalid" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr  # one line naming it


def test_reload_applies_new_update_interval(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    mark = len(bot.logs())
    bot.rewrite_config(config_yaml(defaults={"update_interval": "1s"}))
    bot.sighup()
    bot.wait_for_log("reloaded", 8, after=mark)
    bot.publish([log_entry("api", "counted after the reload")])
    msg = bot.wait_for_post("C0SRE", lambda m: "counted after the reload" in str(m))
    bot.publish([log_entry("api", "counted after the reload")])
    bot.wait_until(
        lambda: count_of(next(m for m in bot.messages("C0SRE") if m["ts"] == msg["ts"])) == 2,
        4,
        "the count updated within the new 1 s update_interval",
    )


def test_reload_applies_new_escalate_after(start_bot) -> None:
    oncall = "<!subteam^S0SREONCALL>"
    teams = [("oncall", "C0OTHER", oncall)]
    bot = start_bot(
        config_yaml(teams=teams, default_team="oncall", defaults={"escalate_after": "1h"})
    )
    mark = len(bot.logs())
    bot.rewrite_config(
        config_yaml(teams=teams, default_team="oncall", defaults={"escalate_after": "2s"})
    )
    bot.sighup()
    bot.wait_for_log("reloaded", 8, after=mark)
    bot.publish([log_entry("api", "escalated by the new timing")])
    bot.wait_for_post("C0OTHER", lambda m: "escalated by the new timing" in str(m))
    bot.wait_for_reply("C0OTHER", lambda r: oncall in str(r), 8)


def test_reload_applies_new_digest_threshold(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"digest_threshold": "50"}))
    mark = len(bot.logs())
    bot.rewrite_config(config_yaml(defaults={"digest_threshold": "2"}))
    bot.sighup()
    bot.wait_for_log("reloaded", 8, after=mark)
    services = ("one", "two", "three", "four", "five", "six")
    bot.publish([log_entry(f"svc-{s}", "storm after the reload") for s in services])
    bot.wait_for_post("C0SRE", lambda m: "new errors at once" in str(m), 4)
