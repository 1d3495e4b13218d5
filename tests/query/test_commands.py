"""Each /triage subcommand as a signed slash command from the Slack stand-in; assert the answer."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from triage_sandbox.running import running_bot
from triage_sandbox.slack_standin import SlackStandIn
from triage_sandbox.traffic import BUGS, entry

from bot.app import Runtime

SECRET = "query-signing-secret-01"


@pytest.fixture
def env(redis_url: str, key_prefix: str) -> Iterator[tuple[Runtime, SlackStandIn, str]]:
    with (
        SlackStandIn(SECRET, "xoxb-q") as slack,
        running_bot(slack, redis_url, key_prefix) as (
            rt,
            url,
        ),
    ):
        rng = random.Random(5)
        now = time.time()
        payloads = [json.dumps(entry(BUGS[0], rng, now - 30 + i)).encode() for i in range(7)]
        payloads += [json.dumps(entry(BUGS[3], rng, now - 20 + i)).encode() for i in range(3)]
        rt.pipeline.process(payloads)
        rt.notifier.run_once()
        yield rt, slack, url


def ask(slack: SlackStandIn, url: str, text: str, channel: str = "C0ALERTS") -> dict[str, Any]:
    before = len(slack.responses)
    status, _ = slack.send_slash_command(url, "/triage", text, "U1", channel)
    assert status == 200
    assert slack.wait_for(lambda: len(slack.responses) > before, timeout=10), text
    resp = slack.responses[-1]
    return {
        "payload": resp.payload,
        "effect": resp.effect,
        "text": json.dumps(resp.payload, ensure_ascii=False),
    }


def gids(rt: Runtime) -> list[str]:
    return [g.group.id for g in rt.deps.history.top(time.time(), "1h")]


def test_top_ranks_groups_by_count_with_state(env) -> None:
    _, slack, url = env
    r = ask(slack, url, "top")
    assert r["effect"] == "ephemeral"
    sections = [b["text"]["text"] for b in r["payload"]["blocks"] if b["type"] == "section"]
    assert "*7*" in sections[0].splitlines()[0] and "nil pointer" in sections[0].splitlines()[0]
    assert "*3*" in sections[0] and "KeyError" in sections[0]
    r = ask(slack, url, "top ocr/ocr-pipeline 1h")
    assert "KeyError" in r["text"] and "nil pointer" not in r["text"]


def test_show_gives_the_full_card(env) -> None:
    rt, slack, url = env
    gid = gids(rt)[0]
    rt.deps.lifecycle.act(gid, "acknowledge", "U2")
    r = ask(slack, url, f"show {gid}")
    assert "orders-api" in r["text"] and "Timeline" in r["text"] and "acknowledge" in r["text"]
    assert "<@U2>" in r["text"] and "orders-api-00043-kx2" in r["text"]
    assert gid in r["text"] and "console.cloud.google.com/logs/query" in r["text"]


def test_search_and_stats(env) -> None:
    _, slack, url = env
    r = ask(slack, url, "search keyerror")
    assert "KeyError" in r["text"] and "nil pointer" not in r["text"]
    r = ask(slack, url, "search nothing-like-this")
    assert "No group matches" in r["text"]
    r = ask(slack, url, "stats")
    assert "*orders-api*: 7 errors · 1 new groups" in r["text"]
    assert "*ocr/ocr-pipeline*: 3 errors" in r["text"]


def test_subscribe_routes_new_alerts_to_the_channel(env) -> None:
    rt, slack, url = env
    slack.add_channel("C0PAY", "payments-alerts")
    r = ask(slack, url, "subscribe payments* <#C0PAY|payments-alerts>")
    assert "Subscribed <#C0PAY> to `payments*`" in r["text"]
    r = ask(slack, url, "subscriptions C0PAY")
    assert "`payments*`" in r["text"]
    rt.pipeline.process([json.dumps(entry(BUGS[5], random.Random(9), time.time())).encode()])
    rt.notifier.run_once()
    assert len(slack.messages("C0PAY")) == 1
    assert len([m for m in slack.messages("C0ALERTS") if "payments" in m.get("text", "")]) == 1
    r = ask(slack, url, "unsubscribe payments* C0PAY")
    assert "no longer follows" in r["text"]


def test_subscribe_severity_names_are_not_channel_ids(env) -> None:
    # "CRITICAL" has the shape of a channel id (C + capitals): it is the severity.
    _rt, slack, url = env
    slack.add_channel("C0PAY", "payments-alerts")
    r = ask(slack, url, "subscribe payments* C0PAY CRITICAL")
    assert "Subscribed <#C0PAY> to `payments*` (severity CRITICAL and above)" in r["text"]


def test_ack_by_command_updates_the_alert(env) -> None:
    rt, slack, url = env
    gid = gids(rt)[0]
    r = ask(slack, url, f"ack {gid}")
    assert "acknowledged" in r["text"]
    msg = slack.messages("C0ALERTS")
    assert any("Acknowledged by <@U1>" in json.dumps(m["blocks"]) for m in msg)
    r = ask(slack, url, f"snooze {gid} 10x")
    assert "snoozed" in r["text"]
    assert rt.store.load_group(gid).get("snooze_left") == "10"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "Unknown subcommand `frobnicate`"),
        ("top orders-api 5y", "I did not understand `5y`"),
        ("show", "needs a group id"),
        ("show fp1-0000000000000000", "was not found"),
        ("snooze fp1-0000000000000000 forever", "is not a duration"),
        ("subscribe", "Usage: `/triage subscribe"),
        ("search x", "at least 2 characters"),
        ("", "`/triage` commands"),
    ],
)
def test_bad_input_gets_a_usage_line(env, text: str, expected: str) -> None:
    _, slack, url = env
    r = ask(slack, url, text)
    assert expected in r["text"]


def test_share_posts_in_channel(env) -> None:
    _, slack, url = env
    r = ask(slack, url, "top --share")
    assert r["payload"].get("response_type") == "in_channel"


def test_app_home_lists_open_groups(env) -> None:
    _, slack, url = env
    status, _ = slack.open_app_home(url, "U1")
    assert status == 200
    assert slack.wait_for(lambda: slack.home_view("U1") is not None, timeout=10)
    view = json.dumps(slack.home_view("U1"))
    assert "Open alerts" in view and "nil pointer" in view and "KeyError" in view


def test_a_japanese_team_gets_answers_in_japanese(
    redis_url: str, key_prefix: str, tmp_path
) -> None:
    cfg = tmp_path / "triage.yml"
    cfg.write_text(
        "defaults:\n  locale: en\nteams:\n"
        "  - name: data-jp\n    channel: C0JP\n    locale: ja\n    timezone: Asia/Tokyo\n"
        "  - name: sre\n    channel: C0ALERTS\n"
        "routes:\n  - team: data-jp\n    match:\n      service: ocr/*\n"
        "default_route:\n  team: sre\n"
    )
    channels = {"C0ALERTS": "alerts", "C0JP": "data-jp"}
    with (
        SlackStandIn(SECRET, "xoxb-q", channels=channels) as slack,
        running_bot(slack, redis_url, key_prefix, triage_config=str(cfg)) as (rt, url),
    ):
        rt.pipeline.process([json.dumps(entry(BUGS[3], random.Random(1), time.time())).encode()])
        rt.notifier.run_once()
        [msg] = slack.messages("C0JP")
        assert "件数" in json.dumps(msg["blocks"], ensure_ascii=False)
        assert "JST" in json.dumps(msg["blocks"], ensure_ascii=False)
        assert slack.messages("C0ALERTS") == []
        assert "コマンド" in ask(slack, url, "help", channel="C0JP")["text"]
        assert "commands" in ask(slack, url, "help", channel="C0ALERTS")["text"]


def test_show_says_which_route_sent_it(redis_url: str, key_prefix: str, tmp_path) -> None:
    cfg = tmp_path / "triage.yml"
    cfg.write_text(
        "teams:\n  - {name: data, channel: C0JP}\n  - {name: sre, channel: C0ALERTS}\n"
        "routes:\n  - {team: data, match: {service: ocr/*}}\ndefault_route: {team: sre}\n"
    )
    channels = {"C0ALERTS": "alerts", "C0JP": "data"}
    with (
        SlackStandIn(SECRET, "xoxb-q", channels=channels) as slack,
        running_bot(slack, redis_url, key_prefix, triage_config=str(cfg)) as (rt, url),
    ):
        rt.pipeline.process([json.dumps(entry(BUGS[3], random.Random(1), time.time())).encode()])
        gid = gids(rt)[0]
        r = ask(slack, url, f"show {gid}", channel="C0JP")
        assert "Routed" in r["text"] and "routes[0] -&gt; data (C0JP)" in r["text"], r["text"]
