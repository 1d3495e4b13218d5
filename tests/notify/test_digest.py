"""Storm control: more than `threshold` new groups for one channel within a minute are listed in
one digest message, updated in place; every group stays visible."""

from __future__ import annotations

import json

from bot.lifecycle import Lifecycle
from tests.notify.conftest import Rig, methods, replies, top_posts


def _gid(i: int) -> str:
    return f"fp1-{i:08x}"


def test_a_burst_of_new_groups_is_one_digest_listing_each(rig: Rig) -> None:
    for i in range(25):
        rig.record(_gid(i), i + 1)
    calls = rig.run()
    posts = top_posts(calls)
    assert methods(calls) == ["chat.postMessage"] and posts[0].ok and posts[0].warnings == ()
    text = json.dumps(posts[0].args["blocks"], ensure_ascii=False)
    assert posts[0].args["text"].startswith(":rotating_light: 25 new errors at once")
    for i in range(25):
        assert f"`{_gid(i)}`" in text and f"KeyError: 'total' in {_gid(i)}" in text
    assert "×25" in text
    # recurrences update the digest, at most once per update_interval
    rig.clock.advance(5)
    for i in range(25):
        rig.record(_gid(i), 2)
    assert rig.run() == []  # not due yet: the digest was rendered 5 s ago
    rig.clock.advance(26)
    calls = rig.run()
    assert methods(calls) == ["chat.update"]
    assert calls[0].args["ts"] == posts[0].response["ts"]
    assert "×27" in json.dumps(calls[0].args["blocks"], ensure_ascii=False)
    rig.clock.advance(60)
    assert rig.run() == []


def test_groups_over_the_threshold_within_a_minute_join_one_digest(rig: Rig) -> None:
    for i in range(8):
        rig.record(_gid(i))
    assert len(top_posts(rig.run())) == 8  # under the threshold: a message each
    rig.clock.advance(20)
    for i in range(8, 13):
        rig.record(_gid(i))
    calls = rig.run()
    [digest] = top_posts(calls)
    assert digest.args["text"].startswith(":rotating_light: 5 new errors at once")
    rig.clock.advance(30)  # still in the storm: a new group joins the same digest
    rig.record(_gid(13))
    calls = rig.run()
    assert methods(calls) == ["chat.update"] and calls[0].args["ts"] == digest.response["ts"]
    assert "6 new errors at once" in calls[0].args["text"]
    rig.clock.advance(120)  # the storm is over: new groups get their own message again
    rig.record(_gid(14))
    [post] = top_posts(rig.run())
    assert post.args["blocks"][0]["type"] == "header" and _gid(14) in json.dumps(post.args)
    listed = {_gid(i) for i in range(8, 14)}
    for gid in listed:
        g = rig.store.load_group(gid)
        assert g is not None and g.messages == {"C0ALERTS": "dg:1"}


def test_notices_and_actions_of_a_listed_group_go_to_the_digest(rig: Rig) -> None:
    for i in range(12):
        rig.record(_gid(i))
    [digest] = top_posts(rig.run())
    life = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    life.act(_gid(3), "resolve", "U7")
    assert rig.new_calls() == []  # brought forward to the next pass
    rig.clock.advance(1)
    calls = rig.run()
    assert methods(calls) == ["chat.update"]
    (line,) = [b for b in calls[0].args["blocks"] if f"`{_gid(3)}`" in json.dumps(b)]
    assert "resolved" in line["text"]["text"]
    rig.clock.advance(600)
    rig.record(_gid(3))  # regression
    calls = rig.run()
    [reply] = replies(calls)
    assert reply.args["thread_ts"] == digest.response["ts"] and reply.args["reply_broadcast"]
    assert reply.args["text"].startswith(f"*KeyError: 'total' in {_gid(3)}* (`{_gid(3)}`)\n")
    assert "Regressed" in reply.args["text"]


def test_a_digest_in_an_unreachable_channel_falls_back(rig: Rig) -> None:
    from bot.models import Destination

    rig.targets["*"] = [Destination("C0GENERAL")]
    for i in range(11):
        rig.record(_gid(i))
    calls = rig.run()
    assert [(c.args["channel"], c.error) for c in top_posts(calls)] == [
        ("C0GENERAL", "not_in_channel"),
        ("C0ALERTS", None),
    ]
    assert "Could not post to C0GENERAL" in json.dumps(calls[-1].args["blocks"])
    # ... and stays a digest you can act on: its lines' menus and its Declare button
    assert '"tb_declare_digest"' in json.dumps(calls[-1].args["blocks"])
    assert '"tb_digest_item"' in json.dumps(calls[-1].args["blocks"])


def test_a_failed_digest_is_retried_after_a_short_backoff(rig: Rig) -> None:
    for i in range(15):
        rig.record(_gid(i))
    rig.slack.inject("chat.postMessage", status=500, times=3)  # the client's 1 + 2 retries
    assert [c.status for c in top_posts(rig.run())] == [500, 500, 500]
    rig.clock.advance(rig.notifier.retry_s / 2)
    assert top_posts(rig.run()) == []
    rig.clock.advance(rig.notifier.retry_s)
    [digest] = top_posts(rig.run())
    assert digest.ok and "15 new errors at once" in digest.args["text"]
    rig.clock.advance(200)
    assert top_posts(rig.run()) == []


def _line_of(blocks: list[dict], gid: str) -> dict:
    (line,) = [b for b in blocks if b.get("type") == "section" and f"`{gid}`" in json.dumps(b)]
    return line


