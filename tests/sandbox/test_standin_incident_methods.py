"""The stand-in's channel, pin and file-upload methods, driven by the real slack_sdk client
(files_upload_v2 is slack_sdk's own three-step upload)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from triage_sandbox.slack_standin import Channel, SlackStandIn

TOKEN = "xoxb-test"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(
        "secret",
        TOKEN,
        channels={"C0ALERTS": "alerts", "C0OLD": Channel("old", is_archived=True)},
        users={"U1": "alice", "U2": "bob"},
    ) as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def _error(fn, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as exc:
        fn(**kw)
    return str(exc.value.response["error"])


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Inc-Upper", "invalid_name_specials"),
        ("inc 20261202", "invalid_name_specials"),
        ("inc.db", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("x" * 81, "invalid_name_maxlength"),
        ("alerts", "name_taken"),
        ("old", "name_taken"),  # archived channels keep their name
    ],
)
def test_create_refuses_names_as_slack_does(client: WebClient, name: str, error: str) -> None:
    assert _error(client.conversations_create, name=name) == error


def test_create_invite_topic_purpose_pin(client: WebClient, slack: SlackStandIn) -> None:
    ch = client.conversations_create(name="inc-20261202-billing-db")["channel"]
    assert ch["name"] == "inc-20261202-billing-db" and ch["is_member"] and ch["is_channel"]
    cid = ch["id"]
    assert client.conversations_invite(channel=cid, users="U1,U2")["ok"]
    assert _error(client.conversations_invite, channel=cid, users="U1") == "already_in_channel"
    assert _error(client.conversations_invite, channel=cid, users="U9") == "user_not_found"
    assert _error(client.conversations_invite, channel=cid, users="") == "no_user"
    bot = client.auth_test()["user_id"]
    assert _error(client.conversations_invite, channel=cid, users=bot) == "cant_invite_self"
    client.conversations_setTopic(channel=cid, topic="SEV2 · investigating")
    client.conversations_setPurpose(channel=cid, purpose="billing-db refuses connections")
    assert _error(client.conversations_setTopic, channel=cid, topic="x" * 251) == "too_long"
    info = client.conversations_info(channel=cid)["channel"]
    assert info["topic"]["value"] == "SEV2 · investigating"
    assert info["purpose"]["value"] == "billing-db refuses connections"
    ts = client.chat_postMessage(channel=cid, text="summary")["ts"]
    assert client.pins_add(channel=cid, timestamp=ts)["ok"]
    assert _error(client.pins_add, channel=cid, timestamp=ts) == "already_pinned"
    assert _error(client.pins_add, channel=cid, timestamp="1.000001") == "message_not_found"
    snap = slack.ui_snapshot()
    assert snap["channels"][cid].pins == (ts,)
    assert snap["channels"][cid].members == ("U1", "U2")


def test_topic_needs_membership(client: WebClient) -> None:
    assert _error(client.conversations_setTopic, channel="C0OLD", topic="t") == "is_archived"


def test_files_upload_v2_shares_the_file_in_the_channel(
    client: WebClient, slack: SlackStandIn
) -> None:
    body = "# Postmortem\n\n- 03:12 first error\n"
    resp = client.files_upload_v2(
        channel="C0ALERTS",
        content=body,
        filename="postmortem.md",
        title="Postmortem draft",
        initial_comment="Draft postmortem",
    )
    assert resp["file"]["title"] == "Postmortem draft"
    methods = [c.method for c in slack.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert not any(c.warnings for c in slack.calls)  # every argument is in Slack's reference
    (msg,) = slack.messages("C0ALERTS")
    assert msg["text"] == "Draft postmortem"
    assert msg["files"][0]["preview"] == body and msg["files"][0]["size"] == len(body.encode())


def test_complete_without_upload_is_refused(client: WebClient) -> None:
    fid = client.files_getUploadURLExternal(filename="a.md", length=3)["file_id"]
    err = _error(client.files_completeUploadExternal, files=[{"id": fid}], channel_id="C0ALERTS")
    assert err == "file_upload_not_finished"
    assert _error(client.files_completeUploadExternal, files=[{"id": "F404"}]) == "file_not_found"
    assert _error(client.files_getUploadURLExternal, filename="a.md", length=0) == (
        "missing_argument"
    )


def test_creation_is_tier_2_when_rate_limits_are_on(slack: SlackStandIn) -> None:
    slack.set_channel_rate_limit(True)
    raw = WebClient(token=TOKEN, base_url=slack.api_url)  # no retry handler: see the 429
    for n in range(20):
        raw.conversations_create(name=f"inc-{n}")
    with pytest.raises(SlackApiError) as exc:
        raw.conversations_create(name="inc-20")
    assert exc.value.response.status_code == 429
    assert int(exc.value.response.headers["Retry-After"]) >= 1


def test_the_sandbox_page_shows_topic_pins_and_files(
    client: WebClient, slack: SlackStandIn
) -> None:
    from triage_sandbox.ui import build_state

    cid = client.conversations_create(name="inc-x")["channel"]["id"]
    client.conversations_setTopic(channel=cid, topic="SEV1")
    ts = client.chat_postMessage(channel=cid, text="summary")["ts"]
    client.pins_add(channel=cid, timestamp=ts)
    client.files_upload_v2(channel=cid, content="# PM", filename="pm.md", title="PM")
    state = build_state(slack.ui_snapshot(), now=0)
    (ch,) = [c for c in state["channels"] if c["id"] == cid]
    assert ch["topic"] == "SEV1" and ch["pins"] == [ts]
    summary, upload = ch["messages"]
    assert summary["pinned"] and not upload["pinned"]
    assert upload["files"] == [
        {"id": upload["files"][0]["id"], "title": "PM", "name": "pm.md", "preview": "# PM"}
    ]
