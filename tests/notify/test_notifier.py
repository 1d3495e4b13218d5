"""The notifier as a state machine on real Redis and the Slack stand-in, time injected (no
sleeping): what is posted, updated and replied, and when."""

from __future__ import annotations

import json

from triage_sandbox.slack_standin import ApiCall

from bot.lifecycle import Lifecycle
from bot.models import Destination
from tests.notify.conftest import Rig, methods, replies, top_posts

ONCALL = "<!subteam^S0ONCALL>"


def _blocks(call_or_msg: object) -> str:
    args = getattr(call_or_msg, "args", call_or_msg)
    assert isinstance(args, dict)
    return json.dumps(args.get("blocks"), ensure_ascii=False)


def _count(call: object) -> str:
    args = getattr(call, "args", {})
    for block in args.get("blocks", []):
        for f in block.get("fields", []):
            if f["text"].startswith("*Count*"):
                return str(f["text"].split("\n", 1)[1])
    return ""


def _post_one(rig: Rig, gid: str = "fp1-aaaa1111", n: int = 1) -> tuple[str, str]:
    rig.record(gid, n)
    calls = rig.run()
    [post] = top_posts(calls)
    return str(post.response["channel"]), str(post.response["ts"])


def test_new_group_is_one_message_with_everything(rig: Rig) -> None:
    rig.record("fp1-aaaa1111", 3)
    calls = rig.run()
    assert methods(calls) == ["chat.postMessage"]
    post = calls[0]
    assert post.ok and post.args["channel"] == "C0ALERTS" and post.warnings == ()
    blocks = post.args["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "KeyError: 'total' in fp1-aaaa1111", "emoji": False},
    }
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields[:4] == [
        "*Service*\ncheckout (svc-00001)",
        "*Severity*\nERROR",
        "*Count*\n3",
        "*State*\n:red_circle: Open",
    ]
    assert fields[4:] == ["*First seen*\n2025-11-24 16:00 UTC", "*Last seen*\n2025-11-24 16:00 UTC"]
    text = _blocks(post)
    assert "Last hour `▁" in text and "last 24 h `" in text  # sparklines
    assert "```KeyError: 'total' (order 3)```" in text  # the latest sample
    assert "```app/orders.py in total\\napp/api.py in get_order```" in text
    assert "|Logs>" in text and "|Trace>" in text and "`fp1-aaaa1111`" in text
    actions = blocks[-1]["elements"]
    assert [(e["type"], e["action_id"]) for e in actions] == [
        ("button", "tb_ack"),
        ("button", "tb_resolve"),
        ("static_select", "tb_snooze"),
        ("users_select", "tb_assign"),
        ("button", "tb_merge"),
        ("button", "tb_declare"),  # the alert can become an incident
    ]
    assert rig.slack.warnings == []


def test_count_updates_are_coalesced_to_one_per_update_interval(rig: Rig) -> None:
    ch, ts = _post_one(rig)
    for dt in (1, 4, 10):  # t = 1, 5, 15
        rig.clock.advance(dt)
        rig.record("fp1-aaaa1111")
        assert rig.run() == []
    rig.clock.advance(16)  # t = 31: a render at 0 + 30 s is due
    calls = rig.run()
    assert methods(calls) == ["chat.update"]
    assert (calls[0].args["channel"], calls[0].args["ts"], _count(calls[0])) == (ch, ts, "4")
    rig.clock.advance(60)
    assert rig.run() == []  # nothing new: no update


def test_human_action_shows_at_once(rig: Rig) -> None:
    _ch, ts = _post_one(rig)
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    assert life.act("fp1-aaaa1111", "acknowledge", "U1").ok
    calls = rig.new_calls()
    assert methods(calls) == ["chat.update"]
    assert calls[0].args["ts"] == ts and "Acknowledged by <@U1>" in _blocks(calls[0])
    assert next(e["action_id"] for e in calls[0].args["blocks"][-1]["elements"]) == "tb_unack"


def test_regression_is_a_thread_reply_broadcast_to_the_channel(rig: Rig) -> None:
    _ch, ts = _post_one(rig)
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act("fp1-aaaa1111", "resolve", "U7")
    rig.new_calls()
    rig.clock.advance(600)
    rig.record("fp1-aaaa1111")
    calls = rig.run()
    assert methods(calls) == ["chat.update", "chat.postMessage"]
    reply = calls[1].args
    assert reply["thread_ts"] == ts and reply["reply_broadcast"] is True
    assert "Regressed" in reply["text"] and "<@U7>" in reply["text"]
    assert "Regressed at" in _blocks(calls[0])