def test_every_digest_line_has_its_own_menu(rig: Rig) -> None:
    for i in range(12):
        rig.record(_gid(i))
    [digest] = top_posts(rig.run())
    for i in range(12):
        menu = _line_of(digest.args["blocks"], _gid(i))["accessory"]
        assert menu["type"] == "overflow" and menu["action_id"] == "tb_digest_item"
        assert [json.loads(o["value"]) for o in menu["options"]] == [
            {"g": _gid(i), "a": a} for a in ("ack", "resolve", "snooze", "own")
        ]
    assert digest.warnings == ()


DB = 'psycopg2.OperationalError: connection to server at "10.40.0.3", port 5432 failed'


def test_the_digest_names_what_its_groups_share(rig: Rig) -> None:
    for i in range(12):
        rig.record(_gid(i), service=f"svc{i % 4}", message=DB, title=f"{DB} in {i}")
    [digest] = top_posts(rig.run())
    assert digest.args["text"].startswith(":rotating_light: 12 new errors at once — 12 mention ")
    assert digest.args["blocks"][1]["text"]["text"] == (
        "12 new errors in 4 services since 16:00 — 12 mention 10.40.0.3:5432 (Postgres); "
        "first: svc0 16:00:00"
    )


def test_post_on_its_own_then_the_line_links_it(rig: Rig) -> None:
    for i in range(12):
        rig.record(_gid(i))
    assert len(top_posts(rig.run())) == 1  # the digest
    assert rig.notifier is not None and rig.notifier.post_on_its_own(_gid(5), "C0ALERTS")
    calls = rig.new_calls()
    [own] = top_posts(calls)
    assert own.args["blocks"][0]["text"]["text"] == f"KeyError: 'total' in {_gid(5)}"
    g = rig.store.load_group(_gid(5))
    assert g is not None and g.messages["C0ALERTS"] == f"C0ALERTS/{own.response['ts']}"
    rig.clock.advance(1)
    [update] = [c for c in rig.run() if c.method == "chat.update"]
    line = _line_of(update.args["blocks"], _gid(5))
    link = f"https://slack.com/archives/C0ALERTS/p{own.response['ts'].replace('.', '')}"
    assert f"<{link}|its own message>" in line["text"]["text"]
    assert "own" not in [json.loads(o["value"])["a"] for o in line["accessory"]["options"]]
    assert not rig.notifier.post_on_its_own(_gid(5), "C0ALERTS")  # once


def test_after_the_storm_an_unrelated_group_that_recurs_gets_its_own_message(rig: Rig) -> None:
    for i in range(11):  # an outage: one cause, many services
        rig.record(_gid(i), service=f"svc{i}", message=DB, title=f"{DB} in {i}")
    for j in range(11):  # ... and, at once, more unrelated bugs than the threshold
        key = f"KeyError: 'k{j}'"
        rig.record(_gid(100 + j), service=f"cart{j}", message=key, title=key)
    posts = top_posts(rig.run())
    assert len(posts) == 1  # 22 new groups at once: one digest
    rig.clock.advance(120)  # the storm is over (no new group for the digest's window)
    rig.record(_gid(105), service="cart5", message="KeyError: 'k5'", title="KeyError: 'k5'")
    rig.record(_gid(3), service="svc3", message=DB, title=f"{DB} in 3")
    calls = rig.run()
    [own] = top_posts(calls)
    assert _gid(105) in json.dumps(own.args["blocks"])  # the unrelated bug: its own message
    g3 = rig.store.load_group(_gid(3))
    assert g3 is not None and g3.messages["C0ALERTS"] == "dg:1"  # the outage's: still listed


def test_an_outage_opens_the_digest_under_the_threshold_and_unrelated_bugs_stay_out(
    rig: Rig,
) -> None:
    for i in range(3):  # three services failing on one endpoint: one post, not three
        rig.record(_gid(i), service=f"svc{i}", message=DB, title=f"{DB} in {i}")
    [digest] = top_posts(rig.run())
    assert digest.args["text"].startswith(":rotating_light: 3 new errors at once — 3 mention")
    rig.clock.advance(5)
    rig.record(_gid(3), service="svc3", message=DB, title=f"{DB} in 3")  # joins the outage
    rig.record(_gid(50), service="cart", message="KeyError: 'sku'", title="KeyError: 'sku'")
    [own] = top_posts(rig.run())  # the unrelated bug, on its own
    assert _gid(50) in json.dumps(own.args["blocks"])
    g3 = rig.store.load_group(_gid(3))
    assert g3 is not None and g3.messages["C0ALERTS"] == "dg:1"


def test_an_outage_and_an_unrelated_bug_at_once_one_digest_and_one_own_message(
    rig: Rig,
) -> None:
    for i in range(11):  # an outage: one cause, many services, over the threshold
        rig.record(_gid(i), service=f"svc{i}", message=DB, title=f"{DB} in {i}")
    rig.record(_gid(99), service="cart", message="KeyError: 'sku'", title="KeyError: 'sku'")
    posts = top_posts(rig.run())
    assert len(posts) == 2  # the outage's digest, and the bug that shares nothing with it
    [own] = [p for p in posts if _gid(99) in json.dumps(p.args["blocks"])]
    assert not own.args["text"].startswith(":rotating_light:")
    g3 = rig.store.load_group(_gid(3))
    assert g3 is not None and g3.messages["C0ALERTS"] == "dg:1"


def test_unrelated_groups_under_the_threshold_are_posted_one_by_one(rig: Rig) -> None:
    for i in range(5):
        rig.record(_gid(i), service=f"svc{i}", message=f"KeyError: 'k{i}'", title=f"KeyError {i}")
    assert len(top_posts(rig.run())) == 5
