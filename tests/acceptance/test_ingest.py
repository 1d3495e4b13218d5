"""README, intro, "How grouping works", "Architecture" and "Routing" (fingerprint_rules):
recurrences of one bug form one group (one alert per bug), duplicates count once, custom
fingerprint rules force a fingerprint and title, bad entries are acked, counted and
dead-lettered and never fail their batch. Through `triage-bot serve`."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from triage_sandbox.traffic import BUGS, entry

from bot.store.keys import Keys
from tests.acceptance.harness import config_yaml, count_of, group_id_of, log_entry, message_text


def _count_is(bot, channel: str, text: str, n: int, timeout: float = 8.0):
    def check():
        m = next((m for m in bot.messages(channel) if text in str(m)), None)
        return m if m is not None and count_of(m) == n else None

    return bot.wait_until(check, timeout, f"the alert {text!r} with count {n}")


@pytest.mark.both_backends
def test_recurrences_of_one_bug_are_one_alert(start_bot) -> None:
    bot = start_bot(config_yaml())
    rng = random.Random(7)
    now = time.time()
    # A Go nil-pointer panic: goroutine ids, pointers, line numbers and revisions vary.
    bot.publish([entry(BUGS[0], rng, now - i) for i in range(6)])
    _count_is(bot, "C0SRE", "nil pointer dereference", 6)
    assert len([m for m in bot.messages("C0SRE") if "nil pointer" in str(m)]) == 1


def test_duplicate_deliveries_count_once(start_bot) -> None:
    bot = start_bot(config_yaml())
    once = log_entry("api", "published three times", insert_id="dup-insert-id-1")
    bot.publish([once, once])
    bot.publish([once])
    bot.publish([log_entry("api", "published three times")])  # another occurrence
    _count_is(bot, "C0SRE", "published three times", 2)
    bot.wait_until(lambda: bot.metrics().get("triage_duplicates_total", 0) == 2, 5, "2 dups")


def test_fingerprint_rule_forces_group_and_title(start_bot) -> None:
    rules = """
fingerprint_rules:
  - service: "payments-*"
    message: "upstream connect error|503 Service Unavailable"
    fingerprint: ["upstream", "{{ service }}"]
    title: "Upstream down in {{ service }}"
"""
    bot = start_bot(config_yaml(extra=rules))
    bot.publish(
        [
            log_entry("payments-api", "upstream connect error or disconnect/reset before headers"),
            log_entry("payments-api", "ledger replied 503 Service Unavailable"),
            log_entry("payments-api", "card number failed the Luhn check"),
        ]
    )
    forced = _count_is(bot, "C0SRE", "Upstream down in payments-api", 2)
    assert forced["blocks"][0]["text"]["text"] == "Upstream down in payments-api"
    # an error the rule does not match keeps its own group
    other = bot.wait_for_post("C0SRE", lambda m: "Luhn check" in str(m))
    assert count_of(other) == 1 and other["ts"] != forced["ts"]


def test_bad_entries_are_acked_counted_and_dead_lettered(
    start_bot, redis_url: str, unacked
) -> None:
    bot = start_bot(config_yaml())
    bot.publish(
        [
            b"{this is not json",
            json.dumps({"insertId": "bad-severity", "severity": ["ERROR"]}).encode(),
            json.dumps(log_entry("api", "a good entry beside bad ones")).encode(),
        ]
    )
    # the good one is not held back by the bad ones in its batch
    bot.wait_for_post("C0SRE", lambda m: "a good entry beside bad ones" in message_text(m))
    bot.wait_until(
        lambda: bot.metrics().get("triage_dead_lettered_total") == 2, 5, "2 dead letters"
    )
    client = redis.Redis.from_url(redis_url)
    try:
        kept = [json.loads(x) for x in client.lrange(Keys(bot.prefix).dead_letters(), 0, -1)]
    finally:
        client.close()
    assert len(kept) == 2 and all(k["reason"] for k in kept), kept
    assert {k.get("insert_id") for k in kept} >= {"bad-severity"}, kept
    assert any("{this is not json" in k["raw"] for k in kept), kept
    # Acked: the stand-in holds nothing unacked; elsewhere, nothing comes back after the
    # subscription's 10 s ack deadline.
    if unacked is not None:
        bot.wait_until(lambda: unacked(bot.subscription) == 0, 5, "every message acked")
    else:
        time.sleep(11)
    metrics = bot.metrics()
    assert metrics.get("triage_entries_in_total") == 3, metrics
    assert metrics.get("triage_dead_lettered_total") == 2, metrics


def test_fingerprint_command_gives_the_running_bots_group_ids(start_bot) -> None:
    """README, Commands: `triage-bot fingerprint` is exactly the bot's grouping."""
    bot = start_bot(config_yaml())
    rng = random.Random(11)
    entries = [entry(BUGS[0], rng, time.time()), log_entry("api", "quota exhausted for tenant 7")]
    bot.publish(entries)
    alerts = [
        bot.wait_for_post("C0SRE", lambda m: "nil pointer" in str(m)),
        bot.wait_for_post("C0SRE", lambda m: "quota exhausted" in str(m)),
    ]
    lines = "".join(json.dumps(e) + "\n" for e in entries)
    out = subprocess.run(
        [str(Path(sys.executable).parent / "triage-bot"), "fingerprint", "-"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    printed = dict(line.split("\t") for line in out.strip().splitlines())
    assert printed == {
        e["insertId"]: group_id_of(a) for e, a in zip(entries, alerts, strict=True)
    }, (printed, [group_id_of(a) for a in alerts])
