"""Config validation: every problem is reported with its line, path, message and a concrete fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.routing.config import (
    Config,
    ConfigError,
    Problem,
    check_config,
    load_config,
    parse_config,
)

REPO = Path(__file__).resolve().parents[2]

VALID = """\
defaults:
  locale: ja
  timezone: Asia/Tokyo
  escalate_after: 15m
teams:
  - name: payments
    channel: C0PAYMENTS
    oncall: "@payments-oncall"
  - name: sre
    channel: "#sre-alerts"
    oncall: [U01AAAA, "<@U02BBBB>"]
routes:
  - team: payments
    match:
      service: payments-*
default_route:
  team: sre
"""


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    f = tmp_path / "triage.yml"
    f.write_text(text, encoding="utf-8")
    return check_config(f)


def only(tmp_path: Path, text: str) -> Problem:
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def test_valid_config_loads(tmp_path: Path) -> None:
    assert problems_of(tmp_path, VALID) == []
    f = tmp_path / "triage.yml"
    config = load_config(f)
    assert isinstance(config, Config)
    assert config.defaults.escalate_after == 900.0
    assert config.defaults.repeat_interval == 4 * 3600.0  # default
    assert config.defaults.locale == "ja"
    assert config.team("sre").oncall == ("U01AAAA", "U02BBBB")  # <@U…> normalised
    assert config.team("payments").oncall == ("@payments-oncall",)
    assert config.default_route.team == "sre"


def test_example_file_validates() -> None:
    example = REPO / "triage.example.yml"
    assert check_config(example) == []
    config = load_config(example)
    assert len(config.teams) >= 3 and len(config.routes) >= 3
    assert config.error_reporting is not None
    assert len(config.fingerprint_rules) == 2


# (text with one mistake, line, path, words in the message, words in the fix)
CASES = [
    pytest.param(
        VALID.replace("  - team: payments\n", "  - team: paymnts\n"),
        13,
        "routes[0].team",
        "unknown team 'paymnts'",
        "did you mean 'payments'? team 'paymnts' is not defined; defined teams: payments, sre. "
        "Use one of them or add it under teams:",
        id="unknown-team",
    ),
    pytest.param(
        VALID.replace("team: sre\n", "team: sea\n"),
        17,
        "default_route.team",
        "unknown team 'sea'",
        "defined teams: payments, sre",
        id="unknown-default-team",
    ),
    pytest.param(
        VALID.replace("  - name: sre\n", "  - name: payments\n"),
        9,
        "teams[1].name",
        "team 'payments' is defined twice",
        "team names must be unique",
        id="duplicate-team",
    ),
    pytest.param(
        VALID.replace("escalate_after: 15m", "escalate_after: 15 minutes"),
        4,
        "defaults.escalate_after",
        "'15 minutes' is not a duration",
        "e.g. '30s', '15m', '1h30m'",
        id="bad-duration",
    ),
    pytest.param(
        VALID.replace("escalate_after: 15m", "escalate_after: 900"),
        4,
        "defaults.escalate_after",
        "900 has no unit",
        "write '900s' for seconds",
        id="duration-without-unit",
    ),
    pytest.param(
        VALID.replace("Asia/Tokyo", "Asia/Tokio"),
        3,
        "defaults.timezone",
        "unknown time zone 'Asia/Tokio'",
        "did you mean 'Asia/Tokyo'?",
        id="bad-timezone",
    ),
    pytest.param(
        VALID.replace("locale: ja", "locale: ja_JP"),
        2,
        "defaults.locale",
        "locale must be en or ja",
        "did you mean 'ja'?",
        id="bad-locale",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service: payments-*\n      severity: WARN"),
        16,
        "routes[0].match.severity",
        "unknown severity 'WARN'",
        "did you mean 'WARNING'? use one of DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, "
        "CRITICAL, ALERT, EMERGENCY",
        id="bad-severity",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service: /^pay(ments/"),
        15,
        "routes[0].match.service",
        "invalid regex /^pay(ments/: missing ), unterminated subpattern at position 4",
        "correct the pattern at position 4",
        id="bad-service-regex",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "message: 'timeout [after'"),
        15,
        "routes[0].match.message",
        "invalid regex 'timeout [after': unterminated character set",
        "escape a literal ( ) [ ] . * + ? with a backslash",
        id="bad-message-regex",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service_regex: 'pay)'"),
        15,
        "routes[0].match.service_regex",
        "invalid regex 'pay)'",
        "correct the pattern at position 3",
        id="bad-service_regex",
    ),
    pytest.param(
        VALID.replace("      service: payments-*", "      servce: payments-*"),
        15,
        "routes[0].match.servce",
        "unknown key 'servce'",
        "did you mean 'service'? valid keys here: service, service_regex, resource_type, "
        "severity, log_name, labels, message",
        id="unknown-match-key",
    ),
    pytest.param(
        VALID.replace("    match:\n", "    contnue: true\n    match:\n"),
        14,
        "routes[0].contnue",
        "unknown key 'contnue'",
        "did you mean 'continue'?",
        id="unknown-route-key",
    ),
    pytest.param(
        VALID.replace("defaults:\n", "default:\n"),
        1,
        "default",
        "unknown key 'default'",
        "did you mean 'defaults'?",
        id="unknown-top-key",
    ),
    pytest.param(
        VALID.replace("default_route:\n  team: sre\n", ""),
        1,
        "default_route",
        "missing required key 'default_route'",
        "add at the top level: default_route: {team: payments} (one of: payments, sre)",
        id="missing-default-route",
    ),
    pytest.param(
        VALID.replace("    channel: C0PAYMENTS\n", ""),
        6,
        "teams[0].channel",
        "missing required key 'channel'",
        "add channel: 'C0123ABCD'",
        id="missing-channel",
    ),
    pytest.param(
        VALID.replace('channel: "#sre-alerts"', "channel: #sre-alerts"),
        10,
        "teams[1].channel",
        "channel is empty",
        "an unquoted # starts a comment: write channel: '#payments' (quoted)",
        id="channel-hash-unquoted",
    ),
    pytest.param(
        VALID.replace("channel: C0PAYMENTS", "channel: payments"),
        7,
        "teams[0].channel",
        "'payments' is not a Slack channel",
        "write '#payments' (with # and in quotes)",
        id="channel-without-hash",
    ),
    pytest.param(
        VALID.replace('"<@U02BBBB>"', "bob"),
        11,
        "teams[1].oncall[1]",
        "'bob' is not a user group handle or user id",
        "write '@bob' (quoted)",
        id="bad-oncall-item",
    ),
    pytest.param(
        VALID.replace("locale: ja\n", "locale: ja\n  grouping: errorreporting\n"),
        3,
        "defaults.grouping",
        "or one of fingerprint, error_reporting, fp1, fp2, got the text 'errorreporting'",
        "did you mean 'error_reporting'?",
        id="bad-grouping",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "labels: {tier: 1}"),
        15,
        "routes[0].match.labels.tier",
        "got the number 1",
        "quote it",
        id="label-not-text",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service:"),
        15,
        "routes[0].match.service",
        "service is empty",
        "remove the key (an empty value would match every event)",
        id="empty-matcher",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service: a\n      service_regex: b"),
        15,
        "routes[0].match",
        "both service and service_regex are set",
        "keep one",
        id="service-and-service_regex",
    ),
    pytest.param(
        VALID.replace("teams:\n", "teams:\n  - name: sre\n    channel: G0X\n", 1).replace(
            "default_route:\n", "default_route:\n  team: sre\n"
        ),
        20,
        "default_route.team",
        "duplicate key 'team' (first at line 19)",
        "YAML silently keeps only the last",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        VALID + "error_reporting:\n  sync: true\n",
        19,
        "error_reporting.project",
        "missing required key 'project'",
        "add project: <GCP project id>",
        id="error-reporting-without-project",
    ),
    pytest.param(
        VALID.replace('oncall: "@payments-oncall"', "oncall: @payments-oncall"),
        8,
        "",
        "YAML syntax error: found character '@' that cannot start any token",
        "must be quoted, e.g. oncall: '@sre-oncall'",
        id="yaml-unquoted-at",
    ),
    pytest.param(
        VALID.replace("service: payments-*", "service: *-api"),
        15,
        "",
        "YAML syntax error",
        "quote it, e.g. service: '*-api'",
        id="yaml-alias",
    ),
    pytest.param(
        VALID.replace("  locale: ja\n", "  locale: ja\n bad indent\n"),
        3,
        "",
        "YAML syntax error",
        "fix the YAML syntax here",
        id="yaml-indentation",
    ),
    pytest.param("", 1, "", "the file is empty", "triage.example.yml", id="empty-file"),
    pytest.param(
        "- a\n- b\n",
        1,
        "",
        "expected a mapping of sections at the top level, got a list",
        "the file holds keys: defaults, teams, routes, default_route",
        id="top-level-list",
    ),
    pytest.param(
        VALID.replace("teams:\n", "teams: []\nx_teams:\n"),
        5,
        "teams",
        "must not be empty",
        "add at least one team",
        id="no-teams",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "message", "fix"), CASES)
def test_each_problem_has_line_message_and_fix(
    tmp_path: Path, text: str, line: int, path: str, message: str, fix: str
) -> None:
    found = problems_of(tmp_path, text)
    matching = [p for p in found if p.path == path]
    assert matching, found
    p = matching[0]
    assert p.line == line, p
    assert message in p.message, p
    assert fix in p.fix, p


def test_all_problems_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        VALID.replace("Asia/Tokyo", "Mars/Base")
        .replace("  - team: payments\n", "  - team: nobody\n")
        .replace("service: payments-*", "service: /(/")
    )
    found = problems_of(tmp_path, text)
    assert [(p.line, p.path) for p in found] == [
        (3, "defaults.timezone"),
        (13, "routes[0].team"),
        (15, "routes[0].match.service"),
    ]


def test_load_config_raises_config_error_with_problems(tmp_path: Path) -> None:
    f = tmp_path / "triage.yml"
    f.write_text(VALID.replace("15m", "soon"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    [p] = info.value.problems
    assert p == Problem(
        4,
        "defaults.escalate_after",
        "'soon' is not a duration",
        "write digits and units w, d, h, m, s, ms, largest first, e.g. '30s', '15m', '1h30m'",
    )
    assert f"{f}:4: defaults.escalate_after: 'soon' is not a duration — write" in str(info.value)


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    [p] = check_config(tmp_path / "nope.yml")
    assert p.line == 0 and "cannot read the file" in p.message
    assert "TRIAGE_CONFIG" in p.fix
    with pytest.raises(ConfigError):
        load_config(tmp_path / "nope.yml")


def test_models_built_in_code_still_check_team_references() -> None:
    data = {
        "teams": [{"name": "a", "channel": "C0A"}],
        "routes": [{"team": "b"}],
        "default_route": {"team": "a"},
    }
    with pytest.raises(ValueError, match="team 'b' is not defined"):
        Config.model_validate(data)
    ok = Config.model_validate({**data, "routes": [{"team": "a", "continue": True}]})
    assert ok.routes[0].continue_ is True


def test_parse_config_from_text() -> None:
    config = parse_config(VALID)
    assert [t.name for t in config.teams] == ["payments", "sre"]
    with pytest.raises(ConfigError) as info:
        parse_config("teams: [", file="inline.yml")
    assert str(info.value).startswith("inline.yml:")


FP_RULES = """\
fingerprint_rules:
  - service: "payments-*"
    fingerprint: ["db", "{{ service }}"]
  - message: "(oops"
    title: x
  - service: x
    fingerprnt: [a]
