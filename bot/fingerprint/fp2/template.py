"""fp2's message template (a copy of fp1's, frozen with fp2 once released): map every occurrence of one log statement to the same string.

Stateless, so every replica (and a restarted one) computes the same template from the text
alone; nothing is learned from traffic.

1. Values that may contain spaces or slashes are masked first: quoted strings (except an HTTP
   request line, whose method and route are the statement), file-system paths.
2. The rest is split at whitespace; each token is split again at punctuation and every part
   is classified by its shape: a part with a digit, a random-looking id, a host or file name,
   a dotted package name, an e-mail ... is a variable. A few generic words announce a value
   (``user X``, ``host=X``), and a month or weekday name next to a number is part of a date.
3. A run of variables (with the separators between them, and a unit such as ``KB`` or
   ``ms`` after a number) collapses to one ``<*>``; a parenthesis holding only a variable is
   dropped. Lists and compound values of any length thus give one template.

Classification of digit-free tokens is memoised in a bounded dict: the memo is a pure
function cache and never changes a result.
"""

from __future__ import annotations

import re
from typing import Final

VAR: Final = "<*>"
_MARK: Final = "\x00"
_MEMO_LIMIT: Final = 50_000

_HTTP_METHODS: Final = "GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|CONNECT|TRACE"
_QUOTED: Final = re.compile(
    rf"(?<![\w\\])'(?!(?:{_HTTP_METHODS}) )[^'\n]*'(?!\w)"
    rf"|\"(?!(?:{_HTTP_METHODS}) )(?:[^\"\\\n]|\\.)*\""
    r"|`[^`\n]*`"
)
# A path of at least two segments; an HTTP route is a path too (its method is kept).
_PATH: Final = re.compile(r"(?<![\w.~/:])(?:~|\.{1,2})?/[^\s/,;'\"]+(?:/[^\s/,;'\"()\[\]]*)+")

_PUNCT: Final = r",;:=()\[\]{}<>\"'`|/\\#"
_SPLIT_PUNCT: Final = re.compile(rf"([{_PUNCT}]+)")
_HAS_DIGIT: Final = re.compile(rf"[\d{_MARK}]").search
_DIGIT_PART: Final = re.compile(rf"(?<![^{_PUNCT}])[^{_PUNCT}\d{_MARK}]*+[\d{_MARK}][^{_PUNCT}]*+")

_UNITS: Final = (
    r"(?:[kKMGTP]i?B|B|bytes?|[nuµm]?s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?"
    r"|days?|[kMG]?Hz|%)"
)
_RUN: Final = re.compile(
    rf"[<>~]?{_MARK}(?: ?{_UNITS}\b)?(?:[\s,;:=|/\\#-]*{_MARK}(?: ?{_UNITS}\b)?)*"
)
_BARE_PAREN: Final = re.compile(r" ?\((?:<\*>)?\)| ?\[(?:<\*>)?\]")
_VAR_RUN: Final = re.compile(r"<\*>(?:[\s,;:=|/\\#-]*<\*>)+")

# Words after which a value follows (as the next word, or as ``word=value``).
_VALUE_KEYWORDS: Final = frozenset(
    variant
    for word in ("user", "username", "login", "host", "hostname", "rhost", "node", "domain")
    for variant in (word, word.capitalize(), word.upper())
)
_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_DATE_WORDS: Final = frozenset((*_WEEKDAYS, *_MONTHS))

_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Host or file name: "example.com", "a.b.example.org", "lib.dll".
_HOST_OR_FILE: Final = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z]{2,4}")
# Dotted name of three or more labels: a package, a reverse-DNS id, a host.
_DOTTED: Final = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w$-]+){2,}")
# Code names: an exception class, an ALL_CAPS constant ("a.b.Action.STARTED").
_CODE_NAME: Final = re.compile(r".*\.(?:[A-Z]\w*(?:Exception|Error)(?:\$\w+)?|[A-Z][A-Z0-9_]+)")
# Prefixed random id: "inv_ORekHBaMBx", "ch_abcDEFghij".
_PREFIXED_ID: Final = re.compile(r"[a-z]{1,6}_(?=[a-z]*[A-Z])[A-Za-z]{8,}")
_HEXISH: Final = re.compile(r"[0-9a-fA-F]{12,}|[0-9a-f]{8,}|[0-9A-F]{8,}")

_memo: dict[str, str] = {}


