"""README, "In Slack": one message per group, counts coalesced, human actions at once, the
buttons, thread replies for notable events (regression, escalation, new revision), snooze
wake-up, digests under a storm; through `triage-bot serve`.

Timings are seconds here (the config's `defaults:`); every wait has a deadline.
"""

from __future__ import annotations

import time

from tests.acceptance.harness import config_yaml, count_of, group_id_of, log_entry, message_text

ONCALL = "<!subteam^S0PAYONCALL>"


def _alert(bot, channel: str, text: str, timeout: float = 10.0):
    return bot.wait_for_post(channel, lambda m: text in str(m), timeout, f"the alert {text!r}")


def _shows(bot, channel: str, ts: str, text: str, timeout: float = 10.0):
    def now_shows():
        m = next((m for m in bot.messages(channel) if m["ts"] == ts), None)
        return m if m is not None and text in message_text(m) else None

    return bot.wait_until(now_shows, timeout, f"message {ts} in {channel} showing {text!r}")


def _updates_of(bot, ts: str) -> list:
    return [c for c in bot.slack.calls_for("chat.update") if c.args.get("ts") == ts and c.ok]


def test_one_message_per_group_counts_coalesced(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "2s"}))
    bot.publish([log_entry("api", "db connection reset")])
    msg = _alert(bot, "C0SRE", "db connection reset")
    assert count_of(msg) == 1
    text = message_text(msg)
    # the card: service and revision, state, sparklines, a link to Logs Explorer, the buttons
    assert "api (api-00001-abc)" in text and ":red_circle: Open" in text, text
    assert "Last hour" in text and "last 24 h" in text, text
    assert "console.cloud.google.com/logs/query" in text, text
    assert {"Acknowledge", "Resolve", "Snooze", "Assign"} <= set(text.splitlines()), text
    posted_at = time.time()
    for _ in range(5):  # five recurrences in five batches, all within one update_interval
        bot.publish([log_entry("api", "db connection reset")])
        time.sleep(0.1)
    bot.wait_until(
        lambda: count_of(next(m for m in bot.messages("C0SRE") if m["ts"] == msg["ts"])) == 6,
        10,
        "the count 6 on the alert",
    )
    updates = _updates_of(bot, msg["ts"])
    # One update for the five, and not before update_interval after the post.
    assert len(updates) == 1, updates
    assert updates[0].time - posted_at >= 1.5
    # Recurrences never post a second alert.
    assert len([m for m in bot.messages("C0SRE") if "db connection reset" in str(m)]) == 1


def test_group_wait_delays_the_first_post(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"group_wait": "2s"}))
    started = time.time()
    for _ in range(3):
        bot.publish([log_entry("api", "burst of one bug")])
        time.sleep(0.2)
    msg = _alert(bot, "C0SRE", "burst of one bug")
    post = next(c for c in bot.slack.calls_for("chat.postMessage") if c.ok)
    assert post.time - started >= 1.5
    assert count_of(msg) == 3  # the burst lands in one message with its count


