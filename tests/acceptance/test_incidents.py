"""README, "Incidents": a storm's digest declares an incident into its own channel (created,
members invited, topic and purpose, summary pinned, the groups' messages linked), status and
severity from Slack, resolving asks about the groups, the timeline and the postmortem upload;
through `triage-bot serve`."""

from __future__ import annotations

import json
import re

from tests.acceptance.harness import config_yaml, log_entry, message_text

SERVICES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")
CAUSE = "dial tcp 10.40.0.3:5432: connect: connection refused"


def _incident_channel(bot, timeout: float = 10.0) -> str:
    def created():
        snap = bot.slack.ui_snapshot()
        return next(
            (cid for cid, ch in snap["channels"].items() if ch.name.startswith("inc-")), None
        )

    return bot.wait_until(created, timeout, "an incident channel")


def _channel(bot, cid: str):
    return bot.slack.ui_snapshot()["channels"][cid]


def test_declare_from_a_digest_then_resolve_with_its_groups(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"digest_threshold": "2"}))
    bot.publish([log_entry(svc, f"load order: {CAUSE}") for svc in SERVICES])
    digest = bot.wait_for_post(
        "C0SRE", lambda m: "new errors at once" in message_text(m), 15, "the storm's digest"
    )
    bot.wait_until(
        lambda: sum(s in message_text(m) for m in bot.messages("C0SRE") for s in SERVICES) >= 6,
        10,
        "every group visible",
    )
    digest = next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"])
    bot.click("tb_declare_digest", digest, user="U1")
    cid = _incident_channel(bot)
    summary = bot.wait_for_post(cid, lambda m: m["ts"] in _channel(bot, cid).pins, 10, "pin")
    ch = _channel(bot, cid)
    # named after the date and the shared cause; the declarer is in it; topic and purpose set
    assert ch.name.startswith("inc-") and "10-40-0-3-5432" in ch.name, ch.name
    assert "U1" in ch.members
    assert ch.topic.startswith("SEV3 · Investigating"), ch.topic
    assert "10.40.0.3:5432" in ch.purpose
    text = message_text(summary)
    listed = [s for s in SERVICES if s in text]
    assert len(listed) >= 2, text  # the digest's groups, with their counts
    assert "linked groups in" in text
    # the digest links the incident
    bot.wait_for_reply("C0SRE", lambda r: f"<#{cid}>" in r.get("text", ""), 10, "the link")
    # status from Slack: the topic and the timeline follow
    assert "Done" in bot.slash("incident status identified", channel=cid)
    bot.wait_until(lambda: "Identified" in _channel(bot, cid).topic, 10, "topic: Identified")
    assert "Done" in bot.slash("incident sev 2", channel=cid)
    bot.wait_until(lambda: _channel(bot, cid).topic.startswith("SEV2"), 10, "topic: SEV2")
    # resolving asks whether to resolve its groups
    summary = next(m for m in bot.messages(cid) if m["ts"] == summary["ts"])
    bot.click("tb_inc_resolve", summary, user="U1")
    question = bot.wait_for_post(
        cid, lambda m: "resolve them too" in message_text(m), 10, "the question"
    )
    bot.click("tb_inc_resolve_groups", question, user="U1")
    bot.wait_for_post(
        cid,
        lambda m: "resolved" in m.get("text", "") and "linked groups" in m.get("text", ""),
        10,
        "groups resolved",
    )
    timeline = bot.slash("incident timeline", channel=cid)
    for what in ("declared the incident", "Identified", "SEV2", "Resolved", "linked groups"):
        assert what in timeline, (what, timeline)
    # the linked groups are resolved (what /triage show says of each)
    gids = re.findall(r"`(fp\d-[0-9a-f]+)`", message_text(summary))
    assert gids
    for gid in gids:
        shown = bot.slash(f"show {gid}")
        assert ":white_check_mark: resolved" in shown and "resolved · <@U1>" in shown, shown


def test_declare_by_command_and_postmortem(start_bot) -> None:
    bot = start_bot(config_yaml())
    answer = bot.slash("incident declare Checkout is down", channel="C0ALERTS")
    cid = _incident_channel(bot)
    assert f"<#{cid}>" in answer
    assert _channel(bot, cid).name.endswith("-checkout-is-down")
    assert "not an incident channel" in bot.slash("incident status identified", channel="C0ALERTS")
    bot.slash("incident postmortem", channel=cid)
    upload = bot.wait_for_post(cid, lambda m: bool(m.get("files")), 10, "the postmortem file")
    (f,) = upload["files"]
    assert f["name"].endswith("-postmortem.md")
    assert f["preview"].startswith("# Postmortem (draft): Checkout is down")
    # a second incident with the same title gets its own channel
    bot.slash("incident declare Checkout is down", channel="C0ALERTS")
    bot.wait_until(
        lambda: any(
            ch.name.endswith("-checkout-is-down-2")
            for ch in bot.slack.ui_snapshot()["channels"].values()
        ),
        10,
        "a second channel",
    )


