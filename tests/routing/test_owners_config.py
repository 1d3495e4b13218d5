"""`owners:`, `owner: code` routes and team rotations in the routing config."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.models import ErrorEvent
from bot.routing.config import check_config, load_config, parse_config
from bot.routing.match import route, route_explained

TEAMS = """\
teams:
  - {name: platform, channel: C0PLAT, oncall: "@platform-oncall"}
  - {name: payments, channel: C0PAY, oncall: "@payments-oncall"}
  - {name: search, channel: C0SRCH}
"""

OWNED = (
    TEAMS
    + """\
owners:
  rules:
    - {path: /services/payments/, team: payments}
    - {go: github.com/acme/mono/search/..., team: search}
routes:
  - {match: {service: mono}, team: platform, owner: code}
  - {match: {service: other}, team: search}
default_route: {team: platform}
"""
)


def _py(path: str, service: str = "mono") -> ErrorEvent:
    stack = (
        "Traceback (most recent call last):\n"
        f'  File "{path}", line 3, in handle\n'
        "    go()\n"
        "KeyError: 'x'\n"
    )
    return ErrorEvent("i", 0.0, "ERROR", service, "cloud_run_revision", stack=stack)


def test_owner_code_route_sends_each_module_to_its_team() -> None:
    cfg = parse_config(OWNED)
    assert [d.channel for d in route(cfg, _py("/app/services/payments/api.py"))] == ["C0PAY"]
    # no owner rule matches: the route's own team
    assert [d.channel for d in route(cfg, _py("/app/services/web/x.py"))] == ["C0PLAT"]
    # a route without owner: code is not affected by owners
    assert [d.channel for d in route(cfg, _py("/app/services/payments/a.py", "other"))] == [
        "C0SRCH"
    ]


def test_owner_destination_has_the_owning_teams_oncall() -> None:
    cfg = parse_config(OWNED)
    (d,) = route(cfg, _py("/app/services/payments/api.py"))
    assert (d.team, d.oncall, d.route_index) == ("payments", ("@payments-oncall",), 0)


def test_explained_route_names_the_owner_rule() -> None:
    cfg = parse_config(OWNED)
    (r,) = route_explained(cfg.table, _py("/app/services/payments/api.py"))
    text = r.describe()
    assert "routes[0] -> payments (C0PAY)" in text
    assert "owners.rules[0] path /services/payments/ -> payments" in text
    (r,) = route_explained(cfg.table, _py("/app/services/web/x.py"))
    assert "no owner rule matches /app/services/web/x.py" in r.describe()


def test_codeowners_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text(
        "*  @acme/platform\n/services/payments/ @acme/pay-devs\n", encoding="utf-8"
    )
    f = tmp_path / "triage.yml"
    f.write_text(
        TEAMS
        + "owners:\n  codeowners_file: .github/CODEOWNERS\n"
        + "  codeowners_teams: {'@acme/pay-devs': payments}\n"
        + "routes:\n  - {match: {service: mono}, team: search, owner: code}\n"
        + "default_route: {team: platform}\n",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert [d.team for d in route(cfg, _py("/app/services/payments/api.py"))] == ["payments"]
    assert [d.team for d in route(cfg, _py("/app/lib/x.py"))] == ["platform"]
    (r,) = route_explained(cfg.table, _py("/app/services/payments/api.py"))
    assert ".github/CODEOWNERS:2" in r.describe()


def _problems(text: str, tmp_path: Path) -> list[str]:
    f = tmp_path / "triage.yml"
    f.write_text(text, encoding="utf-8")
    return [f"{p.line}:{p.path}: {p.message} — {p.fix}" for p in check_config(f)]


def test_check_config_reports_unknown_owner_team_and_bad_patterns(tmp_path: Path) -> None:
    text = (
        TEAMS
        + """\
owners:
  rules:
    - {path: /services/payments/, team: paymnts}
    - {path: "!/docs/", team: search}
    - {package: com..acme, team: search}
    - {path: /a/, go: x/..., team: search}
