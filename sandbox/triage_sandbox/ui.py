"""The browsable side of the Slack stand-in: a small web app served by the stand-in's own HTTP
server (``standin.ui_url``, i.e. ``/``).

* ``GET /`` and ``GET /static/<file>``: the page (``static/``: vanilla HTML, JS and CSS);
* ``GET /ui/state[?since=ETAG]``: what the page shows, as JSON (see :func:`build_state`); the
  page polls it about once a second and gets ``{"etag": ..., "unchanged": true}`` when nothing
  changed;
* ``POST /ui/click``, ``/ui/select``, ``/ui/select_user``, ``/ui/command`` (JSON bodies): the
  stand-in sends the app (``standin.bot_url``) the same signed ``block_actions`` payload or slash
  command Slack would, through ``click_button`` / ``select_option`` / ``select_user`` /
  ``send_slash_command``, and answers ``{"ok", "status", "body"}``.

Untrusted text (log lines end up in alerts) never reaches the page as HTML: :func:`build_state`
turns every text object into :mod:`triage_sandbox.mrkdwn` tokens, which the page renders with
``textContent``; the page is also served with a strict Content-Security-Policy. The ``POST``
endpoints take ``application/json`` only and refuse cross-origin requests, so another site open
in the same browser cannot make the stand-in click buttons.

:func:`build_state` is pure; :func:`handle` is the HTTP glue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage_sandbox import mrkdwn

if TYPE_CHECKING:
    from triage_sandbox.slack_standin import SlackStandIn

STATIC_DIR = Path(__file__).with_name("static")
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_STATIC_NAME = re.compile(r"^[A-Za-z0-9_-]+\.[a-z]+$")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SELECTS = ("static_select", "overflow", "radio_buttons")
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- state (pure)


def build_state(snapshot: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """The page's model, from ``SlackStandIn.ui_snapshot()``: channels, users, messages and
    ephemerals with every text already tokenized, and recent activity. Pure (``now`` only
    stamps the answer)."""
    users = {uid: u.name for uid, u in snapshot["users"].items()}
    channels = snapshot["channels"]
    names = {cid: ch.name for cid, ch in channels.items() if not ch.is_im}
    r = _Renderer(users, names)
    out_channels = []
    for cid, ch in channels.items():
        label = f"@{users.get(ch.user or '', ch.user)}" if ch.is_im else f"#{ch.name}"
        out_channels.append(
            {
                "id": cid,
                "name": ch.name,
                "label": label,
                "is_im": ch.is_im,
                "is_private": ch.is_private,
                "is_member": ch.is_member,
                "is_archived": ch.is_archived,
                "topic": ch.topic,
                "purpose": ch.purpose,
                "members": [users.get(u, u) for u in ch.members],
                "pins": list(ch.pins),
                "messages": [r.message(m) for m in snapshot["messages"].get(cid, [])],
                "ephemerals": [
                    r.ephemeral(e) for e in snapshot["ephemerals"] if e.get("channel") == cid
                ],
            }
        )
    return {
        "team": {"id": snapshot["team_id"], "domain": snapshot["team_domain"]},
        "bot": {"id": snapshot["bot_user_id"], "name": snapshot["bot_name"]},
        "bot_url": snapshot["bot_url"],
        "users": [
            {"id": uid, "name": u.name, "real_name": u.real_name or u.name, "is_bot": u.is_bot}
            for uid, u in snapshot["users"].items()
        ],
        "channels": out_channels,
        "activity": {
            "calls": [
                {
                    "method": c.method,
                    "status": c.status,
                    "ok": c.ok,
                    "error": c.error,
                    "injected": c.injected,
                    "time": c.time,
                }
                for c in snapshot["calls"]
            ],
            "deliveries": [
                {
                    "kind": d.kind,
                    "status": d.status,
                    "seconds": round(d.seconds, 3),
                    "signing": d.signing,
                    "what": _delivery_label(d.kind, d.payload),
                }
                for d in snapshot["deliveries"]
            ],
        },
        "now": time.time() if now is None else now,
    }


def _delivery_label(kind: str, payload: Mapping[str, Any]) -> str:
    if kind == "command":
        return f"{payload.get('command', '')} {payload.get('text', '')}".strip()
    if kind == "block_actions":
        actions = payload.get("actions") or [{}]
        return str(actions[0].get("action_id", ""))
    if kind == "event":
        return str((payload.get("event") or {}).get("type", ""))
    return kind


class _Renderer:
    """Block Kit -> the page's model. Every text becomes tokens; unknown parts are named."""

    def __init__(self, users: Mapping[str, str], channels: Mapping[str, str]) -> None:
        self.users = users
        self.channels = channels

    def text(self, obj: Any) -> list[mrkdwn.Token]:
        if isinstance(obj, str):
            return mrkdwn.tokens(obj, self.users, self.channels)
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            return []
        if obj.get("type") == "mrkdwn":
            if obj.get("verbatim"):
                return [{"t": "text", "s": mrkdwn.decode_entities(obj["text"])}]
            return mrkdwn.tokens(obj["text"], self.users, self.channels)
        return mrkdwn.plain_tokens(obj["text"], emoji=obj.get("emoji", True) is not False)

    @staticmethod
    def plain(obj: Any) -> str:
        if isinstance(obj, dict) and isinstance(obj.get("text"), str):
            return str(obj["text"])
        return ""

    def message(self, m: Mapping[str, Any]) -> dict[str, Any]:
        out = self._body(m)
        out.update(
            user=m.get("user"),
            user_name=self._author(m),
            is_bot=bool(m.get("bot_id")),
            edited=bool(m.get("edited")),
            deleted=m.get("subtype") == "tombstone",
            broadcast=m.get("subtype") == "thread_broadcast",
            thread_ts=m.get("thread_ts"),
            pinned=bool(m.get("pinned_to")),
            files=[
                {
                    "id": f.get("id"),
                    "title": f.get("title") or f.get("name"),
                    "name": f.get("name"),
                    "preview": f.get("preview") or "",
                }
                for f in m.get("files") or []
                if isinstance(f, dict)
            ],
            reactions=[
                {
                    "name": r.get("name"),
                    "emoji": mrkdwn.EMOJI.get(str(r.get("name")), f":{r.get('name')}:"),
                    "count": r.get("count", 0),
                }
                for r in m.get("reactions") or []
            ],
            replies=[self.message(r) for r in m.get("replies") or []],
        )
        return out

    def ephemeral(self, e: Mapping[str, Any]) -> dict[str, Any]:
        out = self._body(e)
        out.update(user=e.get("user"), thread_ts=e.get("thread_ts"), source=e.get("source"))
        return out

    def _author(self, m: Mapping[str, Any]) -> str:
        profile = m.get("bot_profile") or {}
        if profile.get("name"):
            return str(profile["name"])
        uid = str(m.get("user") or "")
        return self.users.get(uid, uid or "unknown")

    def _body(self, m: Mapping[str, Any]) -> dict[str, Any]:
        blocks = m.get("blocks") or []
        return {
            "ts": m.get("ts"),
            "text": [] if blocks else self.text(str(m.get("text") or "")),
            "blocks": [self.block(b) for b in blocks if isinstance(b, dict)],
        }

    # blocks ---------------------------------------------------------------
    def block(self, b: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(b.get("type"))
        base: dict[str, Any] = {"type": kind, "block_id": b.get("block_id")}
        if kind == "header":
            base["text"] = self.text(b.get("text"))
        elif kind == "section":
            base["text"] = self.text(b.get("text")) if b.get("text") else None
            base["fields"] = [self.text(f) for f in b.get("fields") or []]
            acc = b.get("accessory")
            base["accessory"] = self.element(acc) if isinstance(acc, dict) else None
        elif kind == "context":
            base["elements"] = [
                {"image": self.plain({"text": e.get("alt_text", "")})}
                if isinstance(e, dict) and e.get("type") == "image"
                else {"text": self.text(e)}
                for e in b.get("elements") or []
            ]
        elif kind == "actions":
            base["elements"] = [
                self.element(e) for e in b.get("elements") or [] if isinstance(e, dict)
            ]
        elif kind == "image":
            base["alt"] = str(b.get("alt_text") or "")
            base["title"] = self.plain(b.get("title"))
        elif kind == "markdown":
            base["text"] = mrkdwn.tokens(str(b.get("text") or ""), self.users, self.channels)
        elif kind == "rich_text":
            base["text"] = self.rich_text(b.get("elements") or [])
        elif kind == "input":
            base["label"] = self.plain(b.get("label"))
            el = b.get("element")
            base["element"] = self.element(el) if isinstance(el, dict) else None
        elif kind != "divider":
            base["type"] = "unsupported"
            base["raw_type"] = kind
        return base

    def rich_text(self, elements: list[Any]) -> list[mrkdwn.Token]:
        out: list[mrkdwn.Token] = []
        for el in elements:
            if not isinstance(el, dict):
                continue
            kind = el.get("type")
            inner = self.rich_inline(el.get("elements") or [])
            if kind == "rich_text_preformatted":
                out.append({"t": "pre", "s": "".join(_flat(inner))})
            elif kind == "rich_text_list":
                for item in el.get("elements") or []:
                    out.append({"t": "text", "s": "\u2022 "})
                    out.extend(self.rich_text([item]))
                    out.append({"t": "text", "s": "\n"})
            elif kind == "rich_text_quote":
                out.append({"t": "text", "s": "> "})
                out.extend(inner)
                out.append({"t": "text", "s": "\n"})
            else:
                out.extend(inner)
        return out

    def rich_inline(self, elements: list[Any]) -> list[mrkdwn.Token]:
        out: list[mrkdwn.Token] = []
        for el in elements:
            if not isinstance(el, dict):
                continue
            kind = el.get("type")
            tok: mrkdwn.Token
            if kind == "text":
                tok = {"t": "text", "s": str(el.get("text", ""))}
                style = el.get("style") or {}
                if style.get("code"):
                    tok = {"t": "code", "s": tok["s"]}
                for flag, t in (("bold", "b"), ("italic", "i"), ("strike", "s")):
                    if style.get(flag):
                        tok = {"t": t, "c": [tok]}
            elif kind == "link":
                url = str(el.get("url", ""))
                label: mrkdwn.Token = {"t": "text", "s": str(el.get("text") or url)}
                tok = {"t": "link", "url": url, "c": [label]} if mrkdwn.safe_url(url) else label
            elif kind == "user":
                uid = str(el.get("user_id", ""))
                tok = {"t": "mention", "s": f"@{self.users.get(uid, uid)}", "id": uid}
            elif kind == "channel":
                cid = str(el.get("channel_id", ""))
                tok = {"t": "mention", "s": f"#{self.channels.get(cid, cid)}", "id": cid}
            elif kind == "emoji":
                name = str(el.get("name", ""))
                tok = {"t": "emoji", "s": mrkdwn.EMOJI.get(name, f":{name}:"), "name": name}
            else:
                continue
            out.append(tok)
        return out

    # elements -------------------------------------------------------------
    def element(self, e: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(e.get("type"))
        out: dict[str, Any] = {"type": kind, "action_id": e.get("action_id")}
        if kind == "button":
            url = str(e.get("url") or "")
            out.update(
                text=self.plain(e.get("text")),
                value=e.get("value"),
                style=e.get("style"),
                url=url if re.match(r"^https?://", url) else None,
            )
        elif kind in _SELECTS:
            initial = e.get("initial_option") or {}
            out.update(
                placeholder=self.plain(e.get("placeholder")),
                options=[
                    {"text": self.plain(o.get("text")), "value": o.get("value")}
                    for o in _options(e)
                ],
                initial=initial.get("value") if isinstance(initial, dict) else None,
            )
        elif kind == "users_select":
            out.update(placeholder=self.plain(e.get("placeholder")), initial=e.get("initial_user"))
        else:
            out["type"] = "unsupported"
            out["raw_type"] = kind
            out["placeholder"] = self.plain(e.get("placeholder")) or self.plain(e.get("text"))
        if isinstance(e.get("confirm"), dict):
            c = e["confirm"]
            out["confirm"] = {
                "title": self.plain(c.get("title")),
                "text": self.plain(c.get("text")),
            }
        return out


def _options(e: Mapping[str, Any]) -> list[dict[str, Any]]:
    opts = [o for o in e.get("options") or [] if isinstance(o, dict)]
    for group in e.get("option_groups") or []:
        if isinstance(group, dict):
            opts.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return opts


def _flat(toks: list[mrkdwn.Token]) -> list[str]:
    out: list[str] = []
    for tok in toks:
        if "s" in tok:
            out.append(str(tok["s"]))
        out.extend(_flat(tok.get("c") or []))
    return out


# --------------------------------------------------------------------------- HTTP glue


def handles(path: str) -> bool:
    """Whether ``path`` belongs to the UI (the Web API and response URLs keep theirs)."""
    return path in ("/", "/index.html", "/favicon.ico") or path.startswith(("/ui/", "/static/"))


def _json(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Answer:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Answer(
        status,
        body,
        "application/json; charset=utf-8",
        {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **(headers or {})},
    )


def _static(name: str) -> Answer:
    path = STATIC_DIR / name
    ctype = _STATIC_TYPES.get(path.suffix)
    if not _STATIC_NAME.match(name) or ctype is None or not path.is_file():
        return Answer(404, b"not found", "text/plain; charset=utf-8")
    headers = {
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer",
    }
    return Answer(200, path.read_bytes(), ctype, headers)


def handle(
    standin: SlackStandIn,
    verb: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Answer:
    """Answer one UI request (``headers`` with canonical names, as the stand-in passes them)."""
    if verb == "GET":
        if path in ("/", "/index.html"):
            return _static("index.html")
        if path == "/favicon.ico":
            return Answer(204, b"", "image/x-icon")
        if path.startswith("/static/"):
            return _static(path[len("/static/") :])
        if path == "/ui/state":
            state = build_state(standin.ui_snapshot())
            stamp = state.pop("now")
            etag = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:20]
            since = urllib.parse.parse_qs(query).get("since", [""])[0]
            if since == etag:
                return _json(200, {"etag": etag, "unchanged": True})
            return _json(200, {"etag": etag, "now": stamp, **state})
        return _json(404, {"ok": False, "error": "not found"})
    if verb != "POST":
        return _json(405, {"ok": False, "error": "method not allowed"})
    refused = _refuse_cross_site(headers)
    if refused:
        return _json(403, {"ok": False, "error": refused})
    try:
        args = json.loads(body[:MAX_BODY] or b"{}")
    except ValueError:
        return _json(400, {"ok": False, "error": "the body is not JSON"})
    if not isinstance(args, dict):
        return _json(400, {"ok": False, "error": "the body must be a JSON object"})
    return _post(standin, path, args)


def _refuse_cross_site(headers: Mapping[str, str]) -> str | None:
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return "Content-Type must be application/json"
    origin = headers.get("Origin")
    host = headers.get("Host") or ""
    if origin and urllib.parse.urlsplit(origin).netloc != host:
        return "cross-origin request refused"
    return None


def _post(standin: SlackStandIn, path: str, args: Mapping[str, Any]) -> Answer:
    action = path[len("/ui/") :]
    if action not in ("click", "select", "select_user", "command"):
        return _json(404, {"ok": False, "error": "not found"})
    bot_url = standin.bot_url
    if not bot_url:
        error = "no bot URL is configured: set standin.bot_url to the app's /slack/events URL"
        return _json(409, {"ok": False, "error": error})
    strings = {k: v for k, v in args.items() if isinstance(v, str)}
    user = strings.get("user", "")
    known = standin.users
    if user not in known or known[user].is_bot:
        return _json(400, {"ok": False, "error": f"unknown user {user!r}"})
    try:
        channel = strings["channel"]
        if action == "command":
            command, text = strings["command"], strings.get("text", "")
            if not re.fullmatch(r"/[\w-]{1,32}", command):
                return _json(400, {"ok": False, "error": f"not a slash command: {command!r}"})
            status, answer = standin.send_slash_command(bot_url, command, text, user, channel)
        elif action == "click":
            status, answer = standin.click_button(
                bot_url, channel, strings["ts"], strings["action_id"], strings.get("value"), user
            )
        elif action == "select":
            status, answer = standin.select_option(
                bot_url, channel, strings["ts"], strings["action_id"], strings["value"], user
            )
        else:
            status, answer = standin.select_user(
                bot_url,
                channel,
                strings["ts"],
                strings["action_id"],
                strings["selected_user"],
                user,
            )
    except KeyError as e:
        return _json(400, {"ok": False, "error": f"missing {e.args[0]!r}"})
    except LookupError as e:
        return _json(404, {"ok": False, "error": str(e)})
    except ValueError as e:
        return _json(400, {"ok": False, "error": str(e)})
    except OSError as e:  # the app is down or unreachable
        return _json(502, {"ok": False, "error": f"could not reach the app at {bot_url}: {e}"})
    ok = status == 200
    return _json(200, {"ok": ok, "status": status, "body": answer[:2000]})


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Serve a stand-in with its UI alone: point the app's ``SLACK_API_URL`` at the printed
    Web API URL and give ``--bot-url`` the app's request URL."""
    from triage_sandbox.slack_standin import SlackStandIn

    parser = argparse.ArgumentParser(prog="python -m triage_sandbox.ui", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--bot-token", default="xoxb-sandbox")
    parser.add_argument("--bot-url", default=None, help="e.g. http://127.0.0.1:8000/slack/events")
    args = parser.parse_args(argv)
    standin = SlackStandIn(
        args.signing_secret, args.bot_token, host=args.host, port=args.port, bot_url=args.bot_url
    )
    with standin:
        print(f"Slack sandbox UI: {standin.ui_url}", flush=True)
        print(f"Web API (SLACK_API_URL): {standin.api_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