def test_acknowledge_button_shows_at_once(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    bot.publish([log_entry("api", "ack me")])
    msg = _alert(bot, "C0SRE", "ack me")
    clicked = time.monotonic()
    bot.click("tb_ack", msg, user="U1")
    shown = _shows(bot, "C0SRE", msg["ts"], "Acknowledged by <@U1>", timeout=5)
    assert time.monotonic() - clicked < 3  # human actions show at once, not after 1 h
    # the buttons follow the state: Unacknowledge instead of Acknowledge
    assert "tb_unack" in str(shown["blocks"]) and '"tb_ack"' not in str(shown["blocks"])
    bot.click("tb_unack", shown, user="U2")
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def test_resolve_and_reopen_buttons(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    bot.publish([log_entry("api", "resolve me")])
    msg = _alert(bot, "C0SRE", "resolve me")
    bot.click("tb_resolve", msg, user="U2")
    resolved = _shows(bot, "C0SRE", msg["ts"], "Resolved by <@U2>", timeout=5)
    bot.click("tb_reopen", resolved, user="U2")
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def test_snooze_menu_and_unsnooze_button(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    bot.publish([log_entry("api", "snooze me")])
    msg = _alert(bot, "C0SRE", "snooze me")
    bot.select("tb_snooze", msg, "1h", user="U1")
    snoozed = _shows(bot, "C0SRE", msg["ts"], "Snoozed by <@U1> until", timeout=5)
    bot.click("tb_unsnooze", snoozed, user="U1")
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def test_assign_select(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    bot.publish([log_entry("api", "assign me")])
    msg = _alert(bot, "C0SRE", "assign me")
    bot.select_user("tb_assign", msg, "U2", user="U1")
    shown = _shows(bot, "C0SRE", msg["ts"], "<@U2>", timeout=5)
    assert "Assignee" in message_text(shown)


def test_count_snooze_wakes_after_n_occurrences(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "noisy but known")])
    msg = _alert(bot, "C0SRE", "noisy but known")
    gid = group_id_of(msg)
    answer = bot.slash(f"snooze {gid} 10x", user="U1")
    assert "snoozed" in answer.lower(), answer
    _shows(bot, "C0SRE", msg["ts"], "for 10 more occurrences", timeout=5)
    bot.publish([log_entry("api", "noisy but known") for _ in range(9)])
    bot.wait_until(
        lambda: bot.metrics().get("triage_entries_in_total", 0) >= 10, 5, "the nine recorded"
    )
    time.sleep(1.5)  # several notifier passes: a snoozed group stays quiet
    assert not [r for r in msg_replies(bot, msg) if "Snooze ended" in str(r)]
    bot.publish([log_entry("api", "noisy but known")])  # the tenth
    reply = bot.wait_for_reply("C0SRE", lambda r: "Snooze ended: alerting again" in str(r))
    assert reply["thread_ts"] == msg["ts"]
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def test_timed_snooze_wakes_up_when_it_ends(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"update_interval": "1h"}))
    bot.publish([log_entry("api", "quiet for two seconds")])
    msg = _alert(bot, "C0SRE", "quiet for two seconds")
    snoozed_at = time.time()
    assert "snoozed" in bot.slash(f"snooze {group_id_of(msg)} 2s", user="U1").lower()
    _shows(bot, "C0SRE", msg["ts"], "Snoozed by <@U1> until", timeout=5)
    # Even if the error never recurs, the end of the snooze is shown: a thread reply and the
    # message back to Open.
    reply = bot.wait_for_reply("C0SRE", lambda r: "Snooze ended: alerting again" in str(r), 8)
    assert float(reply["ts"]) - snoozed_at >= 1.5
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def msg_replies(bot, msg):
    return next(m for m in bot.messages(msg["channel"]) if m["ts"] == msg["ts"])["replies"]


def test_regression_after_resolve(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "fixed, supposedly")])
    msg = _alert(bot, "C0SRE", "fixed, supposedly")
    bot.click("tb_resolve", msg, user="U2")
    _shows(bot, "C0SRE", msg["ts"], "Resolved by <@U2>", timeout=5)
    bot.publish([log_entry("api", "fixed, supposedly")])
    reply = bot.wait_for_reply("C0SRE", lambda r: "Regressed: seen again" in str(r))
    assert reply["thread_ts"] == msg["ts"] and "resolved by <@U2>" in message_text(reply)
    _shows(bot, "C0SRE", msg["ts"], "Regressed at", timeout=5)
    # The same message is reopened; a regression is not a new alert.
    assert len([m for m in bot.messages("C0SRE") if "fixed, supposedly" in str(m)]) == 1
    # ... and shown in the channel too (a regression reply is broadcast)
    post = next(c for c in bot.slack.calls_for("chat.postMessage") if "Regressed" in str(c.args))
    assert post.args.get("reply_broadcast") in (True, "true", "1")
    # ... and counted: /triage stats
    assert "*api*: 2 errors · 1 new groups · 1 regressions" in bot.slash("stats api")


