"""The /triage slash command: ack within 3 s, answer through respond (lazy listener)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from bot.query.commands import answer


def register(app: App, deps: Deps) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    def run(body: dict[str, Any], respond: Respond) -> None:
        reply = answer(
            deps,
            body.get("text", ""),
            user=body.get("user_id", ""),
            channel=body.get("channel_id", ""),
        )
        respond(
            text=reply.text,
            blocks=reply.blocks or None,
            response_type="in_channel" if reply.share else "ephemeral",
        )

    app.command("/triage")(ack=ack_now, lazy=[run])
