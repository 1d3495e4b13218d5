"""One key schema: every Redis key is built in bot/store/keys.py, every key a Lua script
touches arrives in KEYS and every TTL in ARGV. Checked on the sources, mechanically."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LUA = sorted(ROOT.glob("bot/**/lua/*.lua"))
PY = sorted(
    p
    for d in ("bot", "handlers", "bench", "sandbox/triage_sandbox")
    for p in (ROOT / d).rglob("*.py")
    if p != ROOT / "bot/store/keys.py"
)
# redis-py methods whose first argument is a key
KEY_METHODS = frozenset(
    (
        "get",
        "set",
        "delete",
        "exists",
        "expire",
        "ttl",
        "type",
        "incr",
        "incrby",
        "hget",
        "hgetall",
        "hmget",
        "hset",
        "hsetnx",
        "hdel",
        "hincrby",
        "hvals",
        "hkeys",
        "hlen",
        "hscan",
        "hscan_iter",
        "zadd",
        "zrem",
        "zscore",
        "zrange",
        "zrevrange",
        "zrangebyscore",
        "zrevrangebyscore",
        "zcard",
        "zincrby",
        "zremrangebyscore",
        "zscan",
        "zscan_iter",
        "sadd",
        "srem",
        "smembers",
        "sismember",
        "scard",
        "lpush",
        "rpush",
        "lrange",
        "ltrim",
        "llen",
        "lpop",
        "rpop",
        "memory_usage",
    )
)
_CALL = re.compile(r"redis\.p?call\(\s*'(\w+)'\s*,\s*([^,)]+)\s*([,)])")
_KEYS = re.compile(r"^KEYS\[.+\]$")


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets."""
    out, depth, cur = [], 0, ""
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    return [*out, cur.strip()]


def _key_locals(src: str) -> dict[str, list[str]]:
    """name -> every expression assigned to it (single and multiple assignment)."""
    found: dict[str, list[str]] = {}
    for m in re.finditer(r"^\s*(?:local\s+)?([\w\s,]+?)\s*=(?!=)\s*(.+)$", src, re.M):
        names = [n.strip() for n in m.group(1).split(",")]
        exprs = _split_top(m.group(2))
        for i, name in enumerate(names):
            found.setdefault(name, []).append(exprs[i] if i < len(exprs) else "nil")
    return found


@pytest.mark.parametrize("path", LUA, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_key_a_script_touches_comes_from_keys_and_every_ttl_from_argv(path: Path) -> None:
    src = path.read_text()
    assigned = _key_locals(src)
    calls = list(_CALL.finditer(src))
    assert calls, "no redis.call found: the check would prove nothing"
    for m in calls:
        cmd, key = m.group(1).upper(), m.group(2).strip()
        ok = bool(_KEYS.match(key)) or (
            key in assigned and all(_KEYS.match(e) for e in assigned[key])
        )
        assert ok, f"{path.name}: {cmd} on {key!r}, not a key from KEYS"
        if cmd in ("EXPIRE", "PEXPIRE", "SETEX", "EXPIREAT"):
            rest = src[m.end() :].split(")", 1)[0]
            assert not re.fullmatch(r"\s*\d+\s*", rest), f"{path.name}: a TTL literal ({rest})"
    # no key name assembled from a hash tag
    assert not re.search(r"\btag\s*\.\.", src), f"{path.name} builds a name from the hash tag"


def _key_format(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod)


@pytest.mark.parametrize("path", PY, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_redis_key_format_outside_keys_py(path: Path) -> None:
    src = path.read_text()
    tree = ast.parse(src)
    uses_redis = "redis" in src
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            assert not _prefixed(node), f"{path}:{node.lineno}: a key format: {ast.unparse(node)}"
        if (
            uses_redis
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in KEY_METHODS
            and node.args
            and _key_format(node.args[0])
            and _looks_like_redis(node.func.value)
        ):
            pytest.fail(f"{path}:{node.lineno}: {node.func.attr} on a key built in place")


def _prefixed(node: ast.JoinedStr) -> bool:
    """f"{prefix}:..." or f"{...tag...}:...": a key prefix or hash tag followed by ':'."""
    vals = node.values
    for v, nxt in itertools.pairwise(vals):
        if (
            isinstance(v, ast.FormattedValue)
            and re.search(r"\b(prefix|tag|key_prefix)\b", ast.unparse(v.value))
            and isinstance(nxt, ast.Constant)
            and str(nxt.value).startswith((":", "}:"))
        ):
            return True
    return False


def _looks_like_redis(target: ast.AST) -> bool:
    """`self.r.x(...)`, `r.x(...)`, `pipe.x(...)`, `client.x(...)`: a Redis client or pipeline."""
    name = ast.unparse(target)
    return bool(re.search(r"(^|\.)(r|redis|client|redis_client|pipe|pipeline)$", name))


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """The Lua check on a script that builds a key from the hash tag, the Python check on an
    f-string key: both fail."""
    bad = "local tag = KEYS[1]\nredis.call('ZINCRBY', tag .. ':hc:h' .. 1, 1, 'g')\n"
    assert not all(_KEYS.match(e) for e in _key_locals(bad).get("tag .. ':hc:h' .. 1", ["x"]))
    m = _CALL.search(bad)
    assert m is not None and m.group(2).strip() == "tag .. ':hc:h' .. 1"
    assert re.search(r"\btag\s*\.\.", bad)
    tree = ast.parse('self.r.hgetall(f"{self.prefix}:sh:{b}")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert isinstance(call.args[0], ast.JoinedStr) and _prefixed(call.args[0])
    assert not _prefixed(ast.parse('f"library: {prefix}*"').body[0].value)  # type: ignore[attr-defined,arg-type]
    assert isinstance(call.func, ast.Attribute) and call.func.attr in KEY_METHODS
    assert _key_format(call.args[0]) and _looks_like_redis(call.func.value)
