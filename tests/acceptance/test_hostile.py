"""README promises about hostile traffic and operator mistakes, through `triage-bot serve`."""

from __future__ import annotations

import socket
import time

from tests.acceptance.conftest import StartBot
from tests.acceptance.harness import log_entry, message_text


def _raw(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_sigterm_stops_within_8_seconds(start_bot: StartBot) -> None:
    """Cloud Run kills 10 s after SIGTERM: the bot finishes and exits 0 well before."""
    bot = start_bot()
    bot.publish([log_entry("checkout", "stop test")])
    bot.wait_for_post(bot.default_channel, timeout=15)
    started = time.monotonic()
    bot.terminate()
    code = bot.wait_stopped(timeout=15)
    took = time.monotonic() - started
    assert code == 0, bot.output()
    assert took < 8, f"stopped in {took:.1f} s" + bot.output()


def test_a_poison_timestamp_is_dead_lettered_and_other_alerts_still_post(
    start_bot: StartBot,
) -> None:
    bot = start_bot()
    poison = log_entry("payments", "year ten thousand")
    poison["timestamp"] = "9999-12-31T23:59:59.9999999Z"
    poison.pop("receiveTimestamp")
    bot.publish([poison, log_entry("checkout", "an ordinary failure")])
    post = bot.wait_for_post(
        bot.default_channel, lambda m: "an ordinary failure" in message_text(m), timeout=15
    )
    assert post
    assert not any(
        "year ten thousand" in message_text(m) for m in bot.messages(bot.default_channel)
    )
    bot.wait_until(
        lambda: bot.metrics().get("triage_dead_lettered_total", 0) >= 1,
        what="the poison entry dead-lettered",
    )


def test_an_oversized_request_is_refused_before_it_is_read(start_bot: StartBot) -> None:
    bot = start_bot()
    reply = _raw(
        bot.port,
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n" + b"x" * 100,
    )
    assert reply.startswith(b"HTTP/1.1 413")
    assert bot.get("/healthz")[0] == 200


def test_a_shared_reply_never_pings_the_channel(start_bot: StartBot) -> None:
    bot = start_bot()
    text = bot.slash("ack <!channel> --share")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_healthz_fails_when_the_slack_token_is_revoked_and_start_refuses_it(
    start_bot: StartBot,
) -> None:
    bot = start_bot()
    bot.slack.inject("*", error="token_revoked", times=1000)  # the app was uninstalled
    bot.publish([log_entry("checkout", "posted with a revoked token")])
    bot.wait_until(lambda: bot.get("/healthz")[0] == 503, timeout=15, what="/healthz 503")
    assert "reinstall" in bot.get("/healthz")[1]
    bad = start_bot(env={"SLACK_BOT_TOKEN": "xoxb-revoked-token"}, run=False)
    code, stderr = bad.run_to_exit()
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0] and "reinstall" in lines[0], stderr


def test_a_mistyped_setting_is_one_line(start_bot: StartBot) -> None:
    for env, name in (
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TZ": "Mars/Base"}, "TZ"),
        ({"PUBSUB_SUBSCRIPTION": "projects/e2e/subscriptions/triage"}, "too short"),
    ):
        bot = start_bot(env=env, run=False)
        code, stderr = bot.run_to_exit()
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and name in lines[0], stderr
