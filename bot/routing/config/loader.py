"""Reading the routing config: YAML (with the line of every node kept), validation against the
models, and every problem turned into a :class:`Problem` with its line, path and a fix."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.fingerprint.rules import FingerprintRule
from bot.oncall.config import RotationConfig
from bot.routing.config.fields import ERR, did_you_mean, yaml_kind
from bot.routing.config.model import (
    Config,
    DefaultRoute,
    Defaults,
    ErrorReportingConfig,
    Grouping,
    InAppRule,
    Match,
    Route,
    Team,
)
from bot.routing.owners_config import OwnerRuleConfig, OwnersConfig

# Models by path with list indexes removed: for "unknown key" suggestions.
_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Config,
    ("defaults",): Defaults,
    ("teams",): Team,
    ("routes",): Route,
    ("routes", "match"): Match,
    ("default_route",): DefaultRoute,
    ("error_reporting",): ErrorReportingConfig,
    ("fingerprint_rules",): FingerprintRule,
    ("defaults", "grouping"): Grouping,
    ("in_app",): InAppRule,
    ("owners",): OwnersConfig,
    ("owners", "rules"): OwnerRuleConfig,
    ("teams", "rotation"): RotationConfig,
}


def keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 1-based line of the bad value in the file; 0 when it concerns the whole file
    path: str  # e.g. "routes[2].match.service"; "" for the file itself
    message: str  # what is wrong
    fix: str  # how to fix it

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}:" if self.line else f"{file}:"
        what = f" {self.path}:" if self.path else ""
        return f"{where}{what} {self.message} — {self.fix}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem], file: str = "<config>") -> None:
        self.problems = problems
        self.file = file
        super().__init__("\n".join(p.format(file) for p in problems))


Loc = tuple[int | str, ...]


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_at(root: yaml.Node, loc: Loc, *, key: bool = False) -> yaml.Node:
    """The deepest node along `loc` (the key node of the last step when `key`)."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node = k if key and i == len(loc) - 1 else v
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _line(root: yaml.Node, loc: Loc, *, key: bool = False) -> int:
    return _node_at(root, loc, key=key).start_mark.line + 1


_MISSING_FIX: dict[str, str] = {
    "name": "add name: <team name>, e.g. name: payments",
    "channel": "add channel: 'C0123ABCD' (the channel id) or channel: '#payments' (quoted)",
    "project": "add project: <GCP project id>",
}

_EXPECTED: dict[str, str] = {
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list (lines starting with '- ')",
    "tuple_type": "a list (lines starting with '- ')",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "literal_error": "one of {expected}",
}


def _to_problem(err: Mapping[str, Any], root: yaml.Node, teams: list[str]) -> Problem | None:
    loc: Loc = tuple(err["loc"])
    kind: str = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    path = _path(loc)
    if kind == ERR:
        return Problem(_line(root, loc), path, ctx["message"], ctx["fix"])
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _MODELS.get(tuple(p for p in loc[:-1] if isinstance(p, str)))
        valid = keys_of(model) if model else []
        hint = did_you_mean(key, valid) if valid else ""
        fix = f"{hint}valid keys here: {', '.join(valid)}" if valid else "remove it"
        return Problem(_line(root, loc, key=True), path, f"unknown key {key!r}", fix)
    if kind == "missing":
        key = str(loc[-1])
        if key == "default_route":
            names = ", ".join(teams) or "<team>"
            fix = (
                f"add at the top level: default_route: {{team: {teams[0] if teams else 'sre'}}} "
                f"(one of: {names}); it receives every error no route matches"
            )
        elif key == "team":
            fix = f"add team: <name> naming one of: {', '.join(teams) or '(no teams defined)'}"
        elif key == "teams":
            fix = "add a teams: list with at least one team (name, channel, oncall)"
        else:
            fix = _MISSING_FIX.get(key, f"add {key}:")
        return Problem(_line(root, loc[:-1]), path, f"missing required key {key!r}", fix)
    if kind == "too_short":
        given = err.get("input")
        if isinstance(given, list | tuple) and len(given) >= int(ctx.get("min_length", 1)):
            return None  # pydantic also counts the items that failed: those are reported already
        what = "team (name, channel, oncall)" if loc == ("teams",) else "entry"
        return Problem(_line(root, loc), path, "must not be empty", f"add at least one {what}")
    if kind == "string_too_short":
        return Problem(_line(root, loc), path, "must not be empty", "give it a value")
    if kind in _EXPECTED:
        expected = _EXPECTED[kind].format(expected=ctx.get("expected", ""))
        got = yaml_kind(err.get("input"))
        fix = f"write {expected} here"
        if kind == "literal_error":
            fix = f"{did_you_mean(str(err.get('input')), _literal_options(ctx))}use {expected}"
        elif err.get("input") is None:
            fix += ", or remove the key"
        return Problem(_line(root, loc), path, f"expected {expected}, got {got}", fix)
    if kind == "value_error":  # a ValueError from a model of another module (fingerprint rules)
        text = str(err["msg"]).removeprefix("Value error, ")
        message, _, fix = text.partition("; ")
        return Problem(_line(root, loc), path, message, fix or _generic_fix(loc))
    return Problem(_line(root, loc), path, str(err["msg"]), _generic_fix(loc))


def _generic_fix(loc: Loc) -> str:
    if loc and loc[0] == "fingerprint_rules":
        return "see the keys documented in bot/fingerprint/rules.py"
    return "see triage.example.yml for the form"


