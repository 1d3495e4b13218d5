"""README, "Routing: who owns an error": destinations are decided when a group's episode
starts, from the entry itself; a reload re-routes the open groups that have no message yet;
groups that already have messages keep their channels until their next episode (a
regression). Through `triage-bot serve`."""

from __future__ import annotations

from tests.acceptance.harness import config_yaml, count_of, group_id_of, log_entry

WAIT = 15.0
TO_PAYMENTS = "- team: payments\n  match: {labels: {env: prod}}\n"
TO_SEARCH = "- team: search\n  match: {labels: {env: prod}}\n"


def test_a_reload_reroutes_a_group_not_yet_posted(start_bot) -> None:
    slow = {"group_wait": "4s"}
    bot = start_bot(config_yaml(TO_PAYMENTS, defaults=slow))
    bot.publish([log_entry("checkout", "waits for its first post", labels={"env": "prod"})])
    # recorded (and routed, to payments) but not posted yet: group_wait holds it
    bot.wait_until(
        lambda: bot.metrics().get("triage_groups_new_total", 0) >= 1, WAIT, "the new group"
    )
    assert bot.slack.calls_for("chat.postMessage") == []
    bot.rewrite_config(config_yaml(TO_SEARCH, defaults=slow))
    bot.sighup()
    bot.wait_for_post(
        "C0SEARCH", lambda m: "waits for its first post" in str(m), WAIT, "the re-routed alert"
    )
    bot.quiet("C0PAYMT", 0)


def test_a_posted_group_keeps_its_channel_until_its_next_episode(start_bot) -> None:
    bot = start_bot(config_yaml(TO_PAYMENTS))
    text = "ledger write timed out"
    bot.publish([log_entry("checkout", text, labels={"env": "prod"})])
    msg = bot.wait_for_post("C0PAYMT", lambda m: text in str(m), WAIT)
    gid = group_id_of(msg)
    assert gid
    bot.rewrite_config(config_yaml(TO_SEARCH))
    bot.sighup()
    bot.wait_until(
        lambda: any("reloaded" in str(line.get("message", "")) for line in bot.logs()),
        WAIT,
        "the reload",
    )
    # a recurrence updates the message where it is; the new route is not posted to
    bot.publish([log_entry("checkout", text, labels={"env": "prod"})])
    bot.wait_for_post("C0PAYMT", lambda m: text in str(m) and count_of(m) == 2, WAIT)
    bot.quiet("C0SEARCH", 0)
    # resolved, then it recurs: a new episode, routed by the config now in force
    assert "resolved" in bot.slash(f"resolve {gid}", channel="C0PAYMT")
    bot.publish([log_entry("checkout", text, labels={"env": "prod"})])
    bot.wait_for_post("C0SEARCH", lambda m: text in str(m), WAIT, "the regression's new route")