def test_new_revision_is_a_thread_reply(rig: Rig) -> None:
    _ch, ts = _post_one(rig)
    rig.clock.advance(40)
    rig.record("fp1-aaaa1111", revision="svc-00002")
    calls = rig.run()
    assert methods(calls) == ["chat.update", "chat.postMessage"]
    assert calls[1].args["thread_ts"] == ts and "reply_broadcast" not in calls[1].args
    assert "`svc-00002`" in calls[1].args["text"]
    rig.clock.advance(40)
    rig.record("fp1-aaaa1111", revision="svc-00002")
    assert methods(rig.run()) == ["chat.update"]  # the same revision again: no reply


def _steady(rig: Rig, gid: str, minutes: int, per_minute: int) -> list[ApiCall]:
    calls = []
    for _ in range(minutes):
        rig.clock.advance(60)
        if per_minute:
            rig.record(gid, per_minute)
        calls += rig.run()
    return calls


def _spikes(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in replies(calls) if "Spike" in c.args["text"]]


def test_spike_against_the_baseline_once_an_hour(rig: Rig) -> None:
    gid = "fp1-aaaa1111"
    _post_one(rig, gid)
    assert _spikes(_steady(rig, gid, 70, 2)) == []  # a baseline of 2/min for over an hour
    spikes = _spikes(_steady(rig, gid, 5, 30))  # 30/min: >= 5 x 2/min and >= 10/min
    assert len(spikes) == 1
    # it fires in the second minute: (2 x 30 + 3 x 2) / 5 = 13.2/min
    assert "Spike: 13.2/min against a baseline of 2.0/min" in spikes[0].args["text"]
    assert _spikes(_steady(rig, gid, 20, 60)) == []  # still high within the hour: no repeat
    assert len(_spikes(_steady(rig, gid, 60, 60) + _steady(rig, gid, 5, 600))) == 1


def test_no_spike_below_the_minimum_rate_or_for_a_new_group(rig: Rig) -> None:
    gid = "fp1-bbbb2222"
    # a new group's burst is its first message, not a spike
    assert _spikes(_steady(rig, gid, 3, 50)) == []
    assert _spikes(_steady(rig, gid, 80, 0) + _steady(rig, gid, 5, 5)) == []  # 5/min < 10/min


def test_escalation_after_15_min_then_repeat_every_4_h_until_acknowledged(rig: Rig) -> None:
    rig.targets["*"] = [Destination("C0ALERTS", oncall=(ONCALL,))]
    _ch, ts = _post_one(rig)
    rig.clock.advance(14 * 60)
    assert rig.run() == []
    rig.clock.advance(60)
    calls = rig.run()
    assert methods(calls) == ["chat.update", "chat.postMessage"]
    assert calls[1].args["thread_ts"] == ts
    assert calls[1].args["text"].startswith(f":loudspeaker: {ONCALL} still unacknowledged after 15")
    rig.clock.advance(4 * 3600 - 1)
    assert replies(rig.run()) == []
    rig.clock.advance(1)
    [repeat] = replies(rig.run())
    assert ONCALL in repeat.args["text"]
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act("fp1-aaaa1111", "acknowledge", "U2")
    rig.new_calls()
    rig.clock.advance(8 * 3600)
    assert rig.run() == []


def test_escalation_per_target_and_unacknowledge_restarts_it(rig: Rig) -> None:
    rig.targets["*"] = [
        Destination("C0ALERTS", oncall=("U2",), escalate_after_s=300, repeat_interval_s=0),
        Destination("C0TEAM"),
    ]
    rig.record("fp1-aaaa1111")
    assert len(top_posts(rig.run())) == 2
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act("fp1-aaaa1111", "acknowledge", "U1")
    life.act("fp1-aaaa1111", "unacknowledge", "U1")
    rig.new_calls()
    rig.clock.advance(299)
    assert rig.run() == []
    rig.clock.advance(1)
    calls = replies(rig.run())
    # both messages get the reply; the mention is the one on-call handle
    assert [c.args["channel"] for c in calls] == ["C0ALERTS", "C0TEAM"]
    assert all("<@U2> still unacknowledged after 5 min" in c.args["text"] for c in calls)
    rig.clock.advance(30 * 86400)
    assert replies(rig.run()) == []  # repeat_interval 0: once


def test_escalation_is_sent_by_exactly_one_replica_and_survives_a_restart(rig: Rig) -> None:
    rig.targets["*"] = [Destination("C0ALERTS", oncall=(ONCALL,))]
    _post_one(rig)
    replica_a = rig.notifier
    replica_b = rig.make_notifier()  # a second replica, or this one after a restart
    rig.clock.advance(15 * 60)
    assert replica_b is not None and replica_a is not None
    replica_b.run_once()
    replica_a.run_once()
    assert len(replies(rig.new_calls())) == 1