def test_new_revision_thread_reply(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "still broken", revision="api-00001-abc")])
    msg = _alert(bot, "C0SRE", "still broken")
    bot.publish([log_entry("api", "still broken", revision="api-00002-xyz")])
    reply = bot.wait_for_reply("C0SRE", lambda r: "api-00002-xyz" in str(r))
    assert reply["thread_ts"] == msg["ts"]
    assert "A new revision started throwing this" in message_text(reply)


def test_escalation_mentions_oncall_then_repeats(start_bot) -> None:
    config = config_yaml(
        "- team: pay\n  match: {service: checkout}\n",
        teams=[("pay", "C0PAYMT", ONCALL)],
        defaults={"escalate_after": "1s", "repeat_interval": "2s"},
    )
    bot = start_bot(config)
    bot.publish([log_entry("checkout", "nobody looks at me")])
    msg = _alert(bot, "C0PAYMT", "nobody looks at me")
    posted = time.time()
    first = bot.wait_for_reply("C0PAYMT", lambda r: ONCALL in str(r), timeout=8)
    assert first["thread_ts"] == msg["ts"] and "still unacknowledged" in message_text(first)
    assert float(first["ts"]) - posted >= 0.8  # not before escalate_after
    bot.wait_until(
        lambda: len([r for r in msg_replies(bot, msg) if ONCALL in str(r)]) >= 2,
        8,
        "the repeated escalation",
    )
    replies = [r for r in msg_replies(bot, msg) if ONCALL in str(r)]
    assert float(replies[1]["ts"]) - float(replies[0]["ts"]) >= 1.8  # repeat_interval


def test_acknowledged_group_does_not_escalate(start_bot) -> None:
    config = config_yaml(
        "- team: pay\n  match: {service: checkout}\n",
        teams=[("pay", "C0PAYMT", ONCALL)],
        defaults={"escalate_after": "2s"},
    )
    bot = start_bot(config)
    bot.publish([log_entry("checkout", "someone is on it")])
    msg = _alert(bot, "C0PAYMT", "someone is on it")
    bot.click("tb_ack", msg, user="U1")
    _shows(bot, "C0PAYMT", msg["ts"], "Acknowledged by <@U1>", timeout=5)
    time.sleep(2.5)  # past escalate_after after the post, five notifier passes
    assert not [r for r in msg_replies(bot, msg) if ONCALL in str(r)], bot.output()


def test_route_overrides_escalate_after(start_bot) -> None:
    config = config_yaml(
        "- team: pay\n  match: {service: checkout}\n  escalate_after: 1s\n"
        "- team: slow\n  match: {service: search}\n",
        teams=[("pay", "C0PAYMT", ONCALL), ("slow", "C0SEARCH", "<!subteam^S0SLOW>")],
        defaults={"escalate_after": "1h"},
    )
    bot = start_bot(config)
    bot.publish([log_entry("checkout", "route says 2s"), log_entry("search", "default says 1h")])
    bot.wait_for_reply("C0PAYMT", lambda r: ONCALL in str(r), timeout=8)
    assert not bot.messages("C0SEARCH")[0]["replies"]


SERVICES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def test_digest_when_more_new_groups_than_threshold(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"digest_threshold": "3"}))
    bot.publish([log_entry(svc, "storm of new errors") for svc in SERVICES])

    def all_visible():
        text = "\n".join(message_text(m) for m in bot.messages("C0SRE"))
        return all(svc in text for svc in SERVICES)

    bot.wait_until(all_visible, 10, "all 8 groups visible in C0SRE")
    time.sleep(1)  # a few notifier passes: nothing else is posted
    messages = bot.messages("C0SRE")
    digests = [m for m in messages if "new errors at once" in message_text(m)]
    assert len(digests) == 1, [message_text(m)[:80] for m in messages]
    # a storm costs its own messages up to the threshold, then ONE digest for the rest
    assert len(messages) <= 3 + 1, [message_text(m)[:80] for m in messages]
    listed = message_text(digests[0])
    assert sum(svc in listed for svc in SERVICES) >= len(SERVICES) - 3
