"""Declared incidents on real Redis and the Slack stand-in (its spec checks on), time injected:
what the channel gets (name, members, topic, purpose, pinned summary, timeline), and what the
linked groups' messages get."""

from __future__ import annotations

import json

import pytest
import redis
from triage_sandbox.slack_standin import SlackStandIn

from bot.incident.model import Severity, Status, channel_name, parse_severity, parse_status, slug
from bot.incident.service import IncidentService
from bot.incident.slash import answer_incident
from bot.lifecycle import Lifecycle
from bot.models import Destination as Target
from bot.store.incidents import IncidentStore
from bot.store.keys import Keys
from tests.notify.conftest import Rig

DB = 'psycopg2.OperationalError: connection to server at "10.40.0.3", port 5432 failed'


@pytest.fixture
def svc(rig: Rig, redis_client: redis.Redis, key_prefix: str) -> IncidentService:
    rig.targets["*"] = [Target("C0ALERTS", team="sre", oncall=("U2",))]
    lifecycle = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    return IncidentService(
        IncidentStore(redis_client, Keys(key_prefix)),
        rig.store,
        rig.sender,
        owners=lambda g, now: [h for d in rig.router()(g) for h in d.oncall],
        act=lambda gid, tr, user: lifecycle.act(gid, tr, user).ok,
        clock=rig.clock,
    )


def _channel(slack: SlackStandIn, name: str) -> str:
    snap = slack.ui_snapshot()
    return next(cid for cid, ch in snap["channels"].items() if ch.name == name)


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Cloud SQL billing-db refuses connections!", "cloud-sql-billing-db-refuses-connections"),
        ("Café <@U1> *bold*", "cafe-u1-bold"),
        ("請求DBが応答しない", "db"),
        ("日本語だけ", "incident"),
        ("", "incident"),
        ("x" * 90, "x" * 40),
    ],
)
def test_slug(title: str, want: str) -> None:
    assert slug(title) == want


def test_channel_name_is_dated_and_suffixed_after_a_collision() -> None:
    t0 = 1_764_644_000.0  # 2025-12-02
    assert channel_name("DB down", t0) == "inc-20251202-db-down"
    assert channel_name("DB down", t0, 3) == "inc-20251202-db-down-3"
    assert len(channel_name("y" * 200, t0, 10)) <= 80


@pytest.mark.parametrize(
    ("word", "want"), [("identified", Status.IDENTIFIED), ("mon", Status.MONITORING), ("x", None)]
)
def test_parse_status(word: str, want: Status | None) -> None:
    assert parse_status(word) is want


@pytest.mark.parametrize(
    ("word", "want"), [("1", Severity.SEV1), ("sev4", Severity.SEV4), ("5", None)]
)
def test_parse_severity(word: str, want: Severity | None) -> None:
    assert parse_severity(word) is want


def test_declare_from_groups_sets_up_the_channel(rig: Rig, svc: IncidentService) -> None:
    rig.record("fp1-aaaa0001", 3, service="invoice-api", message=DB, title=f"{DB} in a")
    rig.record("fp1-aaaa0002", 2, service="ledger", message=DB, title=f"{DB} in b")
    rig.run()  # their alerts are posted
    rig.new_calls()
    res = svc.declare("", "U1", ["fp1-aaaa0001", "fp1-aaaa0002"], source="C0ALERTS/1.0")
    assert res.ok and res.incident is not None
    inc = res.incident
    # the title names the shared cause (correlation) and the channel is named after it
    assert inc.title == "10.40.0.3:5432 (Postgres): 2 errors"
    assert inc.id == "inc-20251124-10-40-0-3-5432-postgres-2-errors"
    calls = rig.new_calls()
    assert [c.method for c in calls][:5] == [
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "conversations.setPurpose",
        "chat.postMessage",
    ]
    assert all(c.ok and not c.warnings for c in calls), [(c.method, c.error) for c in calls]
    cid = _channel(rig.slack, inc.id)
    ch = rig.slack.ui_snapshot()["channels"][cid]
    assert ch.members == ("U1", "U2")  # the declarer and the owners' on-call
    assert ch.topic == "SEV3 · Investigating · commander: no commander yet"
    assert ch.purpose.startswith("Incident: 10.40.0.3:5432")
    summary, *timeline = rig.slack.messages(cid)
    assert ch.pins == (summary["ts"],)
    text = json.dumps(summary["blocks"])
    assert "2 linked groups in 2 services, 5 errors" in text
    assert "fp1-aaaa0001" in text and "fp1-aaaa0002" in text
    texts = [m["text"] for m in timeline]
    assert texts[0].startswith(":rotating_light: <@U1> declared the incident: 10.40.0.3:5432")
    assert [x[:30] for x in texts[1:]] == [":link: <@U1> linked psycopg2.O"] * 2
    # each group's message links the incident (a reply in its thread)
    for m in rig.slack.messages("C0ALERTS"):
        assert [r["text"] for r in m["replies"]] == [f":link: Part of incident <#{cid}>"]