def test_snooze_for_a_time_ends_without_occurrences(rig: Rig) -> None:
    _ch, ts = _post_one(rig)
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act("fp1-aaaa1111", "snooze_for", "U1", 3600)
    [upd] = rig.new_calls()
    assert "Snoozed by <@U1> until" in _blocks(upd)
    rig.clock.advance(600)
    rig.record("fp1-aaaa1111", 5)  # counted, not shown while snoozed
    assert rig.run() == []
    rig.clock.advance(3000)  # t = 3600: the snooze ends
    calls = rig.run()
    assert methods(calls) == ["chat.update", "chat.postMessage"]
    assert ":red_circle: Open" in _blocks(calls[0]) and _count(calls[0]) == "6"
    assert calls[1].args["thread_ts"] == ts and "Snooze ended" in calls[1].args["text"]
    assert rig.store.load_group("fp1-aaaa1111").state == "open"  # type: ignore[union-attr]


def test_snooze_for_n_occurrences_ends_on_the_nth(rig: Rig) -> None:
    _ch, _ts = _post_one(rig)
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act("fp1-aaaa1111", "snooze_count", "U1", 10)
    assert "for 10 more occurrences" in _blocks(rig.new_calls()[0])
    rig.clock.advance(60)
    rig.record("fp1-aaaa1111", 9)
    assert rig.run() == []
    rig.clock.advance(60)
    rig.record("fp1-aaaa1111", 1)
    calls = rig.run()
    assert methods(calls) == ["chat.update", "chat.postMessage"]
    assert "Snooze ended" in calls[1].args["text"]


def test_resolved_group_message_shows_who_and_reopen(rig: Rig) -> None:
    _post_one(rig)
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    assert life.act("fp1-aaaa1111", "assign", "U1", "U2").ok
    assert "*Assignee*\\n<@U2>" in _blocks(rig.new_calls()[0])
    life.act("fp1-aaaa1111", "resolve", "U2")
    [upd] = rig.new_calls()
    assert "Resolved by <@U2>" in _blocks(upd)
    assert [e["action_id"] for e in upd.args["blocks"][-1]["elements"]] == [
        "tb_reopen",
        "tb_assign",
        "tb_merge",
    ]
    out = life.act("fp1-aaaa1111", "acknowledge", "U1")
    assert not out.ok and "it is resolved" in out.message
    assert rig.new_calls() == []


def test_fallback_to_the_default_channel_with_a_warning(rig: Rig) -> None:
    rig.targets["*"] = [Destination("C0GENERAL")]  # the bot is not a member there
    rig.record("fp1-aaaa1111")
    calls = rig.run()
    assert [(c.method, c.args["channel"], c.error) for c in calls] == [
        ("chat.postMessage", "C0GENERAL", "not_in_channel"),
        ("chat.postMessage", "C0ALERTS", None),
    ]
    assert "Could not post to C0GENERAL (not_in_channel)" in _blocks(calls[1])
    rig.clock.advance(40)
    rig.record("fp1-aaaa1111")
    [upd] = rig.run()
    assert (upd.method, upd.args["channel"], upd.args["ts"]) == (
        "chat.update",
        "C0ALERTS",
        calls[1].response["ts"],
    )


def test_a_claimed_but_unsent_notification_is_sent_once_after_the_lease(rig: Rig) -> None:
    rig.record("fp1-aaaa1111")
    # a replica claims it and dies before posting
    assert rig.store.claim_due(rig.clock.now, rig.clock.now + 120) == ["fp1-aaaa1111"]
    assert rig.run() == []
    rig.clock.advance(121)
    assert len(top_posts(rig.run())) == 1
    rig.clock.advance(600)
    assert rig.run() == []


def test_a_failed_post_is_retried_after_a_short_backoff_and_posts_once(rig: Rig) -> None:
    rig.slack.inject("chat.postMessage", error="fatal_error")
    rig.record("fp1-aaaa1111")
    calls = rig.run()
    assert [(c.method, c.error) for c in calls] == [("chat.postMessage", "fatal_error")]
    rig.clock.advance(rig.notifier.retry_s / 2)
    assert rig.run() == []
    rig.clock.advance(rig.notifier.retry_s)
    assert len(top_posts(rig.run())) == 1
    rig.clock.advance(200)
    assert top_posts(rig.run()) == []
    assert len(rig.slack.messages("C0ALERTS")) == 1


def test_a_failed_render_is_retried_soon_not_after_the_lease(rig: Rig) -> None:
    rig.record("fp1-00000000000000aa")
    rig.slack.inject("chat.postMessage", status=500, times=3)  # the client's 1 + 2 retries
    assert [c.status for c in top_posts(rig.run())] == [500, 500, 500]
    rig.clock.advance(5)
    assert rig.run() == []  # not yet: backing off
    rig.clock.advance(rig.notifier.retry_s)
    posts = top_posts(rig.run())
    assert len(posts) == 1 and posts[0].ok