def _literal_options(ctx: Mapping[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def _duplicate_keys(node: yaml.Node, loc: Loc = ()) -> Iterator[Problem]:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                line = k.start_mark.line + 1
                if k.value in first:
                    yield Problem(
                        line,
                        _path((*loc, k.value)),
                        f"duplicate key {k.value!r} (first at line {first[k.value]})",
                        "remove one of them: YAML silently keeps only the last",
                    )
                first.setdefault(k.value, line)
                yield from _duplicate_keys(v, (*loc, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i))


def _yaml_fix(problem: str) -> str:
    p = problem.lower()
    if "'@'" in p or "'`'" in p:
        return "a value starting with @ or ` must be quoted, e.g. oncall: '@sre-oncall'"
    if "undefined alias" in p or "alias" in p:
        return "a value starting with * is read as a YAML alias: quote it, e.g. service: '*-api'"
    if "'\\t'" in p or "tab" in p:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in p:
        return "quote a value that contains ': ', or check the indentation of this line"
    return "fix the YAML syntax here: check indentation, and quote values with : # @ * or `"


# A routing config is a few KB. Bounds keep check-config and the reload watcher from running
# for minutes on a 10 MB file or an alias bomb (nine anchors of nine references each expand
# 342 bytes to 387 million nodes, which validation, and any walk of the data, would visit).
MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_NODES = 100_000  # after expanding aliases


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document holds once aliases are expanded, counted over the node graph with
    each distinct node visited once (an alias is the same node object as its anchor)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose children are being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion: a deep document cannot overflow the stack
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if children_done:
            total = 1 + sum(sizes.get(id(c), 1) for c in kids)
            sizes[id(node)] = min(total, MAX_CONFIG_NODES + 1)
            open_.discard(id(node))
        elif id(node) in open_:  # `&a [*a]`: a node inside itself expands without end
            return MAX_CONFIG_NODES + 1
        else:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in kids if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _too_big(text: str) -> Problem | None:
    if len(text) > MAX_CONFIG_BYTES:
        return Problem(
            0,
            "",
            f"the file is larger than 1 MB ({len(text) // 1024} KB)",
            "a routing config is a few KB: check that FILE / TRIAGE_CONFIG names the right file",
        )
    return None


def parse(text: str, base_dir: str = ".") -> tuple[Config | None, list[Problem]]:
    if (big := _too_big(text)) is not None:
        return None, [big]
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None and _expanded_size(root) > MAX_CONFIG_NODES:
            return None, [
                Problem(
                    1,
                    "",
                    f"the file expands to over {MAX_CONFIG_NODES} values through YAML aliases",
                    "write the values out, or use an anchor (&name) only a few times",
                )
            ]
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = f"YAML syntax error: {exc.problem or exc.context}"
        return None, [Problem(line, "", message, _yaml_fix(str(exc.problem)))]
    except yaml.YAMLError as exc:
        return None, [Problem(0, "", f"YAML error: {exc}", _yaml_fix(str(exc)))]
    finally:
        loader.dispose()
    if root is None or data is None:
        return None, [
            Problem(1, "", "the file is empty", "start from triage.example.yml at the repo root")
        ]
    if not isinstance(data, dict):
        return None, [
            Problem(
                root.start_mark.line + 1,
                "",
                f"expected a mapping of sections at the top level, got {yaml_kind(data)}",
                "the file holds keys: " + ", ".join(keys_of(Config)),
            )
        ]
    problems = list(_duplicate_keys(root))
    raw_teams = data.get("teams")
    teams: list[str] = []
    if isinstance(raw_teams, list):
        teams = [
            t["name"] for t in raw_teams if isinstance(t, dict) and isinstance(t.get("name"), str)
        ]
    context: dict[str, Any] = {"seen_teams": {}, "base_dir": base_dir}
    if isinstance(raw_teams, list):
        context["teams"] = list(dict.fromkeys(teams))
    config: Config | None = None
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [
            p for e in exc.errors() if (p := _to_problem(e, root, list(context.get("teams", []))))
        ]
    problems.sort(key=lambda p: p.line)
    return (config if not problems else None), problems


def parse_config(text: str, file: str = "<config>") -> Config:
    """Validate YAML text; raises ConfigError listing every problem."""
    config, problems = parse(text, base_dir(file))
    if config is None:
        raise ConfigError(problems, file)
    config._version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return config


def base_dir(file: str) -> str:
    """Where relative paths in a config file (codeowners_file) start: the file's directory."""
    return os.path.dirname(os.path.abspath(file)) if not file.startswith("<") else "."


def read(path: str | os.PathLike[str]) -> tuple[str | None, list[Problem]]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(MAX_CONFIG_BYTES + 1), []  # parse() refuses anything longer
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [
            Problem(
                0,
                "",
                f"cannot read the file: {reason}",
                "check the path (the FILE argument or TRIAGE_CONFIG) and that it is UTF-8 text",
            )
        ]


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the config file; raises ConfigError listing every problem."""
    text, problems = read(path)
    if text is None:
        raise ConfigError(problems, os.fspath(path))
    return parse_config(text, os.fspath(path))


def check_config(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of the config file, sorted by line; [] when it is valid."""
    text, problems = read(path)
    if text is None:
        return problems
    return parse(text, base_dir(os.fspath(path)))[1]
