"""README promises about hostile traffic and operator mistakes, through `triage-bot serve`."""

from __future__ import annotations

import signal
import socket
import time

import redis

from bot.store.keys import Keys
from tests.acceptance.conftest import StartBot
from tests.acceptance.harness import config_yaml, count_of, group_id_of, log_entry, message_text


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


def test_a_repeated_sigterm_still_stops_cleanly(start_bot: StartBot) -> None:
    """A supervisor that sends SIGTERM again while the bot stops: still a clean exit 0."""
    bot = start_bot()
    assert bot.proc is not None
    for _ in range(3):
        bot.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
    bot.terminated = True
    code = bot.wait_stopped(timeout=15)
    assert code == 0, bot.output()


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


def test_a_group_that_cannot_be_rendered_fails_alone(start_bot: StartBot) -> None:
    """A corrupted stored field breaks one group's message: the groups of the same notifier
    pass still post, the broken one stays due (it shows once repaired), /metrics counts it."""
    bot = start_bot(config_yaml())

    def alert(text: str) -> dict:
        return bot.wait_for_post("C0SRE", lambda m: text in message_text(m), 15, repr(text))

    bot.publish([log_entry("api", "corrupted later")])
    gid = group_id_of(alert("corrupted later"))
    assert gid
    client = redis.Redis.from_url(bot.redis_url)
    client.hset(Keys(bot.prefix).group(gid), "regressed_at", "yesterday")
    time.sleep(1.5)  # past its update_interval (1 s): its update is due with the new groups
    bot.publish(
        [
            log_entry("api", "corrupted later"),
            log_entry("api", "fine one"),
            log_entry("api", "fine two"),
        ]
    )
    alert("fine one")
    alert("fine two")
    failures = 'triage_notify_failures_total{stage="render"}'
    bot.wait_until(lambda: bot.metrics().get(failures, 0) >= 1, 10, "a render failure counted")
    assert count_of(alert("corrupted later")) == 1  # not updated while it fails
    client.hdel(Keys(bot.prefix).group(gid), "regressed_at")  # repaired: shown at its next try
    bot.wait_until(
        lambda: count_of(alert("corrupted later")) == 2, 30, "the repaired group updated"
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


def test_a_port_in_use_is_one_line(start_bot: StartBot) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = start_bot(env={"PORT": str(port)}, run=False)
        code, stderr = bot.run_to_exit()
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1, stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0] and "set PORT" in lines[0], stderr


def test_a_replayed_click_is_not_applied_again(start_bot: StartBot) -> None:
    bot = start_bot()
    bot.publish([log_entry("checkout", "replay me")])
    post = bot.wait_for_post(bot.default_channel, timeout=15)
    bot.click("tb_ack", post, user="U1")
    click = bot.slack.deliveries[-1]
    acked = bot.wait_for_post(bot.default_channel, lambda m: "Acknowledged by" in message_text(m))
    bot.click("tb_unack", acked, user="U2")
    bot.wait_for_post(bot.default_channel, lambda m: "Acknowledged by" not in message_text(m))
    status, _ = bot.slack.resend(click)  # signed anew, inside Slack's five minutes
    assert status == 200
    time.sleep(1.5)  # a wrongly applied replay would have re-rendered the message by now
    [now] = bot.messages(bot.default_channel)
    assert "Acknowledged by" not in message_text(now)


def test_an_evicting_redis_is_refused_and_a_full_one_fails_healthz(slack, pubsub, tmp_path) -> None:
    import redis
    from triage_sandbox.redis_server import redis_server

    from tests.acceptance.harness import BotProcess

    with redis_server("--maxmemory-policy", "allkeys-lru") as url:
        bot = BotProcess(slack, pubsub, url, tmp_path / "a", config=None)
        (tmp_path / "a").mkdir()
        code, stderr = bot.run_to_exit()
    assert code == 2 and "maxmemory-policy is allkeys-lru" in stderr and "noeviction" in stderr
    with redis_server("--maxmemory-policy", "noeviction") as url:
        (tmp_path / "b").mkdir()
        bot = BotProcess(slack, pubsub, url, tmp_path / "b", config=None).start()
        try:
            own = redis.Redis.from_url(url)  # this test's own server: CONFIG SET is fine
            for i in range(300):
                own.set(f"fill:{i}", "x" * 4096)
            own.config_set("maxmemory", str(int(own.info("memory")["used_memory"]) // 2))
            status, body = bot.get("/healthz")
            assert status == 503 and "refuses writes" in body
        finally:
            bot.terminate()
            bot.wait_stopped()


def test_healthz_fails_when_the_subscription_does_not_exist(slack, pubsub, tmp_path) -> None:
    import subprocess

    from tests.acceptance.harness import BotProcess, _command

    workdir = tmp_path / "nosub"
    workdir.mkdir()
    bot = BotProcess(slack, pubsub, "redis://127.0.0.1:6379/0", workdir, config=None)
    bot.env["PUBSUB_SUBSCRIPTION"] = "projects/acceptance-prod/subscriptions/does-not-exist"
    bot.proc = subprocess.Popen(
        _command(), env=bot.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:

        def missing() -> bool:
            try:
                status, body = bot.get("/healthz")
            except OSError:
                return False
            return status == 503 and "does not exist" in body

        bot.wait_until(missing, timeout=20, what="/healthz 503: subscription does not exist")
    finally:
        bot.terminate()
        bot.wait_stopped()