"""


def test_fingerprint_rules_validate_through_their_model(tmp_path: Path) -> None:
    found = problems_of(tmp_path, VALID + FP_RULES)
    assert [(p.line, p.path) for p in found] == [
        (21, "fingerprint_rules[1].message"),
        (24, "fingerprint_rules[2].fingerprnt"),
    ]
    assert "not a valid regular expression" in found[0].message
    assert "escape special characters with a backslash" in found[0].fix
    assert found[1].message == "unknown key 'fingerprnt'"
    assert found[1].fix.startswith("did you mean 'fingerprint'?")
    config = parse_config(VALID + FP_RULES.split("  - message")[0])
    [rule] = config.fingerprint_rules
    assert rule.matches("payments-api", "KeyError", "", [])


def test_grouping_takes_a_strategy_and_the_old_words() -> None:
    from bot.routing.config import parse_config

    base = "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"
    g = parse_config("defaults:\n  grouping: {strategy: fp1, error_reporting: true}\n" + base)
    assert (g.defaults.grouping.strategy, g.defaults.grouping.error_reporting) == ("fp1", True)
    legacy = parse_config("defaults:\n  grouping: error_reporting\n" + base).defaults.grouping
    assert (legacy.strategy, legacy.error_reporting) == (None, True)
    assert parse_config(base).defaults.grouping.strategy is None
    with pytest.raises(ConfigError, match="unknown grouping strategy 'fp9'"):
        parse_config("defaults:\n  grouping: {strategy: fp9}\n" + base)


def test_in_app_rules_per_service() -> None:
    from bot.routing.config import parse_config

    cfg = parse_config(
        "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"
        "in_app:\n  - include: ['com.acme.']\n"
        "  - service: 'pay-*'\n    exclude: [com.acme.generated., /gen/]\n"
    )
    assert cfg.in_app_for("pay-api").include == ("com.acme.",)
    assert cfg.in_app_for("pay-api").exclude == ("com.acme.generated.", "/gen/")
    assert cfg.in_app_for("search").exclude == ()
    with pytest.raises(ConfigError, match="needs include or exclude"):
        parse_config(
            "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"
            "in_app:\n  - service: x\n"
        )


def _alias_bomb(depth: int = 9) -> str:
    """The billion-laughs shape: each level refers nine times to the one before it."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, depth + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n" + VALID