def test_a_taken_name_gets_a_suffix(rig: Rig, svc: IncidentService) -> None:
    first = svc.declare("DB down", "U1").incident
    second = svc.declare("DB down", "U1").incident
    assert first is not None and second is not None
    assert second.id == first.id + "-2"
    assert [c.error for c in rig.slack.calls if c.method == "conversations.create"] == [
        None,
        "name_taken",
        None,
    ]


def test_untrusted_title_is_escaped(rig: Rig, svc: IncidentService) -> None:
    inc = svc.declare("<!channel> & <@U2> *x*", "U1").incident
    assert inc is not None
    cid = _channel(rig.slack, inc.id)
    mrkdwn: list[str] = []

    def walk(node: object) -> None:  # every mrkdwn text (plain_text cannot ping anyone)
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                mrkdwn.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    msgs = rig.slack.messages(cid)
    walk([m.get("blocks") for m in msgs])
    mrkdwn += [m["text"] for m in msgs]
    shown = "\n".join(mrkdwn)
    assert "<!channel>" not in shown and "&lt;!channel&gt; &amp; &lt;@U2&gt;" in shown


def test_status_severity_lead_and_resolve_ask_about_groups(rig: Rig, svc: IncidentService) -> None:
    rig.record("fp1-aaaa0003", 1)
    inc = svc.declare("Checkout down", "U1", ["fp1-aaaa0003"]).incident
    assert inc is not None
    cid = inc.channel
    slash = lambda text: answer_incident(  # noqa: E731
        svc, text.split(), user="U1", channel=cid, locale="en"
    )
    assert slash("status identified").ok
    assert slash("sev 1").ok
    assert slash("lead <@U2>").ok
    assert not slash("sev 9").ok and "use 1, 2, 3 or 4" in slash("sev 9").text
    assert (
        "not an incident channel"
        in answer_incident(
            svc, ["status", "monitoring"], user="U1", channel="C0ALERTS", locale="en"
        ).text
    )
    ch = rig.slack.ui_snapshot()["channels"][cid]
    assert ch.topic == "SEV1 · Identified · commander: <@U2>"
    res = slash("resolve")
    assert "1 of its groups are still open" in res.text
    question = rig.slack.messages(cid)[-1]
    assert [e["action_id"] for e in question["blocks"][1]["elements"]] == [
        "tb_inc_resolve_groups",
        "tb_inc_keep_groups",
    ]
    inc = svc.by_channel(cid)
    assert inc is not None and inc.status is Status.RESOLVED
    svc.resolve_groups(inc, "U1")
    assert rig.store.load_group("fp1-aaaa0003").state == "resolved"  # type: ignore[union-attr]
    out = svc.timeline(inc).text
    for line in (
        "declared",
        "set the status to :bulb: Identified",
        "severity to SEV1",
        "made <@U2> the commander",
        "set the status to :white_check_mark: Resolved",
        "resolved 1 linked groups",
    ):
        assert line in out, line


def test_sweep_carries_group_changes_to_the_timeline(rig: Rig, svc: IncidentService) -> None:
    rig.record("fp1-aaaa0004", 1)
    inc = svc.declare("Checkout down", "U1", ["fp1-aaaa0004"]).incident
    assert inc is not None
    assert svc.sweep() == 0  # nothing happened yet
    lifecycle = Lifecycle(rig.store, rig.notifier, rig.clock)  # type: ignore[arg-type]
    assert lifecycle.act("fp1-aaaa0004", "acknowledge", "U2").ok
    rig.clock.advance(5)
    assert svc.sweep() == 1
    assert svc.sweep() == 0  # once
    last = rig.slack.messages(inc.channel)[-1]["text"]
    assert last.startswith(":eyes: <@U2> acknowledged KeyError")
    # a count change re-renders the summary (live counts), coalesced
    rig.record("fp1-aaaa0004", 4)
    rig.clock.advance(31)
    svc.sweep()
    summary = rig.slack.messages(inc.channel)[0]
    assert "5 errors" in json.dumps(summary["blocks"])


def test_link_and_postmortem(rig: Rig, svc: IncidentService) -> None:
    rig.record("fp1-aaaa0005", 2, service="checkout")
    inc = svc.declare("Checkout down", "U1").incident
    assert inc is not None
    assert "No group `fp1-nope`" in svc.link(inc, "fp1-nope", "U1").text
    res = svc.link(inc, "fp1-aaaa0005", "U1")
    assert res.ok and res.incident is not None
    pm = svc.postmortem(res.incident, "U1")
    assert pm.ok
    upload = rig.slack.messages(inc.channel)[-1]
    (f,) = upload["files"]
    assert f["name"] == f"{inc.id}-postmortem.md"
    md = f["preview"]
    assert md.startswith("# Postmortem (draft): Checkout down")
    assert "| checkout | 2 | 1 |" in md  # impact per service
    assert "[Logs Explorer](https://console.cloud.google.com/logs/query" in md
    assert "## Timeline" in md and "linked fp1-aaaa0005" in md
