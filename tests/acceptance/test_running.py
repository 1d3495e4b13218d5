"""README, "Settings" (SLACK_APP_TOKEN: Socket Mode) and "Scaling out" (replicas on one
subscription and one Redis): through `triage-bot serve` processes."""

from __future__ import annotations

import json

from triage_sandbox.errorreporting_standin import ErrorReportingStandIn

from tests.acceptance.harness import config_yaml, log_entry, message_text

SERVICES = ("ledger", "cart", "search", "auth", "mail", "media")


def test_replicas_on_one_subscription_post_every_group_once(start_bot) -> None:
    config = config_yaml()
    first = start_bot(config)
    replicas = [first, start_bot(config, replica_of=first), start_bot(config, replica_of=first)]
    # Several batches, so that every replica pulls some of them.
    for round_ in range(3):
        first.publish([log_entry(svc, "replicated failure") for svc in SERVICES])
        first.publish([log_entry(svc, f"round {round_} only") for svc in SERVICES[:2]])

    def counted() -> bool:
        return sum(r.metrics().get("triage_entries_in_total", 0) for r in replicas) >= 24

    first.wait_until(counted, 15, "24 entries recorded over the three replicas")
    groups = len(SERVICES) + 2  # "round N only": N is a parameter, one group per service
    first.wait_until(lambda: len(first.messages("C0SRE")) >= groups, 10, f"{groups} alerts")
    first.quiet("C0SRE", 1.0)  # no replica posts a group a second time
    texts = [message_text(m) for m in first.messages("C0SRE")]
    for svc in SERVICES:
        assert sum(f"[{svc}] replicated failure" in t for t in texts) == 1, texts
    assert len(texts) == groups, texts
    # every entry counted once, whichever replica pulled it
    total = sum(r.metrics().get("triage_entries_in_total", 0) for r in replicas)
    assert total == 24, total


def test_socket_mode_without_a_public_endpoint(start_bot) -> None:
    bot = start_bot(config_yaml(), env={"SLACK_APP_TOKEN": "xapp-1-A0APP-1-test"})
    bot.wait_until(lambda: bot.slack.socket_connections, 10, "a Socket Mode connection")
    bot.publish([log_entry("api", "acked over the websocket")])
    msg = bot.wait_for_post("C0SRE", lambda m: "acked over the websocket" in str(m))
    deliveries = len(bot.slack.deliveries)
    bot.slack.socket_click_button("C0SRE", msg["ts"], "tb_ack", user_id="U2")
    bot.wait_until(
        lambda: (
            "Acknowledged by <@U2>"
            in message_text(next(m for m in bot.messages("C0SRE") if m["ts"] == msg["ts"]))
        ),
        5,
        "the ack clicked over Socket Mode",
    )
    bot.slack.socket_slash_command("top", user_id="U2", channel_id="C0SRE")
    bot.wait_until(
        lambda: any(
            "acked over the websocket" in json.dumps(r.payload) for r in bot.slack.responses
        ),
        5,
        "the /triage top answer over Socket Mode",
    )
    assert len(bot.slack.deliveries) == deliveries  # nothing came over HTTP


def test_error_reporting_sync_mirrors_slack_actions(start_bot) -> None:
    with ErrorReportingStandIn() as er:
        er.add_group("acceptance-prod", "CNLhp6f0m9zUSg")
        env = {
            "ERROR_REPORTING_SYNC": "true",
            "ERROR_REPORTING_PROJECT": "acceptance-prod",
            "ERROR_REPORTING_ENDPOINT": er.host,
        }
        bot = start_bot(config_yaml(), env=env)
        e = log_entry("payments", "charge declined upstream")
        e["errorGroups"] = [{"id": "CNLhp6f0m9zUSg"}]
        bot.publish([e])
        msg = bot.wait_for_post("C0SRE", lambda m: "charge declined upstream" in str(m))
        bot.click("tb_ack", msg, user="U1")
        bot.wait_until(
            lambda: er.status("acceptance-prod", "CNLhp6f0m9zUSg") == "ACKNOWLEDGED",
            12,
            "the linked Error Reporting group acknowledged",
        )
        bot.click("tb_resolve", bot.messages("C0SRE")[0], user="U1")
        bot.wait_until(
            lambda: er.status("acceptance-prod", "CNLhp6f0m9zUSg") == "RESOLVED",
            12,
            "the linked Error Reporting group resolved",
        )
        bot.terminate()  # before the stand-in goes away
