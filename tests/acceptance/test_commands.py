"""README, "`/triage`": top, show, search, stats, acting by id, --share, subscriptions; answers
are ephemeral. Typed as signed slash commands to `triage-bot serve`."""

from __future__ import annotations

from tests.acceptance.harness import config_yaml, count_of, group_id_of, log_entry, message_text

BUGS = [("checkout", "card declined by issuer", 5), ("search-api", "shard unavailable", 2)]


def _two_groups(start_bot):
    bot = start_bot(config_yaml())
    entries = [log_entry(svc, msg) for svc, msg, n in BUGS for _ in range(n)]
    bot.publish(entries)
    alerts = {}
    for svc, msg, _n in BUGS:
        alerts[svc] = bot.wait_for_post("C0SRE", lambda m, msg=msg: msg in str(m))
    bot.wait_until(lambda: bot.metrics().get("triage_entries_in_total", 0) >= 7, 5)
    return bot, alerts


def _last_answer(bot):
    return bot.slack.responses[-1]


def test_top_ranks_groups_by_count(start_bot) -> None:
    bot, _ = _two_groups(start_bot)
    answer = bot.slash("top")
    assert "Top errors" in answer
    assert answer.index("card declined by issuer") < answer.index("shard unavailable"), answer
    assert _last_answer(bot).effect == "ephemeral"
    # scoped to one service and a window
    scoped = bot.slash("top search-api 1h")
    assert "shard unavailable" in scoped and "card declined" not in scoped, scoped


def test_show_gives_the_full_card(start_bot) -> None:
    bot, alerts = _two_groups(start_bot)
    gid = group_id_of(alerts["checkout"])
    bot.slash(f"ack {gid}", user="U2")
    answer = bot.slash(f"show {gid}")
    assert "card declined by issuer" in answer and "(peak 5/h)" in answer, answer
    assert "checkout-00001-abc" in answer, answer  # the revisions it was seen in
    timeline = answer[answer.index("Timeline") :]
    assert "<@U2>" in timeline, answer  # who did what, when
    unknown = bot.slash("show fp1-0000000000000000")
    assert "fp1-0000000000000000" in unknown, unknown


def test_search_finds_by_title_or_service(start_bot) -> None:
    bot, _ = _two_groups(start_bot)
    by_title = bot.slash("search declined")
    assert "card declined by issuer" in by_title and "shard unavailable" not in by_title
    by_service = bot.slash("search search-api")
    assert "shard unavailable" in by_service and "card declined" not in by_service
    assert "No group matches" in bot.slash("search zebra-unicorn")


def test_stats_counts_errors_per_service(start_bot) -> None:
    bot, _ = _two_groups(start_bot)
    answer = bot.slash("stats")
    assert "*checkout*: 5 errors · 1 new groups · 0 regressions" in answer, answer
    assert "*search-api*: 2 errors · 1 new groups" in answer, answer


def test_share_posts_the_answer_in_the_channel(start_bot) -> None:
    bot, _ = _two_groups(start_bot)
    bot.slash("top --share", channel="C0OTHER")
    assert _last_answer(bot).effect == "posted"
    bot.wait_for_post("C0OTHER", lambda m: "card declined by issuer" in message_text(m), 5)


def test_act_by_id_updates_the_alert(start_bot) -> None:
    bot, alerts = _two_groups(start_bot)
    msg = alerts["checkout"]
    gid = group_id_of(msg)
    assert "acknowledged" in bot.slash(f"ack {gid}", user="U2")

    def shows(text):
        return lambda: (
            text in message_text(next(m for m in bot.messages("C0SRE") if m["ts"] == msg["ts"]))
        )

    bot.wait_until(shows("Acknowledged by <@U2>"), 5, "the ack on the alert")
    assert "resolved" in bot.slash(f"resolve {gid}", user="U2")
    bot.wait_until(shows("Resolved by <@U2>"), 5, "the resolve on the alert")
    bot.slash(f"reopen {gid}", user="U1")
    bot.wait_until(shows(":red_circle: Open"), 5, "the reopen on the alert")
    bot.slash(f"snooze {gid} 1h", user="U1")
    bot.wait_until(shows("Snoozed by <@U1> until"), 5, "the snooze on the alert")
    bot.slash(f"unsnooze {gid}", user="U1")
    bot.wait_until(shows(":red_circle: Open"), 5, "the unsnooze on the alert")
    # a bad duration says what is wrong and what to type
    assert "is not a duration: use e.g. 30m" in bot.slash(f"snooze {gid} soon")


