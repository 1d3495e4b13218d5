"""README, "Code owners and who is on call": through `triage-bot serve`.

A monorepo service whose modules two teams own alerts each team in its own channel; a
CODEOWNERS file does the same; `/triage oncall` shows who is on call now and next from a
rotation and hands over at the configured time; `/triage oncall take` overrides it; an
escalation mentions whoever is on call then, and its repeat the team's fallback too.

A real process cannot fake time: rotations hand over a few seconds from now (a daily handoff
at a time computed from the clock)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.acceptance.harness import log_entry, message_text


def py_error(path: str, service: str = "mono", exc: str = "KeyError: 'total'") -> dict:
    """An error whose message is a Python traceback with its top in-app frame in `path`."""
    trace = (
        f"Traceback (most recent call last):\n"
        f'  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line 1, in wsgi\n'
        f"    return handler()\n"
        f'  File "{path}", line 42, in handle\n'
        f"    order['total']\n"
        f"{exc}"
    )
    return log_entry(service, trace)


TEAMS = """\
defaults: {update_interval: 1s, group_wait: 0s, escalate_after: 1h, digest_threshold: 50}
teams:
  - {name: sre, channel: C0SRE}
  - {name: payments, channel: C0PAYMT}
  - {name: search, channel: C0SEARCH}
"""

MONOREPO = (
    TEAMS
    + """\
owners:
  rules:
    - {path: /services/payments/, team: payments}
    - {path: /services/search/, team: search}
routes:
  - {match: {service: mono}, team: sre, owner: code}
default_route: {team: sre}
"""
)


def _alert(bot, channel: str, text: str, timeout: float = 10.0):
    return bot.wait_for_post(channel, lambda m: text in str(m), timeout, f"{text!r} in {channel}")


def test_monorepo_modules_alert_their_owning_teams(start_bot) -> None:
    bot = start_bot(MONOREPO)
    bot.publish(
        [
            py_error("/app/services/payments/charge.py", exc="KeyError: 'amount'"),
            py_error("/app/services/search/query.py", exc="ValueError: bad cursor"),
            py_error("/app/services/web/page.py", exc="TypeError: no page"),
        ]
    )
    _alert(bot, "C0PAYMT", "amount")
    _alert(bot, "C0SEARCH", "bad cursor")
    _alert(bot, "C0SRE", "no page")  # no owner rule matches: the route's own team
    assert not [m for m in bot.messages("C0SRE") if "amount" in str(m) or "cursor" in str(m)]


def test_codeowners_file_routes_by_its_last_matching_line(start_bot) -> None:
    config = (
        TEAMS
        + """\
owners:
  codeowners_file: CODEOWNERS
  codeowners_teams: {"@acme/pay-devs": payments}
routes:
  - {match: {service: mono}, team: sre, owner: code}
