"""Stack traces -> exceptions and frames, per runtime (Go, JVM/Kotlin, Python, Node.js). Pure.

`parse_stacktrace(text)` returns a `Stacktrace` (or None when the text holds no frames): its
exceptions run from the OUTERMOST (what was logged) to the ROOT cause, and each exception's
frames run from the innermost (where it was raised) outwards, whatever order the runtime
prints them in. Every frame is classified in-app or library, with the reason, so a grouping
can be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

MAX_FRAMES = 256  # frames kept per exception
MAX_EXCEPTIONS = 16  # exceptions kept per chain


class Frame(NamedTuple):
    """One frame. A NamedTuple, not a dataclass: traces have many frames (hot path)."""

    module: str  # Go package path, JVM class, or short source path (Python/Node)
    function: str  # function/method name without arguments
    filename: str = ""
    lineno: int | None = None
    in_app: bool = True
    why: str = ""  # why in_app is what it is ("library: site-packages", "in-app", ...)
    context: str | None = None  # the source line, when the runtime prints it (Python)
    path: str = ""  # the source path as printed (Python, Node.js, Go): what code owners match

    def render(self) -> str:
        """`file in function` for an alert."""
        return f"{self.filename or self.module} in {self.function}"


class ExceptionInfo(NamedTuple):
    """One exception of a chain (a NamedTuple like Frame: built for every trace, hot path)."""

    type: str  # "KeyError", "java.lang.IllegalStateException", "runtime error", "Error" ...
    value: str  # the message, first line
    frames: tuple[Frame, ...] = ()  # innermost first


class Stacktrace(NamedTuple):
    runtime: str  # "go" | "jvm" | "python" | "node"
    exceptions: tuple[ExceptionInfo, ...]  # outermost first, root cause last

    @property
    def root(self) -> ExceptionInfo:
        return self.exceptions[-1]

    @property
    def outer(self) -> ExceptionInfo:
        return self.exceptions[0]


@dataclass(frozen=True, slots=True)
class InAppConfig:
    """Which frames are library code. Prefixes match the module (JVM class, Go package) or
    a substring of the file path. `include` wins over everything else."""

    include: tuple[str, ...] = ()
    jvm_library: tuple[str, ...] = (
        "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.",
        "io.ktor.", "org.springframework.", "org.apache.", "org.hibernate.", "org.postgresql.",
        "com.zaxxer.", "io.netty.", "reactor.", "com.fasterxml.", "org.slf4j.", "ch.qos.",
        "com.google.", "io.grpc.", "okhttp3.", "okio.", "org.jetbrains.", "org.eclipse.",
        "io.micrometer.", "io.opentelemetry.", "org.jooq.", "org.flywaydb.", "com.mysql.",
        "org.mariadb.", "software.amazon.", "com.amazonaws.", "io.r2dbc.", "org.glassfish.",
        "io.undertow.", "io.vertx.", "io.quarkus.", "io.micronaut.", "scala.", "akka.",
        "com.squareup.", "retrofit2.", "org.aspectj.", "net.bytebuddy.", "org.junit.",
        "org.mockito.", "io.lettuce.", "redis.clients.", "org.mongodb.", "com.mongodb.",
        "org.elasticsearch.", "co.elastic.", "io.github.resilience4j.", "feign.", "rx.",
        "io.reactivex.", "org.jboss.", "org.wildfly.", "com.oracle.", "oracle.", "org.h2.",
        "io.dropwizard.", "org.hibernate.", "com.github.benmanes.", "org.yaml.", "$Proxy",
    )  # fmt: skip
    path_library: tuple[str, ...] = (
        "/site-packages/", "/dist-packages/", "/usr/lib/python", "/usr/local/lib/python",
        "<frozen ", "/lib/python3", "node_modules/", "node:", "internal/", "/pkg/mod/",
        "/usr/local/go/src/", "/usr/lib/go", "/vendor/", "<string>", "<anonymous>",
    )  # fmt: skip
    go_library_modules: tuple[str, ...] = (
        "google.golang.org/", "golang.org/x/", "github.com/jackc/", "github.com/lib/pq",
        "github.com/go-chi/", "github.com/gin-gonic/", "github.com/labstack/",
        "go.opentelemetry.io/", "go.uber.org/", "cloud.google.com/go/", "github.com/gorilla/",
    )  # fmt: skip


DEFAULT_IN_APP = InAppConfig()

# ---------------------------------------------------------------- helpers

_HEXHASH_SEG = re.compile(r"(?<=[.\-_])[0-9a-f]{6,}(?=[.\-_])")
_PYVER = re.compile(r"python\d+(?:\.\d+)?")
_APP_ROOTS = ("/workspace/", "/app/", "/usr/src/app/", "/srv/", "/src/", "/code/", "/opt/app/")


def _short_path(path: str) -> str:
    """A stable short name for a source path: after site-packages/node_modules, else the last
    two path segments. Build hashes (main.3f2a9c0d.js) are masked."""
    if path.startswith("file://"):
        path = path[7:]
    for marker in ("/site-packages/", "/dist-packages/", "node_modules/"):
        i = path.rfind(marker)
        if i >= 0:
            return _HEXHASH_SEG.sub("*", path[i + len(marker) :])
    if "/" not in path:
        return _HEXHASH_SEG.sub("*", path)
    parts = path.rsplit("/", 2)
    return _HEXHASH_SEG.sub("*", "/".join(parts[-2:]) if len(parts) >= 2 else path)


def _alternation(items: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(i) for i in sorted(items, key=len, reverse=True)))


_PATTERN_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _rx(items: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled alternation per prefix/marker list: one C call per frame, not a loop."""
    rx = _PATTERN_CACHE.get(items)
    if rx is None:
        rx = _PATTERN_CACHE[items] = _alternation(items) if items else re.compile(r"(?!)")
    return rx