def _random_looking(part: str) -> bool:
    """A digit-free identifier whose case pattern is not a word or CamelCase name."""
    if len(part) < 8 or not part.isalpha() or part.islower() or part.isupper():
        return False
    uppers = sum(1 for c in part if c.isupper())
    if uppers * 10 < len(part) * 3:  # CamelCase: few capitals
        return False
    # Random base-62 text has lowercase letters standing alone between capitals.
    return re.search(r"[A-Z][a-z][A-Z]", part) is not None


def _part_is_variable(part: str, after_keyword: bool) -> bool:
    core = part.rstrip(".")
    if not core:
        return False
    if after_keyword and core[0].isalpha():
        return True
    if "@" in core and _EMAIL.fullmatch(core):
        return True
    if "." in core:
        if _CODE_NAME.fullmatch(core):
            return False
        if _HOST_OR_FILE.fullmatch(core) or _DOTTED.fullmatch(core):
            return True
    return bool(_PREFIXED_ID.fullmatch(core) or _HEXISH.fullmatch(core) or _random_looking(core))


def _classify(token: str) -> str:
    """Template of one whitespace-free, digit-free token."""
    parts = _SPLIT_PUNCT.split(token)
    changed = False
    for i in range(0, len(parts), 2):
        part = parts[i]
        if not part:
            continue
        key = parts[i - 2] if i >= 2 and parts[i - 1].endswith("=") else ""
        if _part_is_variable(part, key in _VALUE_KEYWORDS):
            parts[i] = _MARK
            changed = True
    return "".join(parts) if changed else token


# A value with its punctuation but no letters ("#3#", "10.0.0.1,"), a name with a number in
# parentheses ("LOCAL(0)"), a non-HTTP URI (a data location): one variable. Brackets and
# quotes around it and a trailing , ; : . stay, so "(4.64 KB)" keeps its shape.
_WRAPPED: Final = re.compile(r"^([(\[{<\"']*)(.*?)([)\]}>\"',;:.]*)$")
_LETTERLESS: Final = re.compile(r"[^A-Za-z\s=]*\d[^A-Za-z\s=]*")
_NAME_NUMBER: Final = re.compile(r"[A-Za-z_]+\(\d+\)([,;:.]?)")
_URI: Final = re.compile(r"(?!https?://)[A-Za-z][\w.+-]*://\S*")  # http(s): the route counts


def _whole(token: str) -> str | None:
    n = _NAME_NUMBER.fullmatch(token)
    if n is not None:
        return _MARK + n.group(1)
    m = _WRAPPED.match(token)
    if m is None:
        return None
    core = m.group(2)
    if not core:
        return None
    if _LETTERLESS.fullmatch(core) is not None or _URI.fullmatch(core) is not None:
        return m.group(1) + _MARK + m.group(3)
    return None


def _token(token: str) -> str:
    """Template of one whitespace-free token; digit-free ones are memoised."""
    if "://" in token:
        whole = _whole(token)
        if whole is not None:
            return whole
    if _HAS_DIGIT(token):
        whole = _whole(token)
        if whole is not None:
            return whole
        token = _DIGIT_PART.sub(_MARK, token)
        if token == _MARK:
            return token
        cached = _memo.get(token)
        if cached is not None:
            return cached
    result = _classify(token)
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[token] = result
    return result


def message_template(text: str) -> str:
    """The template of one log message: constant words kept, variable parts as ``<*>``."""
    if "'" in text or '"' in text or "`" in text:
        text = _QUOTED.sub(_MARK, text)
    if "/" in text:
        text = _PATH.sub(_MARK, text)
    out = text.split()
    memo = _memo
    after_keyword = False
    for i, token in enumerate(out):
        if after_keyword and token[0].isalpha():
            out[i] = _MARK
            after_keyword = False
            continue
        result = memo.get(token)
        if result is None:
            result = _token(token)
        out[i] = result
        after_keyword = False  # a keyword announces the next word only
        if result == token:
            after_keyword = token in _VALUE_KEYWORDS
        elif token[0] in _DIGIT_CHARS and i and out[i - 1] in _DATE_WORDS:
            j = i - 1
            while j >= 0 and out[j] in _DATE_WORDS:
                out[j] = _MARK
                j -= 1
    joined = " ".join(out)
    if _MARK not in joined:
        return joined
    joined = _RUN.sub(VAR, joined)
    if "(" in joined or "[" in joined:
        joined = _VAR_RUN.sub(VAR, _BARE_PAREN.sub("", joined))
    return joined


_DIGIT_CHARS: Final = frozenset("0123456789")
