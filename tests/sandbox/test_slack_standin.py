"""The Slack stand-in, driven by the real slack_sdk WebClient and a real Bolt app."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from triage_sandbox import mrkdwn
from triage_sandbox.slack_standin import (
    Channel,
    SlackStandIn,
    Usergroup,
    block_kit_errors,
    load_method_specs,
)

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    standin = SlackStandIn(
        SECRET,
        TOKEN,
        channels={
            "C0ALERTS": "alerts",
            "C0GENERAL": Channel("general", is_member=False),
            "C0OLD": Channel("old", is_archived=True),
        },
        users={"U1": "alice", "U2": "bob"},
        usergroups={"S0ONCALL": Usergroup("oncall", "On-call", ("U1", "U2"))},
    )
    with standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return str(info.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, text: str = "Ack", value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }


def alert_blocks() -> list[dict[str, Any]]:
    return [
        section("*TypeError* in checkout"),
        {
            "type": "actions",
            "block_id": "alert_actions",
            "elements": [
                button("ack", "Acknowledge", '{"g":"fp1:abc"}'),
                {
                    "type": "static_select",
                    "action_id": "snooze",
                    "placeholder": {"type": "plain_text", "text": "Snooze"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "1 h"}, "value": "1h"},
                        {"text": {"type": "plain_text", "text": "1 day"}, "value": "1d"},
                    ],
                },
                {"type": "users_select", "action_id": "assign"},
            ],
        },
    ]


# --------------------------------------------------------------------------- Web API


def test_method_extract_comes_from_slacks_description() -> None:
    specs = load_method_specs()
    assert "channel" in specs["chat.postMessage"].required
    assert {"thread_ts", "blocks", "text"} <= specs["chat.postMessage"].optional
    assert specs["chat.update"].required == {"channel", "ts"}
    assert specs["views.open"].required == {"trigger_id", "view"}
    # newer than the spec: from Slack's method reference
    assert specs["files.getUploadURLExternal"].required == {"filename", "length"}
    assert specs["files.completeUploadExternal"].required == {"files"}
    assert len(specs) == 23


def test_auth(slack: SlackStandIn, client: WebClient) -> None:
    auth = client.auth_test()
    assert (auth["user_id"], auth["team_id"], auth["bot_id"]) == ("U0BOT", "T0TEAM", "B0BOT")
    assert error_of(WebClient(base_url=slack.api_url).auth_test) == "not_authed"
    assert error_of(WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test) == (
        "invalid_auth"
    )
    assert error_of(lambda: client.api_call("chat.postMessagez")) == "unknown_method"


def test_form_encoded_token_in_body_is_accepted_json_token_is_not(slack: SlackStandIn) -> None:
    def post(data: bytes, ctype: str) -> dict[str, Any]:
        req = urllib.request.Request(
            slack.api_url + "chat.postMessage", data=data, headers={"Content-Type": ctype}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    form = urllib.parse.urlencode(
        {"token": TOKEN, "channel": "C0ALERTS", "text": "hi", "blocks": json.dumps([section("x")])}
    ).encode()
    assert post(form, "application/x-www-form-urlencoded")["ok"] is True
    assert slack.calls_for("chat.postMessage")[0].args["blocks"] == [section("x")]
    body = json.dumps({"token": TOKEN, "channel": "C0ALERTS", "text": "hi"}).encode()
    assert post(body, "application/json") == {"ok": False, "error": "not_authed"}


def test_post_thread_and_edit(slack: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="#alerts", text="alert", blocks=alert_blocks())
    assert parent["channel"] == "C0ALERTS"
    assert parent["message"]["blocks"] == alert_blocks()
    reply = client.chat_postMessage(channel="C0ALERTS", text="again x3", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert float(reply["ts"]) > float(parent["ts"])

    updated = client.chat_update(channel="C0ALERTS", ts=parent["ts"], text="alert (acked)")
    assert updated["message"]["edited"]["user"] == "U0BOT"

    [message] = slack.messages("C0ALERTS")
    assert message["text"] == "alert (acked)"
    assert message["blocks"] == alert_blocks()  # chat.update without blocks keeps them
    assert message["reply_count"] == 1
    assert [r["text"] for r in message["replies"]] == ["again x3"]
    assert slack.messages("#alerts") == slack.messages("alerts") == [message]
    assert slack.warnings == []

    assert error_of(lambda: client.chat_update(channel="C0ALERTS", ts="1.000001", text="x")) == (
        "message_not_found"
    )


def test_thread_ts_of_unknown_message_posts_top_level_with_a_warning(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.chat_postMessage(channel="C0ALERTS", text="orphan", thread_ts="1.000001")
    assert [m["text"] for m in slack.messages("C0ALERTS")] == ["orphan"]
    assert "matches no message" in slack.warnings[0]


def test_unknown_argument_is_a_warning(slack: SlackStandIn, client: WebClient) -> None:
    client.api_call("chat.postMessage", json={"channel": "C0ALERTS", "text": "x", "thred_ts": "1"})
    [call] = slack.calls
    assert call.ok
    assert call.warnings == (
        "argument 'thred_ts' is not in Slack's description of chat.postMessage",
    )


def test_channel_errors(slack: SlackStandIn, client: WebClient) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == (
        "channel_not_found"
    )
    assert error_of(lambda: client.chat_postMessage(channel="C0GENERAL", text="x")) == (
        "not_in_channel"
    )
    assert error_of(lambda: client.chat_postMessage(channel="C0OLD", text="x")) == "is_archived"
    assert error_of(lambda: client.api_call("chat.postMessage", json={"text": "x"})) == (
        "channel_not_found"
    )
    no_text = {"channel": "C0ALERTS"}
    assert error_of(lambda: client.api_call("chat.postMessage", json=no_text)) == "no_text"

    joined = client.conversations_join(channel="C0GENERAL")
    assert joined["channel"]["is_member"] is True
    assert client.conversations_join(channel="C0GENERAL")["warning"] == "already_in_channel"
    assert client.chat_postMessage(channel="#general", text="now ok")["channel"] == "C0GENERAL"


def test_dm_by_user_id(slack: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U2", text="you own this")
    assert posted["channel"].startswith("D")
    assert [m["text"] for m in slack.messages("U2")] == ["you own this"]
    assert client.conversations_info(channel=posted["channel"])["channel"]["is_im"] is True


def test_msg_too_long(client: WebClient) -> None:
    client.chat_postMessage(channel="C0ALERTS", text="x" * 40_000)
    assert error_of(lambda: client.chat_postMessage(channel="C0ALERTS", text="x" * 40_001)) == (
        "msg_too_long"
    )


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


OVER_LIMIT = {
    "51 blocks": ([section("x")] * 51, "/blocks"),
    "section text 3001": ([section("x" * 3001)], "/blocks/0/text/text"),
    "header 151": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "/blocks/0/text/text",
    ),
    "button text 76": ([actions(button("a", "b" * 76))], "/blocks/0/elements/0/text/text"),
    "action_id 256": ([actions(button("a" * 256))], "/blocks/0/elements/0/action_id"),
    "button value 2001": (
        [actions(button("a", value="v" * 2001))],
        "/blocks/0/elements/0/value",
    ),
    "11 fields": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "/blocks/0/fields",
    ),
    "field 2001": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
    ),
    "11 context elements": (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "/blocks/0/elements",
    ),
    "26 action elements": (
        [actions(*[button(f"a{i}") for i in range(26)])],
        "/blocks/0/elements",
    ),
    "duplicate action_id": ([actions(button("a"), button("a"))], "/blocks/0/elements/1/action_id"),
    "mrkdwn header": (
        [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
        "/blocks/0/text/type",
    ),
    "unknown block type": ([{"type": "sektion"}], "/blocks/0/type"),
}


@pytest.mark.parametrize("case", sorted(OVER_LIMIT))
def test_block_kit_limits(case: str, slack: SlackStandIn, client: WebClient) -> None:
    blocks, pointer = OVER_LIMIT[case]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0ALERTS", text="t", blocks=blocks)
    assert info.value.response["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in e for e in info.value.response["errors"])
    assert slack.messages("C0ALERTS") == []


def test_block_kit_at_the_limits_is_accepted(client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        actions(*[button(f"a{i}", "b" * 75, "v" * 2000) for i in range(24)], button("z" * 255)),
    ]
    blocks += [{"type": "divider"}] * (50 - len(blocks))
    assert block_kit_errors(blocks) == []
    assert client.chat_postMessage(channel="C0ALERTS", text="t", blocks=blocks)["ok"]


# --------------------------------------------------------------------------- faults


def test_ratelimited_then_sdk_retry_handler_honours_retry_after(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.inject("chat.postMessage", retry_after=1)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0ALERTS", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"
    assert info.value.response["error"] == "ratelimited"

    slack.inject("chat.postMessage", retry_after=1)
    retrying = WebClient(
        token=TOKEN,
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    assert retrying.chat_postMessage(channel="C0ALERTS", text="x")["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in slack.calls_for("chat.postMessage")] == [429, 429, 200]
    assert len(slack.messages("C0ALERTS")) == 1


def test_server_error_and_ok_false_injection(slack: SlackStandIn, client: WebClient) -> None:
    slack.inject("chat.update", status=503)
    posted = client.chat_postMessage(channel="C0ALERTS", text="x")
    with pytest.raises(SlackApiError) as info:
        client.chat_update(channel="C0ALERTS", ts=posted["ts"], text="y")
    assert info.value.response.status_code == 503

    slack.inject("chat.update", status=500)
    retrying = WebClient(
        token=TOKEN, base_url=slack.api_url, retry_handlers=[ServerErrorRetryHandler()]
    )
    assert retrying.chat_update(channel="C0ALERTS", ts=posted["ts"], text="y")["ok"]

    slack.inject("chat.postMessage", error="not_in_channel", times=2)
    for _ in range(2):
        assert error_of(lambda: client.chat_postMessage(channel="C0ALERTS", text="x")) == (
            "not_in_channel"
        )
    assert client.chat_postMessage(channel="C0ALERTS", text="x")["ok"]
    assert [c.injected for c in slack.calls_for("chat.postMessage")] == [False, True, True, False]


def test_per_channel_rate_limit(slack: SlackStandIn, client: WebClient) -> None:
    slack.set_channel_rate_limit(True)
    client.chat_postMessage(channel="C0ALERTS", text="1")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0ALERTS", text="2")
    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) >= 1
    client.conversations_join(channel="C0GENERAL")
    assert client.chat_postMessage(channel="C0GENERAL", text="other channel")["ok"]


# --------------------------------------------------------------------------- other methods


def test_ephemeral_permalink_reactions_delete(slack: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0ALERTS", text="alert")
    reply = client.chat_postMessage(channel="C0ALERTS", text="r", thread_ts=posted["ts"])
    assert client.chat_postEphemeral(channel="C0ALERTS", user="U1", text="only you")["message_ts"]
    assert [e["text"] for e in slack.ephemerals("C0ALERTS", "U1")] == ["only you"]
    assert error_of(lambda: client.chat_postEphemeral(channel="C0ALERTS", user="U9", text="x")) == (
        "user_not_found"
    )

    link = client.chat_getPermalink(channel="C0ALERTS", message_ts=reply["ts"])["permalink"]
    assert link.endswith(f"?thread_ts={posted['ts']}&cid=C0ALERTS")

    client.reactions_add(channel="C0ALERTS", timestamp=posted["ts"], name="eyes")
    assert error_of(
        lambda: client.reactions_add(channel="C0ALERTS", timestamp=posted["ts"], name="eyes")
    ) == ("already_reacted")
    assert slack.message("C0ALERTS", posted["ts"])["reactions"][0]["name"] == "eyes"  # type: ignore[index]

    client.chat_delete(channel="C0ALERTS", ts=reply["ts"])
    client.chat_delete(channel="C0ALERTS", ts=posted["ts"])
    assert slack.messages("C0ALERTS") == []
    assert error_of(lambda: client.chat_delete(channel="C0ALERTS", ts=posted["ts"])) == (
        "message_not_found"
    )


def test_directory_methods(slack: SlackStandIn, client: WebClient) -> None:
    info = client.conversations_info(channel="C0ALERTS", include_num_members=True)["channel"]
    assert (info["name"], info["is_member"]) == ("alerts", True)
    assert error_of(lambda: client.conversations_info(channel="C0NOPE")) == "channel_not_found"

    first = client.conversations_list(limit=2, exclude_archived=True)
    assert [c["id"] for c in first["channels"]] == ["C0ALERTS", "C0GENERAL"]
    assert first["response_metadata"]["next_cursor"] == ""

    assert client.users_info(user="U1")["user"]["name"] == "alice"
    assert error_of(lambda: client.users_info(user="U9")) == "user_not_found"
    page = client.users_list(limit=2)
    rest = client.users_list(limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [u["id"] for u in page["members"] + rest["members"]] == ["U1", "U2", "U0BOT"]

    groups = client.usergroups_list(include_users=True, include_count=True)["usergroups"]
    assert groups[0]["handle"] == "oncall"
    assert groups[0]["users"] == ["U1", "U2"]
    assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U1", "U2"]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NONE")) == ("no_such_subteam")
    assert slack.warnings == []


def test_views(slack: SlackStandIn, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("Top errors")]}
    published = client.views_publish(user_id="U1", view=home)["view"]
    assert slack.home_view("U1")["blocks"] == home["blocks"]  # type: ignore[index]
    assert error_of(lambda: client.views_publish(user_id="U1", view=home, hash="stale")) == (
        "hash_conflict"
    )
    client.views_publish(user_id="U1", view=home, hash=published["hash"])
    assert error_of(lambda: client.views_publish(user_id="U1", view={"type": "modal"})) == (
        "invalid_arguments"
    )
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Mute"},
        "blocks": [section("Mute this group?")],
    }
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=modal)) == (
        "invalid_trigger_id"
    )


# --------------------------------------------------------------------------- Bolt, signed requests


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def bolt(slack: SlackStandIn) -> Iterator[str]:
    """A tiny Bolt app on a thread, its Web API client pointed at the stand-in."""
    # Bolt ignores `token=` when a `client` is given: the token goes into the client.
    app = App(signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=slack.api_url))

    @app.command("/triage")
    def triage(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack(text=f"Looking up {command['text']}…")
        if command["text"] == "modal":
            client.views_open(
                trigger_id=command["trigger_id"],
                view={
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Top errors"},
                    "blocks": [section("none")],
                },
            )
            return
        client.chat_postMessage(
            channel=command["channel_id"], text="TypeError", blocks=alert_blocks()
        )
        respond(text="posted", response_type="ephemeral")

    @app.action("ack")
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        assert json.loads(action["value"]) == {"g": "fp1:abc"}
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"acked by <@{body['user']['id']}> in {action['block_id']}",
            blocks=[section(f"acked by <@{body['user']['id']}>")],
        )

    @app.action("snooze")
    def on_snooze(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(replace_original=True, text=f"snoozed {action['selected_option']['value']}")

    @app.action("assign")
    def on_assign(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(text=f"assigned to {action['selected_user']}")

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [section("home")]}
        )

    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_signed_slash_command_and_button_click(slack: SlackStandIn, bolt: str) -> None:
    status, body = slack.send_slash_command(bolt, "/triage", "top", user_id="U1")
    assert status == 200
    assert body == "Looking up top…"  # Bolt answers a text-only ack as text/plain
    assert slack.wait_for(lambda: slack.messages("C0ALERTS"))
    assert slack.wait_for(lambda: any(r.via == "response_url" for r in slack.responses))
    assert {(r.via, r.effect) for r in slack.responses} == {
        ("ack", "ephemeral"),
        ("response_url", "ephemeral"),
    }
    texts = {e["text"] for e in slack.ephemerals("C0ALERTS", "U1")}
    assert texts == {"Looking up top…", "posted"}  # the listener may respond before the ack

    [alert] = slack.messages("C0ALERTS")
    status, _ = slack.click_button(bolt, "C0ALERTS", alert["ts"], "ack", user_id="U2")
    assert status == 200
    assert slack.wait_for(lambda: slack.calls_for("chat.update"))
    assert slack.messages("C0ALERTS")[0]["text"] == "acked by <@U2> in alert_actions"

    sent = slack.deliveries[-1].payload
    assert sent["container"] == {
        "type": "message",
        "message_ts": alert["ts"],
        "channel_id": "C0ALERTS",
        "is_ephemeral": False,
    }
    assert sent["actions"][0]["type"] == "button"
    assert sent["message"]["blocks"] == alert_blocks()
    assert slack.warnings == []


def test_select_option_and_user(slack: SlackStandIn, bolt: str, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0ALERTS", text="TypeError", blocks=alert_blocks())["ts"]
    assert slack.select_option(bolt, "C0ALERTS", ts, "snooze", "1d")[0] == 200
    assert slack.wait_for(lambda: slack.messages("C0ALERTS")[0]["text"] == "snoozed 1d")
    assert "blocks" not in slack.messages("C0ALERTS")[0]  # replace_original without blocks
    action = slack.deliveries[-1].payload["actions"][0]
    assert action["selected_option"]["value"] == "1d"
    assert action["block_id"] == "alert_actions"

    slack.reset()
    ts = client.chat_postMessage(channel="C0ALERTS", text="TypeError", blocks=alert_blocks())["ts"]
    assert slack.select_user(bolt, "C0ALERTS", ts, "assign", "U2")[0] == 200
    assert slack.wait_for(lambda: slack.ephemerals("C0ALERTS", "U1"))
    assert slack.ephemerals("C0ALERTS", "U1")[0]["text"] == "assigned to U2"
    payload = slack.deliveries[-1].payload
    assert payload["state"]["values"]["alert_actions"]["assign"] == {
        "type": "users_select",
        "selected_user": "U2",
    }


@pytest.mark.parametrize("signing", ["bad_signature", "stale", "unsigned"])
def test_wrongly_signed_requests_are_rejected(
    slack: SlackStandIn, bolt: str, client: WebClient, signing: Any
) -> None:
    ts = client.chat_postMessage(channel="C0ALERTS", text="TypeError", blocks=alert_blocks())["ts"]
    calls_before = len(slack.calls)
    assert slack.send_slash_command(bolt, signing=signing)[0] == 401
    assert slack.click_button(bolt, "C0ALERTS", ts, "ack", signing=signing)[0] == 401
    assert slack.send_event(bolt, {"type": "url_verification"}, signing=signing)[0] == 401
    time.sleep(0.2)
    assert len(slack.calls) == calls_before


def test_events_and_trigger_id(slack: SlackStandIn, bolt: str) -> None:
    status, body = slack.send_event(bolt, {"type": "url_verification", "challenge": "c-123"})
    assert (status, json.loads(body)) == (200, {"challenge": "c-123"})

    assert slack.open_app_home(bolt, "U2")[0] == 200
    assert slack.wait_for(lambda: slack.home_view("U2") is not None)

    assert slack.send_slash_command(bolt, text="modal")[0] == 200
    assert slack.wait_for(lambda: slack.modals)
    assert slack.modals[0]["title"]["text"] == "Top errors"
    assert slack.warnings == []


def test_response_url_uses_are_limited(slack: SlackStandIn, bolt: str, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0ALERTS", text="TypeError", blocks=alert_blocks())["ts"]
    slack.click_button(bolt, "C0ALERTS", ts, "ack")
    url = slack.deliveries[-1].payload["response_url"]
    results = []
    for _ in range(6):
        req = urllib.request.Request(
            url,
            data=json.dumps({"text": "hi"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                results.append((resp.status, resp.read().decode()))
        except urllib.error.HTTPError as e:
            results.append((e.code, e.read().decode()))
    assert results == [(200, "ok")] * 5 + [(404, "used_url")]


def test_wait_for_times_out(slack: SlackStandIn) -> None:
    assert slack.wait_for(lambda: slack.messages("C0ALERTS"), timeout=0.1) is False


# --------------------------------------------------------------------------- sandbox UI


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*Count*\n5", [{"t": "b", "c": [{"t": "text", "s": "Count"}]}, {"t": "text", "s": "\n5"}]),
        ("a &lt;b&gt; &amp;amp; c", [{"t": "text", "s": "a <b> &amp; c"}]),
        (
            "x `a&lt;b` y",
            [{"t": "text", "s": "x "}, {"t": "code", "s": "a<b"}, {"t": "text", "s": " y"}],
        ),
        ("```\n*not bold* <@U1>\n```", [{"t": "pre", "s": "*not bold* <@U1>\n"}]),
        (
            "<@U1> <@U9>",
            [
                {"t": "mention", "s": "@alice", "id": "U1"},
                {"t": "text", "s": " "},
                {"t": "mention", "s": "@U9", "id": "U9"},
            ],
        ),
        (
            "<https://a.example/?x=1&amp;y=2|Logs>",
            [{"t": "link", "url": "https://a.example/?x=1&y=2", "c": [{"t": "text", "s": "Logs"}]}],
        ),
        ("<javascript:alert(1)|x>", [{"t": "text", "s": "<javascript:alert(1)|x>"}]),
        (
            "<!here> <#C0ALERTS>",
            [
                {"t": "mention", "s": "@here", "id": "here"},
                {"t": "text", "s": " "},
                {"t": "mention", "s": "#alerts", "id": "C0ALERTS"},
            ],
        ),
        (":eyes: by", [{"t": "emoji", "s": "\N{EYES}", "name": "eyes"}, {"t": "text", "s": " by"}]),
        (
            "snake_case and 2*3*4 at 12:30:45",
            [{"t": "text", "s": "snake_case and 2*3*4 at 12:30:45"}],
        ),
    ],
)
def test_mrkdwn_tokens(text: str, expected: list[dict[str, Any]]) -> None:
    assert mrkdwn.tokens(text, {"U1": "alice"}, {"C0ALERTS": "alerts"}) == expected


def _ui(
    slack: SlackStandIn,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(slack.base_url + path, data=data, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_ui_page_and_state(slack: SlackStandIn, client: WebClient) -> None:
    with urllib.request.urlopen(slack.ui_url, timeout=5) as resp:
        assert resp.status == 200
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert b'<script src="/static/app.js"' in resp.read()
    for name in ("app.js", "style.css"):
        with urllib.request.urlopen(f"{slack.base_url}/static/{name}", timeout=5) as resp:
            assert resp.status == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{slack.base_url}/static/..%2Fui.py", timeout=5)
    assert info.value.code == 404

    ts = client.chat_postMessage(channel="C0ALERTS", text="x", blocks=alert_blocks())["ts"]
    client.chat_postMessage(channel="C0ALERTS", thread_ts=ts, text="reply <@U2>")
    client.chat_postEphemeral(channel="C0ALERTS", user="U1", text="just you")
    status, state = _ui(slack, "/ui/state")
    assert status == 200 and state["bot_url"] is None
    alerts = next(c for c in state["channels"] if c["id"] == "C0ALERTS")
    assert alerts["label"] == "#alerts"
    [msg] = alerts["messages"]
    assert msg["blocks"][0]["text"][0] == {"t": "b", "c": [{"t": "text", "s": "TypeError"}]}
    snooze = msg["blocks"][1]["elements"][1]
    assert snooze["type"] == "static_select" and snooze["placeholder"] == "Snooze"
    assert [o["value"] for o in snooze["options"]] == ["1h", "1d"]
    assert msg["replies"][0]["text"][1] == {"t": "mention", "s": "@bob", "id": "U2"}
    assert alerts["ephemerals"][0]["user"] == "U1"
    assert [u["name"] for u in state["users"] if not u["is_bot"]] == ["alice", "bob"]

    assert _ui(slack, f"/ui/state?since={state['etag']}")[1] == {
        "etag": state["etag"],
        "unchanged": True,
    }
    client.chat_update(channel="C0ALERTS", ts=ts, text="edited")
    status, again = _ui(slack, f"/ui/state?since={state['etag']}")
    assert again["etag"] != state["etag"]
    assert next(c for c in again["channels"] if c["id"] == "C0ALERTS")["messages"][0]["edited"]


def test_ui_actions_are_sent_signed_to_the_bot(
    slack: SlackStandIn, bolt: str, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="C0ALERTS", text="x", blocks=alert_blocks())["ts"]
    click = {"channel": "C0ALERTS", "ts": ts, "action_id": "ack", "user": "U2"}
    status, answer = _ui(slack, "/ui/click", click)
    assert status == 409 and "bot URL" in answer["error"]

    slack.bot_url = bolt
    assert _ui(slack, "/ui/click", click) == (200, {"ok": True, "status": 200, "body": ""})
    assert slack.wait_for(lambda: slack.messages("C0ALERTS")[0]["text"].startswith("acked"))
    assert slack.messages("C0ALERTS")[0]["text"] == "acked by <@U2> in alert_actions"
    assert slack.deliveries[-1].signing == "valid"

    pick = {"channel": "C0ALERTS", "ts": ts, "action_id": "assign", "user": "U1"}
    ts = client.chat_postMessage(channel="C0ALERTS", text="x", blocks=alert_blocks())["ts"]
    assert _ui(slack, "/ui/select_user", pick | {"ts": ts, "selected_user": "U2"})[1]["ok"]
    assert slack.deliveries[-1].payload["actions"][0]["selected_user"] == "U2"
    select = {"channel": "C0ALERTS", "ts": ts, "action_id": "snooze", "value": "1h", "user": "U1"}
    assert _ui(slack, "/ui/select", select)[1]["ok"]
    assert slack.deliveries[-1].payload["actions"][0]["selected_option"]["value"] == "1h"

    command = {"channel": "C0ALERTS", "command": "/triage", "text": "top", "user": "U1"}
    status, answer = _ui(slack, "/ui/command", command)
    assert (status, answer["ok"], answer["body"]) == (200, True, "Looking up top…")
    assert slack.wait_for(lambda: len(slack.ephemerals("C0ALERTS", "U1")) >= 2)

    # Refused: bad input, and anything a page on another site could send.
    assert _ui(slack, "/ui/click", click | {"ts": "1.000000"})[0] == 404
    ts = client.chat_postMessage(channel="C0ALERTS", text="x", blocks=alert_blocks())["ts"]
    assert _ui(slack, "/ui/select", select | {"ts": ts, "value": "nope"})[0] == 400
    assert _ui(slack, "/ui/click", click | {"user": "U0BOT"})[0] == 400
    assert _ui(slack, "/ui/command", command | {"command": "triage"})[0] == 400
    assert _ui(slack, "/ui/click", click, {"Content-Type": "text/plain"})[0] == 403
    assert _ui(slack, "/ui/click", click, {"Origin": "http://evil.example"})[0] == 403
    slack.bot_url = "http://127.0.0.1:9/slack/events"  # nothing listens there
    assert _ui(slack, "/ui/click", click | {"ts": ts})[0] == 502
    with pytest.raises(ValueError):
        slack.bot_url = "file:///etc/passwd"


def test_ui_port_is_configurable() -> None:
    from triage_sandbox.service import free_port

    port = free_port()
    with SlackStandIn(SECRET, TOKEN, port=port, bot_url="http://127.0.0.1:1/slack/events") as s:
        assert s.ui_url == f"http://127.0.0.1:{port}/"
        assert s.bot_url == "http://127.0.0.1:1/slack/events"
        with urllib.request.urlopen(s.ui_url, timeout=5) as resp:
            assert resp.status == 200