default_route: {team: sre}
"""
    )
    bot = start_bot(config, run=False)
    (bot.workdir / "CODEOWNERS").write_text(
        "*                    @acme/sre\n"
        "/services/          @acme/search\n"
        "/services/payments/ @acme/pay-devs\n"
    )
    bot.start()
    bot.publish(
        [
            py_error("/app/services/payments/charge.py", exc="KeyError: 'iban'"),
            py_error("/app/services/catalog/list.py", exc="KeyError: 'sku'"),
            py_error("/app/tools/cron.py", exc="KeyError: 'job'"),
        ]
    )
    _alert(bot, "C0PAYMT", "iban")
    _alert(bot, "C0SEARCH", "sku")
    _alert(bot, "C0SRE", "job")


def test_show_says_which_owner_rule_matched(start_bot) -> None:
    bot = start_bot(MONOREPO)
    bot.publish([py_error("/app/services/payments/refund.py", exc="KeyError: 'refund'")])
    msg = _alert(bot, "C0PAYMT", "refund")
    from tests.acceptance.harness import group_id_of

    answer = bot.slash(f"show {group_id_of(msg)}", channel="C0PAYMT")
    assert "owners.rules[0]" in answer and "/services/payments/" in answer, answer


def _rotation_config(handoff_at: float, extra_team: str = "", **defaults: str) -> str:
    at = datetime.fromtimestamp(handoff_at, UTC)
    timings = {"update_interval": "1s", "group_wait": "0s", "escalate_after": "1h"}
    timings.update(defaults)
    return (
        f"defaults: {{{', '.join(f'{k}: {v}' for k, v in timings.items())}, digest_threshold: 50}}\n"
        "teams:\n"
        "  - {name: sre, channel: C0SRE}\n"
        "  - name: payments\n"
        "    channel: C0PAYMT\n"
        '    oncall: "<!subteam^S0PAYONCALL>"\n'
        "    rotation:\n"
        "      members: [U0ALICE, U0BOB]\n"
        f"      handoff: '{at:%H:%M:%S}'\n"
        "      length: 1d\n"
        f"      start: {at:%Y-%m-%d}\n"
        f"{extra_team}"
        "routes:\n"
        "  - {match: {service: checkout}, team: payments}\n"
        "default_route: {team: sre}\n"
    )


def test_oncall_now_and_next_then_the_handoff(start_bot) -> None:
    # The bot starts with the handoff an hour away; once it is up, a reload moves the handoff
    # a few seconds ahead, so a slow start on a loaded machine cannot run past it. When the
    # first answer comes back too late to be before the handoff, it is tried with more margin.
    bot = start_bot(_rotation_config(time.time() + 3600))
    for margin in (5.0, 15.0, 40.0):
        handoff = float(int(time.time() + margin))  # whole seconds, as the config says
        mark = len(bot.logs())
        bot.rewrite_config_unnoticed(_rotation_config(handoff))
        bot.sighup()
        bot.wait_for_log("reloaded", 10, after=mark)
        # Alice's first shift starts at the handoff; until then the day before's (Bob's) runs
        answer = bot.slash("oncall", channel="C0PAYMT")
        if time.time() < handoff:
            break
    assert "*payments* on call now: <@U0BOB> until" in answer, answer
    assert "next: <@U0ALICE> from" in answer and "S0PAYONCALL" in answer
    time.sleep(max(0.0, handoff - time.time()) + 0.5)
    answer = bot.slash("oncall payments", channel="C0SRE")
    assert "on call now: <@U0ALICE>" in answer and "next: <@U0BOB>" in answer, answer


def test_oncall_take_overrides_the_rotation(start_bot) -> None:
    bot = start_bot(_rotation_config(time.time() + 3 * 3600))  # Bob's shift for 3 h more
    answer = bot.slash("oncall take 2h", user="U0DAN", channel="C0PAYMT")
    assert "You are on call for *payments* until" in answer, answer
    answer = bot.slash("oncall", channel="C0PAYMT")
    assert "on call now: <@U0DAN>" in answer and "(override)" in answer, answer
    assert "next: <@U0BOB>" in answer
    bad = bot.slash("oncall take someday", channel="C0PAYMT")
    assert "is not a time" in bad and "until mon 09:00" in bad


def test_escalation_mentions_whoever_is_on_call_then_the_fallback(start_bot) -> None:
    # leaves time to start the bot and escalate before it; whole seconds, as the config says
    handoff = float(int(time.time() + 12))
    bot = start_bot(_rotation_config(handoff, escalate_after="2s", repeat_interval="8s"))
    bot.publish([log_entry("checkout", "card declined without reason")])
    msg = _alert(bot, "C0PAYMT", "card declined without reason")
    first = bot.wait_for_reply("C0PAYMT", lambda r: "still unacknowledged" in str(r), timeout=8)
    assert first["thread_ts"] == msg["ts"]
    text = message_text(first)
    # the person on call at that moment, only (Bob before the handoff, Alice after it)
    expected = "<@U0BOB>" if float(first["ts"]) < handoff else "<@U0ALICE>"
    assert expected in text and "S0PAYONCALL" not in text, text
    repeat = bot.wait_for_reply(
        "C0PAYMT", lambda r: "still unacknowledged" in str(r) and "<@U0ALICE>" in str(r), timeout=20
    )
    if repeat["ts"] != first["ts"]:  # a repeat: after the handoff, the new person ...
        assert float(repeat["ts"]) >= handoff
        assert "S0PAYONCALL" in message_text(repeat)  # ... then the team's fallback


def test_usergroup_members_are_on_call_and_escalated_to(start_bot, slack) -> None:
    from triage_sandbox.slack_standin import Usergroup

    slack.workspace.usergroups["S0SEARCHOC"] = Usergroup("search-oncall", "", ("U0KEN", "U0YUKI"))
    config = (
        "defaults: {update_interval: 1s, group_wait: 0s, escalate_after: 2s, digest_threshold: 50}\n"
        "teams:\n"
        "  - {name: sre, channel: C0SRE}\n"
        "  - name: search\n"
        "    channel: C0SEARCH\n"
        "    rotation: {usergroup: S0SEARCHOC}\n"
        "routes:\n"
        "  - {match: {service: search-api}, team: search}\n"
        "default_route: {team: sre}\n"
    )
    bot = start_bot(config)
    answer = bot.slash("oncall", channel="C0SEARCH")
    assert "*search* on call now: <@U0KEN> <@U0YUKI> (user group)" in answer, answer
    bot.publish([log_entry("search-api", "index shard unavailable")])
    _alert(bot, "C0SEARCH", "index shard unavailable")
    reply = bot.wait_for_reply("C0SEARCH", lambda r: "still unacknowledged" in str(r), timeout=8)
    assert "<@U0KEN> <@U0YUKI>" in message_text(reply)
    assert bot.slack.calls_for("usergroups.users.list")  # asked Slack who is in the group
