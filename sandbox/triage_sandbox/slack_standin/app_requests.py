"""Slack -> app requests, signed with the signing secret as Slack signs them: slash commands,
``block_actions`` payloads built from the stored message (clicks and selects), and Events API
envelopes. The payload builders are shared with Socket Mode, which sends the same payloads in
envelopes instead of HTTP requests."""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from slack_sdk.signature import SignatureVerifier

from triage_sandbox.slack_standin.blockkit import all_options, interactive_elements
from triage_sandbox.slack_standin.model import STALE_AFTER_SECONDS, Delivery, Signing
from triage_sandbox.slack_standin.response_url import ResponseUrls
from triage_sandbox.slack_standin.workspace import Workspace

# The element types whose current value travels in a block_actions payload's ``state``:
# (the payload's field, the block's field for the initial value).
_STATEFUL_ELEMENTS = {
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_users_select": ("selected_users", "initial_users"),
    "checkboxes": ("selected_options", "initial_options"),
    "radio_buttons": ("selected_option", "initial_option"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "plain_text_input": ("value", "initial_value"),
}


class AppRequests:
    """The Slack -> app half of :class:`~triage_sandbox.slack_standin.SlackStandIn`."""

    workspace: Workspace
    signing_secret: str
    verification_token: str
    team_id: str
    team_domain: str
    app_id: str
    bot_user_id: str
    _lock: threading.RLock
    _response_urls: ResponseUrls
    _deliveries: list[Delivery]

    def _user_payload(self, user_id: str) -> dict[str, Any]:
        name = self.workspace.users[user_id].name if user_id in self.workspace.users else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    @staticmethod
    def _encode(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
        """(body, Content-Type) of a request of this kind, as Slack encodes it."""
        form = "application/x-www-form-urlencoded"
        if kind == "command":
            return urllib.parse.urlencode(payload), form
        if kind == "block_actions":
            return urllib.parse.urlencode({"payload": json.dumps(payload)}), form
        return json.dumps(payload), "application/json"  # event, url_verification

    def _deliver(
        self,
        bot_url: str,
        kind: str,
        payload: dict[str, Any],
        signing: Signing,
        timeout: float,
    ) -> tuple[int, str]:
        body, content_type = self._encode(kind, payload)
        timestamp = int(time.time())
        if signing == "stale":
            timestamp -= STALE_AFTER_SECONDS + 60
        secret = self.signing_secret if signing != "bad_signature" else "not-" + self.signing_secret
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
        }
        if signing != "unsigned":
            headers["X-Slack-Request-Timestamp"] = str(timestamp)
            headers["X-Slack-Signature"] = SignatureVerifier(secret).generate_signature(
                timestamp=str(timestamp), body=body
            )
        request = urllib.request.Request(
            bot_url, data=body.encode(), headers=headers, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        seconds = time.monotonic() - started
        with self._lock:
            self._deliveries.append(
                Delivery(kind, bot_url, signing, payload, status, text, seconds)
            )
        return status, text

    def send_slash_command(
        self,
        bot_url: str,
        command: str = "/triage",
        text: str = "top",
        user_id: str = "U1",
        channel_id: str = "C0ALERTS",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """POST a slash command to the app, form-encoded and signed like Slack. A JSON ack body
        is treated as Slack treats it (an ephemeral or in-channel response)."""
        payload = self._slash_payload(command, text, user_id, channel_id)
        response_url = payload["response_url"]
        status, answer = self._deliver(bot_url, "command", payload, signing, timeout)
        if status == 200 and answer.strip():
            with self._lock:
                self._response_urls.record_ack(response_url, answer)
        return status, answer

    def _slash_payload(
        self, command: str, text: str, user_id: str, channel_id: str
    ) -> dict[str, str]:
        """A slash command's fields, as Slack form-encodes them (and puts them in an envelope's
        ``payload`` in Socket Mode)."""
        with self._lock:
            return {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel_id,
                "channel_name": self.workspace.channel_name(channel_id),
                "user_id": user_id,
                "user_name": self._user_payload(user_id)["username"],
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": self._response_urls.new("command", channel_id, user_id, None, True),
                "trigger_id": self.workspace.new_trigger(),
            }

    def _element_in_message(
        self,
        channel: str,
        ts: str,
        action_id: str,
        kinds: tuple[str, ...],
        option_value: str | None = None,
    ) -> tuple[str, dict[str, Any], str | None, dict[str, Any]]:
        """The element ``action_id`` of a message; Slack wants action ids unique per block
        only, so with ``option_value`` the first such element offering that option."""
        with self._lock:
            cid = self.workspace.channel_id(channel, by_name=True, open_dm=False)
            msg = self.workspace.messages.get(cid, {}).get(ts)
            if msg is None:
                raise LookupError(f"no message {ts} in {channel}")
            for block_id, element in interactive_elements(msg.get("blocks") or []):
                if element.get("action_id") == action_id:
                    if option_value is not None and not any(
                        o.get("value") == option_value for o in all_options(element)
                    ):
                        continue
                    if element.get("type") not in kinds:
                        raise ValueError(
                            f"{action_id!r} is a {element.get('type')}, not one of {kinds}"
                        )
                    return cid, copy.deepcopy(msg), block_id, copy.deepcopy(element)
        raise LookupError(f"no element with action_id {action_id!r} in message {ts}")

    def _send_block_action(
        self,
        bot_url: str,
        cid: str,
        msg: dict[str, Any],
        block_id: str | None,
        action: dict[str, Any],
        user_id: str,
        signing: Signing,
        timeout: float,
    ) -> tuple[int, str]:
        payload = self._block_action_payload(cid, msg, block_id, action, user_id)
        return self._deliver(bot_url, "block_actions", payload, signing, timeout)

    def _block_action_payload(
        self,
        cid: str,
        msg: dict[str, Any],
        block_id: str | None,
        action: dict[str, Any],
        user_id: str,
    ) -> dict[str, Any]:
        with self._lock:
            ts = msg["ts"]
            container: dict[str, Any] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": cid,
                "is_ephemeral": False,
            }
            if msg.get("thread_ts") not in (None, ts):
                container["thread_ts"] = msg["thread_ts"]
            state: dict[str, dict[str, Any]] = {}
            for bid, element in interactive_elements(msg.get("blocks") or []):
                fields = _STATEFUL_ELEMENTS.get(str(element.get("type")))
                if fields is None or bid is None:
                    continue
                selected, initial = fields
                state.setdefault(bid, {})[element["action_id"]] = {
                    "type": element["type"],
                    selected: element.get(initial),
                }
            if block_id is not None and action["type"] in _STATEFUL_ELEMENTS:
                selected = _STATEFUL_ELEMENTS[action["type"]][0]
                state.setdefault(block_id, {})[action["action_id"]] = {
                    "type": action["type"],
                    selected: action.get(selected),
                }
            public_msg = {k: v for k, v in msg.items() if k != "replies"}
            return {
                "type": "block_actions",
                "user": self._user_payload(user_id),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": container,
                "trigger_id": self.workspace.new_trigger(),
                "team": {"id": self.team_id, "domain": self.team_domain},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": cid, "name": self.workspace.channel_name(cid)},
                "message": public_msg,
                "state": {"values": state},
                "response_url": self._response_urls.new("block_actions", cid, user_id, ts, False),
                "actions": [action],
            }

    def _action_base(self, element: dict[str, Any], block_id: str | None) -> dict[str, Any]:
        return {
            "action_id": element["action_id"],
            "block_id": block_id,
            "type": element["type"],
            "action_ts": f"{time.time():.6f}",
        }

    def click_button(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None = None,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Click the button ``action_id`` of the stored message ``ts`` (the ``block_actions``
        payload carries the message as it is now). ``value`` defaults to the button's."""
        cid, msg, block_id, action = self._button_action(channel, ts, action_id, value)
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def _button_action(
        self, channel: str, ts: str, action_id: str, value: str | None
    ) -> tuple[str, dict[str, Any], str | None, dict[str, Any]]:
        cid, msg, block_id, element = self._element_in_message(channel, ts, action_id, ("button",))
        action = self._action_base(element, block_id)
        action["text"] = element.get("text")
        if element.get("style"):
            action["style"] = element["style"]
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        return cid, msg, block_id, action

    def select_option(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Pick the option whose value is ``value`` in a static_select / overflow /
        radio_buttons element."""
        kinds = ("static_select", "overflow", "radio_buttons")
        try:
            found = self._element_in_message(channel, ts, action_id, kinds, value)
        except LookupError:
            found = self._element_in_message(channel, ts, action_id, kinds)
        cid, msg, block_id, element = found
        options = [o for o in all_options(element) if o.get("value") == value]
        if not options:
            raise ValueError(f"{action_id!r} has no option with value {value!r}")
        action = self._action_base(element, block_id)
        action["selected_option"] = options[0]
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def select_user(
        self,
        bot_url: str,
        channel: str,
        ts: str,
        action_id: str,
        selected_user: str,
        user_id: str = "U1",
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Pick ``selected_user`` in a users_select element."""
        cid, msg, block_id, element = self._element_in_message(
            channel, ts, action_id, ("users_select",)
        )
        action = self._action_base(element, block_id)
        action["selected_user"] = selected_user
        return self._send_block_action(
            bot_url, cid, msg, block_id, action, user_id, signing, timeout
        )

    def send_event(
        self,
        bot_url: str,
        event: dict[str, Any],
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """POST an Events API request. ``{"type": "url_verification", "challenge": ...}`` goes
        as is; any other event is wrapped in Slack's ``event_callback`` envelope (an
        ``app_home_opened`` event gets its ``channel`` and current ``view`` filled in)."""
        kind, payload = self._event_payload(event)
        return self._deliver(bot_url, kind, payload, signing, timeout)

    def resend(
        self,
        delivery: Delivery,
        bot_url: str | None = None,
        *,
        signing: Signing = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, str]:
        """Send a request from ``deliveries`` again, signed anew with the current time (what an
        attacker holding a captured request can do within Slack's five minutes), to its URL or
        ``bot_url``."""
        return self._deliver(
            bot_url or delivery.url, delivery.kind, delivery.payload, signing, timeout
        )

    def _event_payload(self, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        with self._lock:
            now = time.time()
            if event.get("type") == "url_verification":
                payload: dict[str, Any] = {
                    "token": self.verification_token,
                    "challenge": event.get("challenge") or secrets.token_urlsafe(24),
                    "type": "url_verification",
                }
                kind = "url_verification"
            else:
                inner = copy.deepcopy(event)
                inner.setdefault("event_ts", f"{now:.6f}")
                if inner.get("type") == "app_home_opened":
                    user = inner.get("user", "U1")
                    inner.setdefault("user", user)
                    inner.setdefault("tab", "home")
                    inner.setdefault("channel", self.workspace.dm_channel(user, create=True))
                    if user in self.workspace.home_views and "view" not in inner:
                        inner["view"] = copy.deepcopy(self.workspace.home_views[user])
                payload = {
                    "token": self.verification_token,
                    "team_id": self.team_id,
                    "context_team_id": self.team_id,
                    "api_app_id": self.app_id,
                    "event": inner,
                    "type": "event_callback",
                    "event_id": "Ev" + secrets.token_hex(5).upper(),
                    "event_time": int(now),
                    "authorizations": [
                        {
                            "enterprise_id": None,
                            "team_id": self.team_id,
                            "user_id": self.bot_user_id,
                            "is_bot": True,
                            "is_enterprise_install": False,
                        }
                    ],
                    "is_ext_shared_channel": False,
                    "event_context": "4-" + secrets.token_urlsafe(16),
                }
                kind = "event"
            return kind, payload

    def open_app_home(
        self, bot_url: str, user_id: str = "U1", *, signing: Signing = "valid"
    ) -> tuple[int, str]:
        """Send ``app_home_opened`` for ``user_id`` (the Home tab)."""
        return self.send_event(
            bot_url, {"type": "app_home_opened", "user": user_id, "tab": "home"}, signing=signing
        )

    # ------------------------------------------------------------------ Socket Mode
