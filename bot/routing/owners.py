"""Code ownership: which team owns the code an error was thrown in (pure).

The culprit is the top in-app frame of the root cause, the same frame the fingerprint names
(`Fingerprint.culprit`). Its location is matched against owner rules of three kinds:

* `path`: CODEOWNERS syntax (gitignore-like, as GitHub documents it): `*` within one directory,
  `**` across directories, `?` one character, a trailing `/` for a directory and everything
  below, a leading `/` (or a `/` inside the pattern) anchors it to the repository root, a
  pattern without a slash matches a file or directory name at any depth. Negation (`!`) and
  character ranges (`[...]`) are not CODEOWNERS syntax and are refused. The checkout's place in
  the container is not known (`/app`, `/workspace`, a build path in Go traces), so an anchored
  pattern is tried from each directory of the frame's path: `/services/payments/` matches
  `/app/services/payments/api.py`. JVM frames carry no path: their package gives one
  (`com.acme.billing.Invoice` in `Invoice.kt` -> `com/acme/billing/Invoice.kt`).
* `package`: a JVM package (`com.acme.billing` owns its classes and its sub-packages; `*` is one
  package segment).
* `go`: a Go package pattern as `go list` reads it (`github.com/acme/mono/search/...` is that
  package and everything below; `...` matches any text; without it, that package only).

Order: the config's `owners.rules` are tried first, first match wins (as routes); then the
lines of a CODEOWNERS file with GitHub's rule, the LAST matching line wins (so the file means
what it means on GitHub). A CODEOWNERS line names owners such as `@acme/payments-devs`; the
first of them that maps to a config team owns the line; a line whose owners map to no team
(users, e-mail addresses) owns its paths for nobody, and the route's own team is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.fingerprint.fp1.stacktrace import (
    DEFAULT_IN_APP,
    Frame,
    InAppConfig,
    Stacktrace,
    parse_stacktrace,
)
from bot.models import ErrorEvent

RuleKind = Literal["path", "package", "go"]


@dataclass(frozen=True, slots=True)
class CodeLocation:
    """Where the culprit frame's code lives: its source path (as printed, or derived from the
    JVM package) and its module (JVM class, Go package, or short source path)."""

    path: str
    module: str
    function: str = ""
    runtime: str = ""

    def describe(self) -> str:
        where = self.path or self.module
        return f"{where} in {self.function}" if self.function else where


@dataclass(frozen=True, slots=True)
class OwnerRule:
    kind: RuleKind
    pattern: str
    team: str | None  # None: a CODEOWNERS line whose owners map to no config team
    source: str  # where it was written: "owners.rules[2]" or "CODEOWNERS:14"
    regex: re.Pattern[str]

    def matches(self, loc: CodeLocation) -> bool:
        if self.kind == "path":
            return bool(loc.path) and any(
                self.regex.match(p) is not None for p in _dir_suffixes(loc.path)
            )
        if self.kind == "package":
            return loc.runtime in ("jvm", "") and self.regex.match(loc.module) is not None
        return loc.runtime in ("go", "") and self.regex.match(loc.module) is not None

    def describe(self) -> str:
        return f"{self.source} {self.kind} {self.pattern} -> {self.team or '(no config team)'}"


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    """The owner rule that decided (team None: it matched, but names no config team)."""

    team: str | None
    rule: OwnerRule
    location: CodeLocation

    def describe(self) -> str:
        return f"code {self.location.describe()} owned by {self.rule.describe()}"


@dataclass(frozen=True, slots=True)
class OwnerTable:
    """Rules in the order they are tried: the config's (first match wins), then the CODEOWNERS
    file's lines reversed (so its last matching line wins)."""

    rules: tuple[OwnerRule, ...] = ()

    def owner(self, loc: CodeLocation | None) -> OwnerMatch | None:
        if loc is None:
            return None
        for rule in self.rules:
            if rule.matches(loc):
                return OwnerMatch(rule.team, rule, loc)
        return None

    def teams(self) -> set[str]:
        return {r.team for r in self.rules if r.team is not None}


def _dir_suffixes(path: str) -> list[str]:
    """'/app/services/pay/api.py' -> ['app/services/pay/api.py', 'services/pay/api.py', ...]."""
    p = path.replace("\\", "/")
    if p.startswith("file://"):
        p = p[7:]
    p = p.lstrip("/")
    out = [p]
    i = p.find("/")
    while i >= 0:
        out.append(p[i + 1 :])
        i = p.find("/", i + 1)
    return out