def _classify_path(path: str, cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include:
        m = _rx(cfg.include).search(path)
        if m is not None:
            return True, f"in-app: matches include {m.group()!r}"
    m = _rx(cfg.path_library).search(path)
    if m is not None:
        return False, _why_path(m.group())
    return True, "in-app: application path"


def _classify_prefix(module: str, prefixes: tuple[str, ...], cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include:
        m = _rx(cfg.include).match(module)
        if m is not None:
            return True, f"in-app: matches include {m.group()!r}"
    m = _rx(prefixes).match(module)
    if m is not None:
        return False, _why_prefix(m.group())
    return True, "in-app: application package"


_WHY: dict[str, str] = {}


def _why_path(marker: str) -> str:
    w = _WHY.get("p" + marker)
    if w is None:
        w = _WHY["p" + marker] = f"library: path has {marker!r}"
    return w


def _why_prefix(prefix: str) -> str:
    w = _WHY.get("m" + prefix)
    if w is None:
        w = _WHY["m" + prefix] = f"library: {prefix}*"
    return w


# Parsed frames by their source line (and config): a recurring error prints the same frame lines
# again and again, so parsing and classifying each distinct line once is most of the speed.
_FRAME_CACHES: dict[int, tuple[InAppConfig, dict[str, Frame]]] = {}
_FRAME_CACHE_MAX = 65536
_FRAME_KEY_MAX = 1024  # characters; with the entry cap, bounds the cache's memory


def _cache_for(cfg: InAppConfig) -> dict[str, Frame]:
    entry = _FRAME_CACHES.get(id(cfg))
    if entry is None or entry[0] is not cfg:  # the config is kept alive, so ids are not reused
        entry = _FRAME_CACHES[id(cfg)] = (cfg, {})
    return entry[1]


def _remember(cache: dict[str, Frame], key: str, frame: Frame) -> Frame:
    if len(key) > _FRAME_KEY_MAX:  # a freak line: not worth the memory
        return frame
    if len(cache) >= _FRAME_CACHE_MAX:
        cache.clear()
    cache[key] = frame
    return frame


def _cap(frames: list[Frame]) -> tuple[Frame, ...]:
    return tuple(frames[:MAX_FRAMES])


# ---------------------------------------------------------------- Python

_PY_FRAME = re.compile(r'^\s*File "([^"]*)", line (\d+)(?:, in (.+))?$')
_PY_CHAIN = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_PY_EXC = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")


def _parse_python(text: str, cfg: InAppConfig) -> Stacktrace | None:
    cache = _cache_for(cfg)
    blocks: list[ExceptionInfo] = []  # in printed order: first printed = root cause
    frames: list[Frame] = []
    in_tb = False
    last: int = -1  # index in frames of the frame awaiting its source line
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_tb, frames, last = True, [], -1
            continue
        if not in_tb:
            continue
        fr = cache.get(line) if line.startswith("  File ") else None
        if fr is None and 'File "' in line:  # source lines and the exception skip the regex
            m = _PY_FRAME.match(line)
            if m is not None:
                path, lineno, func = m.group(1), m.group(2), m.group(3) or "?"
                in_app, why = _classify_path(path, cfg)
                short = _short_path(path)
                fr = Frame(short, func.strip(), short, int(lineno), in_app, why, path=path)
                _remember(cache, line, fr)
        if fr is not None:
            frames.append(fr)
            last = len(frames) - 1
            continue
        if line.startswith(" ") or line.startswith("\t"):
            s = line.strip()
            if last >= 0 and s and frames[last].context is None and not _is_caret(s):
                frames[last] = _with_context(frames[last], s)
            continue
        s = line.strip()
        if not s:
            continue
        em = _PY_EXC.match(s)
        if em is not None:
            frames.reverse()  # Python prints outermost first
            blocks.append(ExceptionInfo(em.group(1), (em.group(2) or "").strip(), _cap(frames)))
            in_tb, frames, last = False, [], -1
            if len(blocks) >= MAX_EXCEPTIONS:
                break
        elif s.startswith("[Previous line repeated"):
            continue
        else:  # an exception whose message did not match the usual shape
            frames.reverse()
            typ, _, val = s.partition(":")
            blocks.append(ExceptionInfo(typ.strip()[:200], val.strip(), _cap(frames)))
            in_tb, frames, last = False, [], -1
    if in_tb and frames:
        frames.reverse()
        blocks.append(ExceptionInfo("", "", _cap(frames)))
    if not blocks:
        return None
    blocks.reverse()  # outermost (printed last) first
    return Stacktrace("python", tuple(blocks))


def _with_context(frame: Frame, context: str) -> Frame:
    """`frame._replace(context=context)`, without _replace's keyword machinery (hot path)."""
    return _new_tuple(Frame, (*frame[:6], context, frame[7]))


_new_tuple = tuple.__new__


def _is_caret(s: str) -> bool:
    return not s.strip("^~ ")


# ---------------------------------------------------------------- JVM / Kotlin

_JVM_FRAME = re.compile(r"^\s*at (?:[\w.@-]*/+)?([\w$.<>\[\]/-]+?)\.([\w$<>\[\]-]+)\(([^)]*)\)")
_JVM_HEAD = re.compile(
    r"^\s*(Caused by: |Suppressed: |Wrapped by: )?(?:\[CIRCULAR REFERENCE: )?"
    r"([a-zA-Z_$][\w$]*(?:\.[\w$]+)+|[A-Z][\w$]*(?:Exception|Error|Throwable))(?::\s?(.*))?$"
)
_JVM_SYNTH = re.compile(r"\$\$(?:Lambda|EnhancerBySpringCGLIB|FastClassBySpringCGLIB|SpringCGLIB)"
                        r"[$\w/]*|\$\d+(?=\$|$)|\$lambda-?\d*|GeneratedMethodAccessor\d+"
                        r"|\$Proxy\d+")  # fmt: skip


def _jvm_class(cls: str) -> str:
    return _JVM_SYNTH.sub("", cls) if "$" in cls or "Generated" in cls else cls


def _parse_jvm(text: str, cfg: InAppConfig) -> Stacktrace | None:
    cache = _cache_for(cfg)
    excs: list[tuple[str, str, str, list[Frame]]] = []  # (kind, type, value, frames)
    cur: list[Frame] | None = None
    for line in text.splitlines():
        s = line.lstrip()
        if s.startswith("at "):
            if cur is None:
                continue
            fr = cache.get(s)
            if fr is None:
                m = _JVM_FRAME.match(line)
                if m is None:
                    continue
                cls, meth, loc = m.group(1), m.group(2), m.group(3)
                cls = _jvm_class(cls)
                fname, _, ln = loc.partition(":")
                in_app, why = _classify_prefix(cls, cfg.jvm_library, cfg)
                lineno = int(ln) if ln.isdigit() else None
                fr = _remember(cache, s, Frame(cls, _jvm_class(meth), fname, lineno, in_app, why))
            cur.append(fr)
            continue
        if s.startswith("...") or not s:
            continue
        h = _JVM_HEAD.match(line)
        if h is not None and (
            h.group(1) or not excs or h.group(3) is not None or "." in h.group(2)
        ):
            kind = (h.group(1) or "").strip().rstrip(":")
            if kind == "Suppressed":  # a sibling, not a cause: keep it out of the chain
                cur = []
                continue
            cur = []
            excs.append((kind, h.group(2), (h.group(3) or "").strip(), cur))
            if len(excs) >= MAX_EXCEPTIONS:
                break
    excs = [e for e in excs if e[3] or e[0] == "Caused by" or e is excs[0]]
    if not excs or not any(e[3] for e in excs):
        return None
    out = tuple(ExceptionInfo(t, v, _cap(fr)) for _, t, v, fr in excs)
    return Stacktrace("jvm", out)


# ---------------------------------------------------------------- Node.js

_NODE_FRAME = re.compile(r"^\s*at (?:(async) )?(?:(.*?) \((.*)\)|(.*))$")
_NODE_LOC = re.compile(r"^(.*?)(?::(\d+))?(?::(\d+))?$")
_NODE_HEAD = re.compile(
    r"^(?:\[cause\]: |Caused by: )?([A-Za-z_$][\w$.]*)(?:\s*\[[^\]]*\])?: ?(.*)$"
)


def _node_frame(s: str, cfg: InAppConfig) -> Frame | None:
    m = _NODE_FRAME.match(s)
    if m is None:
        return None
    func = (m.group(2) or "").strip()
    loc = m.group(3) if m.group(3) is not None else (m.group(4) or "")
    if func.startswith("new "):
        func = func[4:]
    func = func.split(" [as ", 1)[0]
    lm = _NODE_LOC.match(loc)
    path = lm.group(1) if lm else loc
    ln = lm.group(2) if lm else None
    if not func:
        func = "<anonymous>"
    in_app, why = _classify_path(path, cfg)
    short = _short_path(path)
    return Frame(short, func, short, int(ln) if ln else None, in_app, why, path=path)


def _parse_node(text: str, cfg: InAppConfig) -> Stacktrace | None:
    cache = _cache_for(cfg)
    excs: list[tuple[str, str, list[Frame]]] = []
    cur: list[Frame] | None = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("at "):
            key = "node\x00" + s
            fr = cache.get(key)
            if fr is None:
                fr = _node_frame(s, cfg)
                if fr is None:
                    continue
                _remember(cache, key, fr)
            if cur is None:
                cur = []
                excs.append(("Error", "", cur))
            cur.append(fr)
            continue
        if not s or s.startswith("..."):
            continue
        h = _NODE_HEAD.match(s)
        if h is not None and (not excs or s.startswith(("[cause]", "Caused by"))):
            cur = []
            excs.append((h.group(1), h.group(2).strip(), cur))
    excs = [e for e in excs if e[2]]
    if not excs:
        return None
    return Stacktrace("node", tuple(ExceptionInfo(t, v, _cap(fr)) for t, v, fr in excs))


# ---------------------------------------------------------------- Go

_GO_FILE = re.compile(r"^\t(\S.*?):(\d+)(?: \+0x[0-9a-f]+)?")
_GO_GENERIC = re.compile(r"\[[^\]]*\]")
_GO_HEAD = re.compile(r"^(panic|fatal error): (.*)$")


def _go_split(fn: str) -> tuple[str, str]:
    """'github.com/x/y/pkg.(*T).M' -> ('github.com/x/y/pkg', '(*T).M')."""
    slash = fn.rfind("/")
    dot = fn.find(".", slash + 1)
    if dot < 0:
        return fn, fn
    return fn[:dot], fn[dot + 1 :]


def _parse_go(text: str, cfg: InAppConfig) -> Stacktrace | None:
    cache = _cache_for(cfg)
    typ, value = "", ""
    frames: list[Frame] = []
    lines = text.splitlines()
    n = len(lines)
    seen_goroutine = False
    i = 0
    while i < n:
        line = lines[i]
        if not typ:
            h = _GO_HEAD.match(line.strip())
            if h is not None:
                typ, value = h.group(1), h.group(2).strip()
                if value.startswith("runtime error: "):
                    typ, value = "runtime error", value[15:]
                if value.endswith(" [recovered]"):
                    value = value[:-12]
                i += 1
                continue
        if line.startswith("goroutine ") and line.rstrip().endswith(":"):
            if seen_goroutine and frames:
                break  # only the first goroutine (the one that failed) matters
            seen_goroutine = True
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < n else ""
        if line and not line[0].isspace() and nxt.startswith("\t"):
            fn = line.strip()
            if fn.endswith(")"):
                fn = fn[: fn.rfind("(")]  # the arguments: pointers, never hashed
            # Keyed by function and the whole location line (path, line, pc offset): one
            # binary prints the same pair every time, whatever the arguments and goroutine.
            key = "go\x00" + fn + "\x00" + nxt
            cached = cache.get(key)
            if cached is not None:
                frames.append(cached)
                i += 2
                continue
            fm = _GO_FILE.match(nxt)
            if fm is not None:
                path = fm.group(1)
                if fn.startswith("created by "):
                    fn = fn[11:].split(" in goroutine ", 1)[0]
                if "[" in fn:
                    fn = _GO_GENERIC.sub("[...]", fn)
                pkg, func = _go_split(fn)
                in_app, why = _go_classify(pkg, path, cfg)
                base = path.rsplit("/", 1)[-1]
                fr = _remember(
                    cache, key, Frame(pkg, func, base, int(fm.group(2)), in_app, why, path=path)
                )
                frames.append(fr)
                i += 2
                continue
        i += 1
    if not frames:
        return None
    return Stacktrace("go", (ExceptionInfo(typ or "", value, _cap(frames)),))


def _go_classify(pkg: str, path: str, cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include:
        m = _rx(cfg.include).match(pkg) or _rx(cfg.include).search(path)
        if m is not None:
            return True, f"in-app: matches include {m.group()!r}"
    slash = pkg.find("/")
    first = pkg if slash < 0 else pkg[:slash]
    if "." not in first and first != "main":
        return False, "library: Go standard library"
    if "/pkg/mod/" in path or "/vendor/" in path:
        return False, "library: Go module cache"
    m = _rx(cfg.go_library_modules).match(pkg)
    if m is not None:
        return False, _why_prefix(m.group())
    return True, "in-app: application package"


# ---------------------------------------------------------------- dispatch


def detect_runtime(text: str) -> str | None:
    """Cheap substring tests; None when the text does not look like a trace."""
    if "Traceback (most recent call last)" in text:
        return "python"
    if ("goroutine " in text or "\n\t/" in text or ".go:" in text) and (
        "\n\t" in text or _GO_FILE.search(text) is not None
    ):
        return "go"
    if "\tat " in text or ("at " in text and (".java:" in text or ".kt:" in text)):
        return "jvm"
    if "    at " in text or "\nat " in text:
        return "node" if _looks_node(text) else "jvm"
    return None


def _looks_node(text: str) -> bool:
    return ".js:" in text or ".ts:" in text or "node:" in text or ".mjs:" in text or ".cjs:" in text


_PARSERS = {"python": _parse_python, "jvm": _parse_jvm, "node": _parse_node, "go": _parse_go}


def parse_stacktrace(text: str | None, cfg: InAppConfig = DEFAULT_IN_APP) -> Stacktrace | None:
    """Parse a stack trace; None when there is none. Never raises on arbitrary text."""
    if not text:
        return None
    runtime = detect_runtime(text)
    if runtime is None:
        return None
    st = _PARSERS[runtime](text, cfg)
    if st is None and runtime == "go":  # ".go:" in a JVM/Node message, say
        for other in ("jvm", "node"):
            st = _PARSERS[other](text, cfg)
            if st is not None:
                break
    return st


__all__ = [
    "DEFAULT_IN_APP",
    "ExceptionInfo",
    "Frame",
    "InAppConfig",
    "Stacktrace",
    "detect_runtime",
    "parse_stacktrace",
]
