"""README, "Snoozes and resolves": through `triage-bot serve`.

A snooze scoped to env=staging still alerts for env=prod; "until escalating" (a command or the
Snooze menu) wakes on 5x the rate before the snooze; a group with no event for
`auto_resolve_after` resolves itself and a later event is a regression; "resolve next" holds
until a new revision throws it; an acknowledged group that keeps firing reminds its
acknowledger once per `ack_timeout`.
Timings are seconds here; every wait has a deadline."""

from __future__ import annotations

import time

from tests.acceptance.harness import config_yaml, group_id_of, log_entry, message_text


def _alert(bot, channel: str, text: str, timeout: float = 10.0):
    return bot.wait_for_post(channel, lambda m: text in str(m), timeout, f"the alert {text!r}")


def _shows(bot, channel: str, ts: str, text: str, timeout: float = 10.0):
    def now_shows():
        m = next((m for m in bot.messages(channel) if m["ts"] == ts), None)
        return m if m is not None and text in message_text(m) else None

    return bot.wait_until(now_shows, timeout, f"message {ts} showing {text!r}")


def _replies(bot, msg) -> list:
    return next(m for m in bot.messages(msg["channel"]) if m["ts"] == msg["ts"])["replies"]


def _recorded(bot, n: int) -> None:
    bot.wait_until(
        lambda: bot.metrics().get("triage_entries_in_total", 0) >= n, 10, f"{n} entries recorded"
    )


def test_snooze_scoped_to_staging_still_alerts_for_prod(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "cache miss storm", labels={"env": "staging"})])
    msg = _alert(bot, "C0SRE", "cache miss storm")
    gid = group_id_of(msg)
    answer = bot.slash(f"snooze {gid} env=staging", user="U1")
    assert "snoozed" in answer.lower(), answer
    _shows(bot, "C0SRE", msg["ts"], "only env=staging", timeout=5)
    bot.publish([log_entry("api", "cache miss storm", labels={"env": "staging"}) for _ in range(3)])
    _recorded(bot, 4)
    time.sleep(1.5)  # several notifier passes: staging stays quiet
    assert not [r for r in _replies(bot, msg) if "Snooze ended" in str(r)]
    bot.publish([log_entry("api", "cache miss storm", labels={"env": "prod"})])
    reply = bot.wait_for_reply("C0SRE", lambda r: "Snooze ended" in str(r))
    assert "outside its scope (env=staging)" in message_text(reply)
    _shows(bot, "C0SRE", msg["ts"], ":red_circle: Open", timeout=5)


def test_until_escalating_wakes_on_five_times_the_rate(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "slow drip") for _ in range(2)])
    msg = _alert(bot, "C0SRE", "slow drip")
    _recorded(bot, 2)
    answer = bot.slash(f"snooze {group_id_of(msg)} escalating", user="U1")
    assert "snoozed" in answer.lower(), answer
    _shows(bot, "C0SRE", msg["ts"], "until escalating (5×", timeout=5)
    bot.publish([log_entry("api", "slow drip") for _ in range(9)])  # 4.5x the 2 before
    _recorded(bot, 11)
    time.sleep(1.5)
    assert not [r for r in _replies(bot, msg) if "Snooze ended" in str(r)]
    bot.publish([log_entry("api", "slow drip")])  # the tenth since: 5x
    reply = bot.wait_for_reply("C0SRE", lambda r: "Snooze ended" in str(r))
    assert "escalating, 5× the rate before the snooze" in message_text(reply)


def test_the_snooze_menu_offers_until_escalating(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "menu drip")])
    msg = _alert(bot, "C0SRE", "menu drip")
    bot.select("tb_snooze", msg, "esc", user="U1")
    _shows(bot, "C0SRE", msg["ts"], "Snoozed by <@U1> until escalating (5×", timeout=5)


def test_auto_resolve_then_regression(start_bot) -> None:
    config = config_yaml(
        "- team: payments\n  match: {service: checkout}\n  auto_resolve_after: 3s\n"
    )
    bot = start_bot(config)
    bot.publish([log_entry("checkout", "transient upstream 502")])
    msg = _alert(bot, "C0PAYMT", "transient upstream 502")
    started = time.time()
    _shows(bot, "C0PAYMT", msg["ts"], "Resolved automatically", timeout=15)
    assert time.time() - started >= 2.5  # not before auto_resolve_after
    answer = bot.slash(f"show {group_id_of(msg)}", channel="C0PAYMT")
    assert "resolved automatically" in answer.lower(), answer  # the timeline says so
    bot.publish([log_entry("checkout", "transient upstream 502")])
    reply = bot.wait_for_reply("C0PAYMT", lambda r: "Regressed" in str(r))
    assert "after it resolved itself" in message_text(reply)
    _shows(bot, "C0PAYMT", msg["ts"], "Regressed at", timeout=5)


def test_resolve_next_release_holds_until_a_new_revision(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("api", "fixed in the next deploy", revision="api-00007-old")])
    msg = _alert(bot, "C0SRE", "fixed in the next deploy")
    answer = bot.slash(f"resolve {group_id_of(msg)} next", user="U2")
    assert "resolved" in answer.lower(), answer
    _shows(bot, "C0SRE", msg["ts"], "Resolved in the next release by <@U2>", timeout=5)
    bot.publish([log_entry("api", "fixed in the next deploy", revision="api-00007-old")])
    _recorded(bot, 2)
    time.sleep(1.5)
    assert not [r for r in _replies(bot, msg) if "Regressed" in str(r)]
    bot.publish([log_entry("api", "fixed in the next deploy", revision="api-00008-new")])
    reply = bot.wait_for_reply("C0SRE", lambda r: "Regressed" in str(r))
    assert "api-00008-new" in message_text(reply)


def test_ack_reminder_once_per_period(start_bot) -> None:
    config = config_yaml(
        "- team: payments\n  match: {service: checkout}\n",
        defaults={"ack_timeout": "4s"},
    )
    bot = start_bot(config)
    bot.publish([log_entry("checkout", "keeps failing after ack")])
    msg = _alert(bot, "C0PAYMT", "keeps failing after ack")
    clicked = time.time()  # the ack is stamped after this, so a reminder comes >= 4 s later
    bot.click("tb_ack", msg, user="U1")
    _shows(bot, "C0PAYMT", msg["ts"], "Acknowledged by <@U1>", timeout=5)

    def reminders() -> list[dict]:
        return [r for r in _replies(bot, msg) if "you acknowledged this" in str(r)]

    # It keeps firing, twice a second, until the second reminder shows (a load-slowed
    # notifier only shifts when a reminder is posted, never how many there are).
    sent = 0
    deadline = time.time() + 30
    while len(reminders()) < 2 and time.time() < deadline:
        bot.publish([log_entry("checkout", "keeps failing after ack")])
        sent += 1
        time.sleep(0.5)
    assert sent >= 8, sent  # 8 s of entries at the least: many entries, two reminders
    time.sleep(2.0)
    shown = reminders()
    assert len(shown) == 2, shown  # once per period, not once per entry
    assert all("<@U1>" in message_text(r) for r in shown)
    assert float(shown[0]["ts"]) - clicked >= 3.9