def test_a_storm_is_one_digest_naming_the_cause_with_actionable_lines(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"digest_threshold": "2"}))
    bot.publish([log_entry(svc, f"load order: {CAUSE}") for svc in SERVICES])
    bot.publish([log_entry("cart", "KeyError: 'sku'")])
    digest = bot.wait_for_post(
        "C0SRE", lambda m: "new errors at once" in message_text(m), 15, "the storm's digest"
    )
    bot.wait_until(
        lambda: (
            "mention 10.40.0.3:5432"
            in message_text(next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"]))
        ),
        10,
        "the digest naming the shared endpoint",
    )
    digest = next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"])
    lines = [b for b in digest["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    assert lines, digest["blocks"]
    gid = json.loads(lines[0]["accessory"]["options"][0]["value"])["g"]
    # a line's menu acts on its group: acknowledge
    bot.select("tb_digest_item", digest, json.dumps({"g": gid, "a": "ack"}, separators=(",", ":")))
    bot.wait_until(
        lambda: (
            "acknowledged"
            in json.dumps(
                next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"])["blocks"]
            )
        ),
        10,
        "the line shows acknowledged",
    )
    # ... and "Post on its own" gives it a message with buttons, which the line links to
    bot.select("tb_digest_item", digest, json.dumps({"g": gid, "a": "own"}, separators=(",", ":")))
    own = bot.wait_for_post(
        "C0SRE",
        lambda m: (
            m["ts"] != digest["ts"]
            and f"`{gid}`" in message_text(m)
            and m["blocks"][0]["type"] == "header"
        ),
        10,
        "the group's own message",
    )
    link = f"p{own['ts'].replace('.', '')}"
    bot.wait_until(
        lambda: (
            link
            in json.dumps(
                next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"])["blocks"]
            )
        ),
        10,
        "the digest line linking the own message",
    )


def test_declaring_from_an_alert_shows_the_incident_on_it(start_bot) -> None:
    """The alert's Declare button makes the incident; the alert then names the incident's
    channel in place of the button, and a thread reply says so."""
    bot = start_bot(config_yaml())
    bot.publish([log_entry("checkout", f"charge failed: {CAUSE}")])
    alert = bot.wait_for_post("C0SRE", lambda m: "charge failed" in message_text(m), 15, "alert")
    assert "tb_declare" in json.dumps(alert["blocks"])
    bot.click("tb_declare", alert, user="U1")
    cid = _incident_channel(bot)

    def shows_incident():
        m = next(m for m in bot.messages("C0SRE") if m["ts"] == alert["ts"])
        return m if f"Part of incident <#{cid}>" in json.dumps(m["blocks"]) else None

    updated = bot.wait_until(shows_incident, 10, "the alert naming the incident")
    assert '"tb_declare"' not in json.dumps(updated["blocks"])
    bot.wait_for_reply("C0SRE", lambda r: f"<#{cid}>" in r.get("text", ""), 10, "the reply")


def test_an_outage_opens_a_digest_and_unrelated_bugs_of_the_same_batch_post_alone(
    start_bot,
) -> None:
    """Under the threshold, groups sharing a cause open a digest at once; bugs that arrive in
    the same moment and share nothing with it get their own messages, with buttons."""
    bot = start_bot(config_yaml(defaults={"digest_threshold": "50"}))
    bot.publish(
        [log_entry(svc, f"load order: {CAUSE}") for svc in SERVICES[:4]]
        + [
            log_entry("cart", "KeyError: 'sku' in add_item"),
            log_entry("search", "index shard 7 is read-only after a disk watermark"),
        ]
    )
    digest = bot.wait_for_post(
        "C0SRE", lambda m: "new errors at once" in message_text(m), 15, "the outage's digest"
    )
    for alone in ("KeyError: 'sku'", "disk watermark"):
        own = bot.wait_for_post(
            "C0SRE",
            lambda m, alone=alone: m["ts"] != digest["ts"] and alone in message_text(m),
            10,
            f"{alone!r} on its own",
        )
        assert "tb_ack" in json.dumps(own["blocks"])
    bot.wait_until(
        lambda: all(
            s in message_text(next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"]))
            for s in SERVICES[:4]
        ),
        10,
        "the outage's four groups in the digest",
    )
    digest = next(m for m in bot.messages("C0SRE") if m["ts"] == digest["ts"])
    assert "KeyError" not in message_text(digest) and "watermark" not in message_text(digest)
    top_level = list(bot.messages("C0SRE"))
    assert len(top_level) == 3, [message_text(m)[:60] for m in top_level]
