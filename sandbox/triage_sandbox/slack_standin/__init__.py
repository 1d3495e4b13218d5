"""A local stand-in for Slack, for tests and `make demo` (Slack itself is not reachable).

It plays both sides of the wire:

* the Web API at ``http://127.0.0.1:PORT/api/<method>``: point ``slack_sdk.WebClient(base_url=
  standin.api_url)`` at it. Every call is checked against Slack's published Web API description
  (the methods the bot may use, extracted into ``slack_methods.json``), answered with realistic
  state (channels, threads, edits, views, reactions) and recorded;
* Slack -> app requests, signed with the signing secret as Slack signs them (slack_sdk's
  ``SignatureVerifier``): slash commands, ``block_actions`` payloads built from the stored
  message, and Events API envelopes;
  plus the ``response_url`` endpoint (``/response/<id>``) that Bolt's ``respond()`` posts to;
* a browsable sandbox at ``http://HOST:PORT/`` (``ui_url``; :mod:`triage_sandbox.ui`): channels and
  the bot's messages rendered as Slack would, whose buttons, selects and slash-command box make
  the stand-in send the app (``bot_url``) the same signed requests. ``SlackStandIn(...,
  port=3000, bot_url="http://127.0.0.1:8000/slack/events")`` serves it on a fixed port;
* Socket Mode: ``apps.connections.open`` (app-level token ``app_token``) hands out a
  ``ws://HOST:PORT/socket/<ticket>`` URL (a port of its own, served by ``websockets``).
  It greets with ``hello``; ``socket_slash_command``, ``socket_click_button`` and
  ``socket_event`` push envelopes as Slack does, and the app's acks are recorded
  (``socket_acks``, ``socket_ack(envelope_id)``).

Faults for tests: ``inject()`` queues HTTP 429 (with ``Retry-After``), 5xx or ``ok: false``
answers, and a per-channel ``chat.postMessage`` rate limit (1/s like Slack) can be switched on.

All state sits behind one lock, so the server threads, the test thread and the bot's threads can
all use one instance. Where each part lives:

* ``standin``: :class:`SlackStandIn` (lifecycle, configuration, inspection);
* ``workspace``: the state the Web API answers from; ``webapi``: checking, authenticating,
  recording calls and faults; ``methods/``: one function per Web API method;
* ``blockkit``: Block Kit validation; ``app_requests``: signed Slack -> app requests;
  ``response_url``; ``socket_mode``; ``server``: the HTTP plumbing; the browser UI is
  :mod:`triage_sandbox.ui`.
"""

from triage_sandbox.slack_standin.blockkit import block_kit_errors, view_errors
from triage_sandbox.slack_standin.model import (
    ACK_DEADLINE_SECONDS,
    MAX_BLOCKS,
    MAX_MARKDOWN_TEXT,
    MAX_MESSAGE_TEXT,
    RESPONSE_URL_TTL_SECONDS,
    RESPONSE_URL_USES,
    SOCKET_TICKET_TTL_SECONDS,
    STALE_AFTER_SECONDS,
    ApiCall,
    Channel,
    Delivery,
    ResponsePost,
    Signing,
    SlackError,
    SocketAck,
    SocketEnvelope,
    Surface,
    User,
    Usergroup,
)
from triage_sandbox.slack_standin.standin import SlackStandIn
from triage_sandbox.slack_standin.webapi import METHODS_FILE, MethodSpec, load_method_specs, web_api
from triage_sandbox.slack_standin.workspace import Workspace

__all__ = [
    "ACK_DEADLINE_SECONDS",
    "MAX_BLOCKS",
    "MAX_MARKDOWN_TEXT",
    "MAX_MESSAGE_TEXT",
    "METHODS_FILE",
    "RESPONSE_URL_TTL_SECONDS",
    "RESPONSE_URL_USES",
    "SOCKET_TICKET_TTL_SECONDS",
    "STALE_AFTER_SECONDS",
    "ApiCall",
    "Channel",
    "Delivery",
    "MethodSpec",
    "ResponsePost",
    "Signing",
    "SlackError",
    "SlackStandIn",
    "SocketAck",
    "SocketEnvelope",
    "Surface",
    "User",
    "Usergroup",
    "Workspace",
    "block_kit_errors",
    "load_method_specs",
    "view_errors",
    "web_api",
]