def test_unknown_subcommand_answers_with_help(start_bot) -> None:
    bot = start_bot(config_yaml())
    answer = bot.slash("frobnicate")
    assert "Unknown subcommand `frobnicate`" in answer and "top [service]" in answer


def test_subscribe_posts_in_the_subscribed_channel_too(start_bot) -> None:
    bot = start_bot(config_yaml("- team: payments\n  match: {service: 'payments-*'}\n"))
    answer = bot.slash("subscribe payments-* <#C0OTHER>", channel="C0OTHER")
    assert "Subscribed" in answer and "payments-*" in answer, answer
    assert "payments-*" in bot.slash("subscriptions", channel="C0OTHER")
    bot.publish([log_entry("payments-api", "ledger out of balance")])
    owner = bot.wait_for_post("C0PAYMT", lambda m: "ledger out of balance" in str(m))
    follower = bot.wait_for_post("C0OTHER", lambda m: "ledger out of balance" in str(m))
    # an ack in any of them updates all
    bot.click("tb_ack", follower, user="U2")
    for channel, msg in (("C0PAYMT", owner), ("C0OTHER", follower)):
        bot.wait_until(
            lambda channel=channel, msg=msg: (
                "Acknowledged by <@U2>"
                in message_text(next(m for m in bot.messages(channel) if m["ts"] == msg["ts"]))
            ),
            5,
            f"the ack shown in {channel}",
        )
    assert "no longer follows" in bot.slash("unsubscribe payments-*", channel="C0OTHER")
    bot.publish([log_entry("payments-api", "second bug after unsubscribe")])
    bot.wait_for_post("C0PAYMT", lambda m: "second bug after unsubscribe" in str(m))
    bot.quiet("C0OTHER", 1.0)


def test_subscription_with_severity_takes_only_that_and_above(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.slash("subscribe checkout C0OTHER CRITICAL", channel="C0ALERTS")
    bot.publish(
        [
            log_entry("checkout", "only an error", severity="ERROR"),
            log_entry("checkout", "critical one", severity="CRITICAL"),
            log_entry("checkout", "an alert", severity="ALERT"),
        ]
    )
    bot.wait_for_post("C0OTHER", lambda m: "critical one" in str(m))
    bot.wait_for_post("C0OTHER", lambda m: "an alert" in str(m))
    bot.wait_for_post("C0SRE", lambda m: "only an error" in str(m))  # still with its owner
    assert not [m for m in bot.messages("C0OTHER") if "only an error" in str(m)]


def test_app_home_lists_the_open_groups(start_bot) -> None:
    bot, alerts = _two_groups(start_bot)
    bot.click("tb_resolve", alerts["search-api"], user="U1")
    bot.wait_until(
        lambda: (
            "Resolved by"
            in message_text(
                next(m for m in bot.messages("C0SRE") if m["ts"] == alerts["search-api"]["ts"])
            )
        ),
        5,
        "the resolve",
    )
    status, _ = bot.slack.open_app_home(bot.events_url, "U2")
    assert status == 200
    home = bot.wait_until(lambda: bot.slack.home_view("U2"), 5, "the Home tab published")
    text = message_text(home)
    assert "card declined by issuer" in text and "shard unavailable" not in text, text


def test_a_new_subscription_applies_to_open_groups_at_their_next_update(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([log_entry("billing", "invoice render failed")])
    bot.wait_for_post("C0SRE", lambda m: "invoice render failed" in str(m))
    bot.slash("subscribe billing", channel="C0OTHER")
    bot.quiet("C0OTHER", 1.0)  # read when a message is posted or updated, not at once
    bot.publish([log_entry("billing", "invoice render failed")])
    follower = bot.wait_for_post("C0OTHER", lambda m: "invoice render failed" in str(m))
    assert count_of(follower) == 2