def test_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    """9 levels x 9 references expand to 387 million nodes; refused from the node graph."""
    found = problems_of(tmp_path, _alias_bomb())
    assert any("aliases" in p.message for p in found), found
    assert all(p.fix for p in found)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "loop: &a [*a]\n" + VALID)
    assert any("aliases" in p.message for p in found), found


def test_shared_anchors_are_still_fine(tmp_path: Path) -> None:
    """Ordinary reuse of an anchor (a few references) stays valid."""
    text = VALID.replace("defaults:", "x-common: &common {}\ndefaults:", 1)
    assert all("aliases" not in p.message for p in problems_of(tmp_path, text))


def test_a_10_mb_config_is_refused_before_parsing(tmp_path: Path) -> None:
    text = VALID + "# " + "x" * (10 * 1024 * 1024) + "\n"
    [problem] = problems_of(tmp_path, text)
    assert "larger than" in problem.message and "1 MB" in problem.message
    with pytest.raises(ConfigError):
        parse_config(text)


def test_in_app_problems_name_the_line_and_the_fix(tmp_path: Path) -> None:
    from bot.routing.config import check_config

    f = tmp_path / "t.yml"
    f.write_text(
        "teams:\n  - name: sre\n    channel: C0ALERTS\ndefault_route:\n  team: sre\n"
        "in_app:\n  - service: pay\n    include: [5]\n  - service: x\n    exlude: [a.]\n"
    )
    problems = check_config(f)
    assert [(p.line, p.path) for p in problems] == [
        (8, "in_app[0].include"),
        (10, "in_app[1].exlude"),
    ], problems
    assert "com.example." in problems[0].fix
    assert "did you mean 'exclude'" in problems[1].fix
