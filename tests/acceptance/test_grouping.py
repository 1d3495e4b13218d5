"""README, "How grouping works": through `triage-bot serve`, what a user sees in Slack.

- one error logged by zap's console encoder and by its JSON encoder is one alert (fp2, the
  default), and two alerts when the config pins `grouping: {strategy: fp1}` or, without a
  config, when GROUPING_STRATEGY=fp1 does (a config's strategy wins over it);
- recurrences of one Node.js crash that differ in the runtime's line numbers, the address and
  the Node.js version are one alert, another connection error is another alert;
- a service's `in_app` rules decide which frames the alert shows as its own code.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.acceptance.harness import config_yaml, count_of, log_entry, message_text

WAIT = 15.0
STACK = (
    "main.(*Charger).Charge\n\t/app/payments/charge.go:88\nmain.handleCharge\n"
    "\t/app/payments/http.go:41\nnet/http.HandlerFunc.ServeHTTP\n"
    "\t/usr/local/go/src/net/http/server.go:2136"
)


def _zap(console: bool, error: str) -> dict[str, Any]:
    e = log_entry("payments", "x")
    if console:
        del e["jsonPayload"]
        e["textPayload"] = (
            f"2024-05-01T10:00:00.123Z\tERROR\tpayments/charge.go:88\tcharge failed\t"
            f'{{"order_id": "ord_{uuid.uuid4().hex[:6]}", "error": "{error}"}}\n{STACK}\n'
        )
    else:
        e["jsonPayload"] = {
            "level": "error",
            "caller": "payments/charge.go:88",
            "msg": "charge failed",
            "order_id": f"ord_{uuid.uuid4().hex[:6]}",
            "error": error,
            "stacktrace": STACK,
        }
    return e


def _alerts(bot, channel: str, text: str) -> list[dict[str, Any]]:
    return [m for m in bot.messages(channel) if text in message_text(m)]


def test_console_and_json_encoders_are_one_alert(start_bot) -> None:
    bot = start_bot(config_yaml())
    bot.publish([_zap(True, "card declined: insufficient funds")])
    bot.wait_for_post("C0SRE", lambda m: "charge failed" in message_text(m), WAIT, "the alert")
    bot.publish([_zap(False, "card declined: insufficient funds")])
    bot.publish([_zap(True, "processor call: context deadline exceeded")])
    bot.wait_until(
        lambda: any(count_of(m) == 2 for m in _alerts(bot, "C0SRE", "insufficient funds")),
        WAIT,
        "the console and JSON forms counted on one alert",
    )
    bot.wait_until(lambda: _alerts(bot, "C0SRE", "deadline exceeded"), WAIT, "another error")
    assert len(_alerts(bot, "C0SRE", "insufficient funds")) == 1


def test_pinning_fp1_keeps_the_old_grouping(start_bot) -> None:
    bot = start_bot(config_yaml(defaults={"grouping": "{strategy: fp1}"}))
    bot.publish([_zap(True, "card declined: insufficient funds")])
    bot.publish([_zap(False, "card declined: insufficient funds")])
    bot.wait_until(
        lambda: len(_alerts(bot, "C0SRE", "insufficient funds")) == 2,
        WAIT,
        "two alerts: fp1 groups the console form by its whole line",
    )


def test_grouping_strategy_setting_pins_fp1_without_a_config(start_bot) -> None:
    bot = start_bot(None, {"GROUPING_STRATEGY": "fp1"})
    bot.publish([_zap(True, "card declined: insufficient funds")])
    bot.publish([_zap(False, "card declined: insufficient funds")])
    bot.wait_until(
        lambda: len(_alerts(bot, "C0ALERTS", "insufficient funds")) == 2,
        WAIT,
        "two alerts: GROUPING_STRATEGY=fp1 groups as fp1 does",
    )
    assert all("`fp1-" in message_text(m) for m in _alerts(bot, "C0ALERTS", "insufficient"))


def test_a_configs_strategy_wins_over_the_setting(start_bot) -> None:
    bot = start_bot(
        config_yaml(defaults={"grouping": "{strategy: fp2}"}), {"GROUPING_STRATEGY": "fp1"}
    )
    bot.publish([_zap(True, "card declined: insufficient funds")])
    bot.publish([_zap(False, "card declined: insufficient funds")])
    bot.wait_until(
        lambda: any(count_of(m) == 2 for m in _alerts(bot, "C0SRE", "insufficient funds")),
        WAIT,
        "one alert counting both: the config's fp2 wins",
    )
    assert len(_alerts(bot, "C0SRE", "insufficient funds")) == 1


_CRASH = (
    "node:internal/process/promises:{line}\n"
    "            triggerUncaughtException(err, true /* fromPromise */);\n            ^\n\n"
    "Error: connect {code} 10.8.0.{host}:5432\n"
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{net}:16) {{\n"
    "  errno: -111,\n  code: '{code}',\n  syscall: 'connect'\n}}\n\nNode.js v18.{minor}.0\n"
)


def test_node_crashes_group_by_error_not_by_runtime_lines(start_bot) -> None:
    bot = start_bot(config_yaml())
    entries = []
    for i, (line, net, minor) in enumerate(((288, 1494, 17), (290, 1555, 19), (288, 1494, 17))):
        e = log_entry("checkout", "x")
        del e["jsonPayload"]
        e["textPayload"] = _CRASH.format(
            line=line, net=net, minor=minor, host=3 + i, code="ECONNREFUSED"
        )
        entries.append(e)
    other = log_entry("checkout", "x")
    del other["jsonPayload"]
    other["textPayload"] = _CRASH.format(line=288, net=1494, minor=17, host=3, code="EHOSTUNREACH")
    bot.publish(entries[:1])
    bot.wait_for_post("C0SRE", lambda m: "ECONNREFUSED" in message_text(m), WAIT, "the alert")
    bot.publish([*entries[1:], other])
    bot.wait_until(
        lambda: any(count_of(m) == 3 for m in _alerts(bot, "C0SRE", "ECONNREFUSED")),
        WAIT,
        "three crashes on one alert",
    )
    bot.wait_until(lambda: _alerts(bot, "C0SRE", "EHOSTUNREACH"), WAIT, "another alert")
    assert len(_alerts(bot, "C0SRE", "ECONNREFUSED")) == 1
    assert "promises" not in message_text(_alerts(bot, "C0SRE", "ECONNREFUSED")[0]).split("\n")[0]


_VENDORED = (
    "panic: decimal division by zero\n\ngoroutine 57 [running]:\n"
    "github.com/acme/pricing/third_party/decimal.(*Big).Quo(0xc0002a4000)\n"
    "\t/src/third_party/decimal/big.go:412 +0x3c5\n"
    "github.com/acme/pricing/quote.(*Engine).unitPrice(0xc000150000)\n"
    "\t/src/quote/engine.go:133 +0x11b\n"
)


def test_in_app_rules_choose_the_frames_an_alert_shows(start_bot) -> None:
    extra = "in_app:\n  - service: pricing\n    include: [github.com/acme/pricing/third_party/]\n"
    bot = start_bot(config_yaml(extra=extra))
    for service in ("pricing", "quotes"):  # the rule names one service; the other has defaults
        e = log_entry(service, "x")
        del e["jsonPayload"]
        e["textPayload"] = _VENDORED
        bot.publish([e])
    for service, shown in (("pricing", True), ("quotes", False)):
        msg = bot.wait_for_post(
            "C0SRE",
            lambda m, s=service: "division by zero" in message_text(m) and f"[{s}]" in m["text"],
            WAIT,
            f"the alert of {service}",
        )
        text = message_text(msg)
        assert "engine.go" in text
        assert ("big.go" in text) is shown, text