# --- patterns -----------------------------------------------------------------------------------


class PatternError(ValueError):
    """A pattern that cannot be used; str() says what is wrong, `fix` how to write it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def compile_path(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS path pattern -> a regex over a repository-relative path."""
    p = pattern.strip()
    if not p:
        raise PatternError("the pattern is empty", "write a path such as '/services/payments/'")
    if p.startswith("!"):
        raise PatternError(
            f"{pattern!r}: CODEOWNERS has no negation (!)",
            "write the paths each team owns; a later (or, in owners.rules, earlier) rule wins",
        )
    if "[" in p or "]" in p:
        raise PatternError(
            f"{pattern!r}: character ranges [...] are not CODEOWNERS syntax",
            "use * or ? instead, or one rule per name",
        )
    if p.startswith("\\#"):
        p = p[1:]
    dir_only = p.endswith("/")
    body = p.strip("/")
    if not body:  # "/" or "/**": the whole repository
        return re.compile(r".*")
    anchored = p.startswith("/") or "/" in body
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(r".*")
            i += 2
        elif body[i] == "*":
            out.append(r"[^/]*")
            i += 1
        elif body[i] == "?":
            out.append(r"[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    head = "" if anchored else r"(?:.*/)?"
    # A directory owns what is below it; as GitHub documents, `docs/*` owns docs/a.md but not
    # docs/a/b.md: a last segment ending in a single * matches names, not directories.
    last = body.rsplit("/", 1)[-1]
    files_only = last.endswith("*") and not last.endswith("**") and not dir_only
    tail = r"/.*" if dir_only else ("" if files_only else r"(?:/.*)?")
    return re.compile(f"{head}{''.join(out)}{tail}\\Z")


_JAVA_IDENT = re.compile(r"^(?:\*|[A-Za-z_$][\w$]*)$")


def compile_package(pattern: str) -> re.Pattern[str]:
    """`com.acme.billing` -> its classes and sub-packages' classes; `*` is one segment."""
    parts = pattern.strip().removesuffix(".**").removesuffix(".*").split(".")
    if not pattern.strip() or not all(_JAVA_IDENT.match(s) for s in parts):
        raise PatternError(
            f"{pattern!r} is not a JVM package",
            "write dotted identifiers such as 'com.acme.billing' (owns its sub-packages too)",
        )
    body = r"\.".join(r"[^.]+" if s == "*" else re.escape(s) for s in parts)
    return re.compile(body + r"\..+\Z")


_GO_PATH = re.compile(r"^[A-Za-z0-9_.~\-/]+$")


def compile_go(pattern: str) -> re.Pattern[str]:
    """A `go list` package pattern: `...` matches any text; `x/...` also matches `x`."""
    p = pattern.strip()
    if not p or not _GO_PATH.match(p.replace("...", "")) or p.startswith("/"):
        raise PatternError(
            f"{pattern!r} is not a Go package pattern",
            "write an import path such as 'github.com/acme/mono/search/...' "
            "(... matches that package and everything below it)",
        )
    out = []
    i = 0
    while i < len(p):
        if p.startswith("/...", i) and i + 4 == len(p):
            out.append(r"(?:/.*)?")
            i += 4
        elif p.startswith("...", i):
            out.append(r".*")
            i += 3
        else:
            out.append(re.escape(p[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


COMPILERS = {"path": compile_path, "package": compile_package, "go": compile_go}


def rule(kind: RuleKind, pattern: str, team: str | None, source: str) -> OwnerRule:
    """Raises PatternError for a pattern that cannot be used."""
    return OwnerRule(kind, pattern, team, source, COMPILERS[kind](pattern))


# --- CODEOWNERS files ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeownersLine:
    line: int  # 1-based
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CodeownersProblem:
    line: int
    message: str
    fix: str


def parse_codeowners(text: str) -> tuple[list[CodeownersLine], list[CodeownersProblem]]:
    """The pattern lines of a CODEOWNERS file, and the lines that cannot be used."""
    lines: list[CodeownersLine] = []
    problems: list[CodeownersProblem] = []
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("[") and "]" in s:  # GitLab section header: its lines follow
            continue
        s = re.split(r"\s+#", s, maxsplit=1)[0]  # a trailing comment
        pattern, *owners = re.split(r"(?<!\\)\s+", s)
        pattern = pattern.replace("\\ ", " ")
        try:
            compile_path(pattern)
        except PatternError as exc:
            problems.append(CodeownersProblem(n, str(exc), exc.fix))
            continue
        lines.append(CodeownersLine(n, pattern, tuple(owners)))
    return lines, problems


def codeowners_rules(
    lines: Sequence[CodeownersLine],
    team_names: Sequence[str],
    mapping: Mapping[str, str],
    file: str,
) -> tuple[list[OwnerRule], list[CodeownersProblem]]:
    """OwnerRules in evaluation order (last line first). An owner maps to a config team through
    `mapping` (`'@acme/payments-devs': payments`), else by its team slug (`@acme/payments` ->
    `payments`) when a config team has that name. An `@org/team` owner that maps to nothing is
    a problem (a typo or a missing mapping); users and e-mail addresses are not teams."""
    teams = set(team_names)
    rules: list[OwnerRule] = []
    problems: list[CodeownersProblem] = []
    for ln in lines:
        team: str | None = None
        unmapped: list[str] = []
        for owner in ln.owners:
            hit = mapping.get(owner)
            if hit is None and "/" in owner and owner.startswith("@"):
                slug = owner.rsplit("/", 1)[1]
                hit = slug if slug in teams else None
                if hit is None:
                    unmapped.append(owner)
            if hit is not None and team is None:
                team = hit
        if team is None and unmapped:
            problems.append(
                CodeownersProblem(
                    ln.line,
                    f"owner {unmapped[0]} of {ln.pattern!r} is not a config team",
                    f"map it under owners.codeowners_teams: {{'{unmapped[0]}': <team>}} "
                    f"(teams: {', '.join(sorted(teams)) or 'none defined'})",
                )
            )
        rules.append(rule("path", ln.pattern, team, f"{file}:{ln.line}"))
    rules.reverse()
    return rules, problems


# --- the culprit's location ---------------------------------------------------------------------


def _jvm_path(frame: Frame) -> str:
    pkg, _, _cls = frame.module.rpartition(".")
    if not frame.filename or not pkg:
        return frame.filename
    return pkg.replace(".", "/") + "/" + frame.filename


Parse = Callable[[str], Stacktrace | None]  # a grouping strategy's parser, with its in-app rules


def _culprit(event: ErrorEvent, parse: Parse) -> tuple[Frame, str] | None:
    st = parse(event.stack) if event.stack else None
    if st is None and "\n" in event.message:
        st = parse(event.message)
    if st is not None and st.root.frames:
        frames = st.root.frames
        return next((f for f in frames if f.in_app), frames[0]), st.runtime
    loc = event.report_location
    if loc and loc.get("filePath"):
        path = str(loc["filePath"])
        fn = str(loc.get("functionName") or "")
        return Frame(path, fn, path.rsplit("/", 1)[-1], path=path), ""
    return None


def culprit_frame(event: ErrorEvent, in_app: InAppConfig = DEFAULT_IN_APP) -> Frame | None:
    """The top in-app frame of the root cause (the fingerprint's culprit); the top frame when
    none is in-app; the Error Reporting location when there is no trace."""
    found = _culprit(event, lambda text: parse_stacktrace(text, in_app))
    return found[0] if found else None


def code_location(event: ErrorEvent, parse: Parse | None = None) -> CodeLocation | None:
    """Where the culprit's code is. `parse`: the grouping strategy's trace parser (with the
    service's in-app rules), so the culprit is the frame the fingerprint names; fp1's default."""
    found = _culprit(event, parse or (lambda text: parse_stacktrace(text, DEFAULT_IN_APP)))
    if found is None:
        return None
    frame, runtime = found
    path = _jvm_path(frame) if runtime == "jvm" else (frame.path or frame.filename)
    return CodeLocation(path, frame.module, frame.function, runtime)


def owner_of(table: OwnerTable, event: ErrorEvent, parse: Parse | None = None) -> OwnerMatch | None:
    return table.owner(code_location(event, parse))


__all__ = [
    "CodeLocation",
    "CodeownersLine",
    "CodeownersProblem",
    "OwnerMatch",
    "OwnerRule",
    "OwnerTable",
    "PatternError",
    "code_location",
    "codeowners_rules",
    "compile_go",
    "compile_package",
    "compile_path",
    "culprit_frame",
    "owner_of",
    "parse_codeowners",
    "rule",
]