default_route: {team: platform}
"""
    )
    out = _problems(text, tmp_path)
    assert len(out) == 4, out
    assert out[0].startswith("7:owners.rules[0]") and "did you mean 'payments'" in out[0]
    assert "negation" in out[1] and "com..acme" in out[2] and "exactly one of" in out[3]


def test_check_config_reports_codeowners_problems(tmp_path: Path) -> None:
    (tmp_path / "CODEOWNERS").write_text("/x/ @acme/nobody\n", encoding="utf-8")
    out = _problems(
        TEAMS + "owners: {codeowners_file: CODEOWNERS}\ndefault_route: {team: platform}\n",
        tmp_path,
    )
    assert len(out) == 1 and "CODEOWNERS:1: owner @acme/nobody" in out[0]
    out = _problems(
        TEAMS + "owners: {codeowners_file: NOPE}\ndefault_route: {team: platform}\n", tmp_path
    )
    assert len(out) == 1 and "cannot read CODEOWNERS file" in out[0]


def test_owner_code_needs_an_owners_section(tmp_path: Path) -> None:
    out = _problems(
        TEAMS + "routes: [{team: search, owner: code}]\ndefault_route: {team: platform}\n",
        tmp_path,
    )
    assert len(out) == 1 and "no owners: section" in out[0]


ROTA = """\
teams:
  - name: payments
    channel: C0PAY
    oncall: "@payments-oncall"
    timezone: Europe/Berlin
    rotation:
      members: [U01ALICE, U02BOB]
      handoff: mon 09:00
      start: 2026-12-07
  - name: search
    channel: C0SRCH
    rotation: {usergroup: "<!subteam^S0SEARCH>"}
default_route: {team: payments}
"""


def test_rotation_in_the_team_time_zone() -> None:
    cfg = parse_config(ROTA)
    rot = cfg.rotation("payments")
    assert rot is not None and rot.timezone == "Europe/Berlin"
    monday = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC).timestamp()  # 09:00 CET
    assert rot.shift_at(monday).user == "U01ALICE"
    assert rot.shift_at(monday - 1).user == "U02BOB"
    assert cfg.rotation("search") is None
    team = cfg.team("search")
    assert team.rotation is not None and team.rotation.usergroup == "S0SEARCH"


@pytest.mark.parametrize(
    ("rotation", "expect"),
    [
        ("{members: [alice]}", "not a Slack user id"),
        ("{members: [U01ALICE], handoff: 'someday'}", "weekday and time"),
        ("{members: [U01ALICE], length: 0s}", "more than 0"),
        ("{members: [U01ALICE], usergroup: S0X1}", "not both"),
        ("{handoff: 'mon 09:00'}", "needs members or usergroup"),
        ("{members: [U01ALICE], timezone: Europe/Berln}", "did you mean 'Europe/Berlin'"),
    ],
)
def test_rotation_problems(rotation: str, expect: str, tmp_path: Path) -> None:
    out = _problems(
        f"teams:\n  - {{name: a, channel: C0A, rotation: {rotation}}}\ndefault_route: {{team: a}}\n",
        tmp_path,
    )
    assert len(out) == 1 and expect in out[0], out


def test_check_config_lists_owner_rules_and_rotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "triage.yml"
    f.write_text(OWNED, encoding="utf-8")
    assert main(["check-config", str(f)]) == 0
    out = capsys.readouterr().out
    assert "route[0]: service=mono -> platform (owner: code, else this team)" in out
    assert "owner: owners.rules[1] go github.com/acme/mono/search/... -> search" in out
    f.write_text(ROTA, encoding="utf-8")
    assert main(["check-config", str(f)]) == 0
    out = capsys.readouterr().out
    assert "rotation: U01ALICE, U02BOB, handoff mon 09:00" in out
    assert "rotation: user group S0SEARCH" in out


def test_explain_with_a_config_says_where_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "triage.yml"
    cfg.write_text(OWNED, encoding="utf-8")
    entry = {
        "insertId": "e1",
        "timestamp": "2026-12-02T10:00:00Z",
        "severity": "ERROR",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "mono"}},
        "textPayload": _py("/app/services/payments/api.py").stack,
    }
    log = tmp_path / "in.jsonl"
    log.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    assert main(["explain", str(log), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "routed: routes[0] -> payments (C0PAY); code /app/services/payments/api.py" in out
    assert "owners.rules[0]" in out


def test_owner_uses_the_services_in_app_rules() -> None:
    stack = (
        "Traceback (most recent call last):\n"
        '  File "/app/services/payments/api.py", line 3, in handle\n'
        "    shim()\n"
        '  File "/app/services/search/shim.py", line 9, in shim\n'
        "    raise KeyError('x')\n"
        "KeyError: 'x'\n"
    )
    ev = ErrorEvent("i", 0.0, "ERROR", "mono", "cloud_run_revision", stack=stack)
    cfg = OWNED.replace("    - {go:", "    - {path: /services/search/, team: search}\n    - {go:")
    assert [d.team for d in route(parse_config(cfg), ev)] == ["search"]  # innermost in-app
    with_rules = cfg + "in_app:\n  - {service: mono, exclude: [services/search/shim]}\n"
    assert [d.team for d in route(parse_config(with_rules), ev)] == ["payments"]
