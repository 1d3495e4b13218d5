"""fp2's stack-trace parser (a copy of fp1's, which stays frozen, with fp2's fixes). Pure.

Differences from fp1: per-runtime in-app defaults plus the service's `in_app` rules
(exclude > include > defaults); generated class/function names (Hibernate/ByteBuddy,
javassist, CGLIB, JDK lambdas, Kotlin lambdas and `$suspendImpl`, javac `lambda$m$N`) reduced to
the written name; versions inside paths (App Engine deploy directories, eggs, pnpm) dropped
from module names; Node.js crash preambles, frames ending in ` {` and `cause:` blocks; minified
bundles (mangled names dropped, chunk numbers and content hashes masked); the Go standard
library recognised by its package names, not by "no dot in the path".

`parse_stacktrace(text)` returns a `Stacktrace` (or None when the text holds no frames): its
exceptions run from the OUTERMOST (what was logged) to the ROOT cause, and each exception's
frames run from the innermost (where it was raised) outwards, whatever order the runtime
prints them in. Every frame is classified in-app or library, with the reason, so a grouping
can be explained.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote as _unquote

from bot.fingerprint.fp1.stacktrace import ExceptionInfo, Frame, Stacktrace
from bot.fingerprint.inapp import InAppRules

MAX_FRAMES = 256  # frames kept per exception
MAX_EXCEPTIONS = 16  # exceptions kept per chain


_JVM_LIBRARY = (
    "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.",
    "groovy.", "clojure.", "android.", "androidx.", "dalvik.", "libcore.", "com.android.",
    "io.ktor.", "org.springframework.", "org.apache.", "org.hibernate.", "org.postgresql.",
    "com.zaxxer.", "io.netty.", "reactor.", "com.fasterxml.", "org.slf4j.", "ch.qos.",
    "com.google.", "io.grpc.", "okhttp3.", "okio.", "org.jetbrains.", "org.eclipse.",
    "io.micrometer.", "io.opentelemetry.", "org.jooq.", "org.flywaydb.", "com.mysql.",
    "org.mariadb.", "software.amazon.", "com.amazonaws.", "io.r2dbc.", "org.glassfish.",
    "io.undertow.", "io.vertx.", "io.quarkus.", "io.micronaut.", "akka.", "play.",
    "com.squareup.", "retrofit2.", "org.aspectj.", "net.bytebuddy.", "org.junit.",
    "org.mockito.", "io.lettuce.", "redis.clients.", "org.mongodb.", "com.mongodb.",
    "org.elasticsearch.", "co.elastic.", "io.github.resilience4j.", "feign.", "rx.",
    "io.reactivex.", "org.jboss.", "org.wildfly.", "com.oracle.", "oracle.", "org.h2.",
    "io.dropwizard.", "com.github.benmanes.", "org.yaml.", "org.mortbay.", "org.codehaus.",
    "org.json.", "org.quartz.", "org.thymeleaf.", "org.keycloak.", "org.bson.", "org.neo4j.",
    "org.jdbi.", "org.mybatis.", "org.osgi.", "org.reactivestreams.", "org.xml.", "org.w3c.",
    "org.testng.", "org.gradle.", "org.assertj.", "org.liquibase.", "liquibase.",
    "org.bouncycastle.", "com.microsoft.", "com.netflix.", "com.alibaba.", "com.typesafe.",
    "com.datastax.", "com.rabbitmq.", "com.twitter.", "com.linecorp.armeria.", "com.nimbusds.",
    "com.auth0.", "com.jayway.", "com.thoughtworks.", "com.esotericsoftware.", "com.hazelcast.",
    "com.couchbase.", "com.stripe.", "com.twilio.", "io.jsonwebtoken.", "io.swagger.",
    "io.springfox.", "io.prometheus.", "io.sentry.", "io.temporal.", "io.kubernetes.",
    "io.fabric8.", "io.confluent.", "io.smallrye.", "io.helidon.", "io.javalin.", "io.mockk.",
    "io.kotest.", "io.rsocket.", "graphql.", "lombok.", "brave.", "zipkin2.", "freemarker.",
    "ognl.", "javassist.", "net.sf.", "org.jvnet.", "org.apache.", "com.ibm.", "$Proxy",
    "org.graalvm.", "com.intellij.", "net.minidev.", "org.skyscreamer.", "org.openqa.",
)  # fmt: skip
_PATH_LIBRARY = (
    "/site-packages/", "/dist-packages/", "/usr/lib/python", "/usr/local/lib/python",
    "<frozen ", "/lib/python3", "/lib/python2", "node_modules/", "node:", "internal/",
    "/pkg/mod/", "/usr/local/go/src/", "/usr/lib/go", "/vendor/", "vendor/", "<string>",
    "<anonymous>", "third_party/", "/runtimes/", "python27_lib/", "<attrs generated",
    "webpack-runtime", "webpack/bootstrap", "/usr/share/", "/opt/homebrew/", "/.pyenv/",
    "/Lib/", "/Python2", "/Python3",
)  # fmt: skip
_GO_LIBRARY_MODULES = (
    "google.golang.org/", "golang.org/x/", "github.com/jackc/", "github.com/lib/pq",
    "github.com/go-chi/", "github.com/gin-gonic/", "github.com/labstack/",
    "go.opentelemetry.io/", "go.uber.org/", "cloud.google.com/go/", "github.com/gorilla/",
    "github.com/redis/", "github.com/go-redis/", "github.com/sirupsen/", "github.com/rs/zerolog",
    "github.com/pkg/errors", "github.com/valyala/", "github.com/gofiber/", "github.com/aws/",
    "github.com/Shopify/sarama", "github.com/IBM/sarama", "github.com/segmentio/",
    "github.com/nats-io/", "github.com/grpc-ecosystem/", "github.com/spf13/", "gorm.io/",
    "github.com/go-sql-driver/", "go.mongodb.org/", "github.com/stretchr/", "k8s.io/",
    "sigs.k8s.io/", "github.com/prometheus/", "github.com/hashicorp/", "github.com/urfave/",
    "appengine_internal", "appengine",
)  # fmt: skip
# Top-level packages of the Go standard library (a package path without a dot is not always
# the standard library: App Engine apps and GOPATH-era code use bare names).
_GO_STDLIB_NAMES = (
    "archive bufio builtin bytes cmp compress container context crypto database debug embed "
    "encoding errors expvar flag fmt go hash html image index internal io iter log maps "
    "math mime net os path plugin reflect regexp runtime slices sort strconv strings sync "
    "syscall testing text time unicode unique unsafe weak vendor panic"  # panic: the builtin
)
_GO_STDLIB = frozenset(_GO_STDLIB_NAMES.split(" "))


class InAppConfig(NamedTuple):
    """The service's rules (exclude > include) over the runtime's defaults."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


DEFAULT_IN_APP = InAppConfig()


def config_of(rules: InAppRules | None) -> InAppConfig:
    if not rules:
        return DEFAULT_IN_APP
    return InAppConfig(rules.include, rules.exclude)


# ---------------------------------------------------------------- helpers

_HEXHASH_SEG = re.compile(r"(?<=[.\-_])[0-9a-f]{6,}(?=[.\-_])")
# A path segment that names a version or a deploy, not code: "1.378705245900539993",
# "20240501t101500.4581", "v2", "2.4.1", "webapp2-2.5.2", "partner_sdk-2.4.1-py3.11.egg".
_VERSION_SEG = re.compile(
    r"^(?:v?\d[\w.]*|\d{8}t\d{6}(?:\.\d+)?|[\w.]+-\d+(?:\.\d+)+(?:[-.][\w.]+)?(?:\.egg)?)$"
)
_BUNDLE_NAME = re.compile(r"(?<=[.\-_])(?=[\w]*\d)[A-Za-z0-9_]{6,}(?=\.)|^\d+(?=\.)")


def _short_path(path: str) -> str:
    """A stable short name for a source path: after site-packages/node_modules, else the last
    two segments that are not versions or deploy directories. Build hashes are masked."""
    if path.startswith("file://"):
        path = path[7:]
    for marker in ("/site-packages/", "/dist-packages/", "node_modules/"):
        i = path.rfind(marker)
        if i >= 0:
            rest = path[i + len(marker) :]
            if rest.endswith(".egg") or ".egg/" in rest:  # "name-1.2.3-py3.11.egg/name/x.py"
                rest = rest.split(".egg/", 1)[-1]
            return _HEXHASH_SEG.sub("*", rest)
    if "/" not in path:
        return _HEXHASH_SEG.sub("*", path)
    parts = [p for p in path.split("/") if p and not _VERSION_SEG.match(p)]
    if not parts:
        return path
    return _HEXHASH_SEG.sub("*", "/".join(parts[-2:]))


def _alternation(items: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(i) for i in sorted(items, key=len, reverse=True)))


_PATTERN_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _rx(items: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled alternation per prefix/marker list: one C call per frame, not a loop."""
    rx = _PATTERN_CACHE.get(items)
    if rx is None:
        rx = _PATTERN_CACHE[items] = _alternation(items) if items else re.compile(r"(?!)")
    return rx


def _rules(module: str, path: str, cfg: InAppConfig) -> tuple[bool, str] | None:
    """The service's own rules: exclude first, then include; None when neither matches."""
    for items, verdict, word in ((cfg.exclude, False, "exclude"), (cfg.include, True, "include")):
        if items:
            rx = _rx(items)
            m = rx.match(module) or (rx.search(path) if path else None)
            if m is not None:
                return (
                    verdict,
                    f"{'in-app' if verdict else 'library'}: service {word} {m.group()!r}",
                )
    return None


def _classify_path(path: str, cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include or cfg.exclude:
        r = _rules(path, path, cfg)
        if r is not None:
            return r
    m = _rx(_PATH_LIBRARY).search(path)
    if m is not None:
        return False, _why_path(m.group())
    return True, "in-app: application path"


def _classify_prefix(module: str, prefixes: tuple[str, ...], cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include or cfg.exclude:
        r = _rules(module, "", cfg)
        if r is not None:
            return r
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
_FRAME_CACHES: dict[InAppConfig, dict[str, Frame]] = {}
_FRAME_CACHE_MAX = 65536
_FRAME_KEY_MAX = 1024  # characters; with the entry cap, bounds the cache's memory


def _cache_for(cfg: InAppConfig) -> dict[str, Frame]:
    cache = _FRAME_CACHES.get(cfg)
    if cache is None:
        if len(_FRAME_CACHES) >= 256:  # services with their own rules are few
            _FRAME_CACHES.clear()
        cache = _FRAME_CACHES[cfg] = {}
    return cache


def _remember(cache: dict[str, Frame], key: str, frame: Frame) -> Frame:
    if len(key) > _FRAME_KEY_MAX:  # a freak line: not worth the memory
        return frame
    if len(cache) >= _FRAME_CACHE_MAX:
        cache.clear()
    cache[key] = frame
    return frame


def _cap(frames: list[Frame]) -> tuple[Frame, ...]:
    return tuple(frames) if len(frames) <= MAX_FRAMES else tuple(frames[:MAX_FRAMES])


# ---------------------------------------------------------------- Python

_DIGITS = re.compile(r"\d+|[0-9a-f]{8,}")
# The bars of an exception group's sub-tracebacks: "    | ", "  +-+---- 1 ----", "  | ".
_GROUP_BARS = re.compile(r"^\s*(?:\| )+")
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
    lines = text.splitlines()
    groups = "Exception Group Traceback" in text
    if groups:  # 3.11 groups: sub-tracebacks behind "| " bars
        lines = [_GROUP_BARS.sub("", ln, count=1) for ln in lines]
    separators = "+-" in text  # no line can start with what the text does not hold
    for line in lines:
        if line.startswith(("Traceback (most recent call last)", "  Traceback (most recent")):
            in_tb, frames, last = True, [], -1
            continue
        if groups and line.lstrip(" +").startswith(
            "Exception Group Traceback (most recent call last)"
        ):
            in_tb, frames, last = True, [], -1
            continue
        if separators and line.lstrip().startswith("+-"):  # an exception group's separator
            continue
        if not in_tb:
            continue
        fr = cache.get(line) if line.startswith("  File ") else None
        if fr is None and 'File "' in line:  # source lines and the exception skip the regex
            m = _PY_FRAME.match(line)
            if m is not None:
                path, lineno, func = m.group(1), m.group(2), m.group(3) or "?"
                if "\\" in path:  # a Windows path: C:\\Python311\\Lib\\site-packages\\...
                    path = path.replace("\\", "/")
                in_app, why = _classify_path(path, cfg)
                short = _short_path(path)
                func = func.strip()
                if func.startswith("<") or path.startswith("<"):  # generated: no stable numbers
                    func = _DIGITS.sub("*", func)
                    short = _DIGITS.sub("*", short)
                fr = Frame(short, func, short, int(lineno), in_app, why, path=path)
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
    r"^\s*(?:Fatal Exception: )?(Caused by:? |Suppressed: |Wrapped by: )?(?:\[CIRCULAR REFERENCE: )?"
    r"([a-zA-Z_$][\w$]*(?:\.[\w$]+)+|[A-Z][\w$]*(?:Exception|Error|Throwable))(?::\s?(.*))?$"
)
# Generated parts of JVM class names: proxies and enhancers (Hibernate/ByteBuddy, javassist,
# CGLIB, JDK dynamic proxies, reflection accessors), JDK lambda classes, Kotlin/javac
# anonymous and lambda classes, continuation classes.
_JVM_SYNTH = re.compile(
    r"\$\$(?:Lambda|EnhancerBy\w+|FastClassBy\w+|SpringCGLIB|MockitoMock)(?:\$\$?[\w]+)?(?:/0x[0-9a-f]+)?"
    r"|\$(?:HibernateProxy|ByteBuddy|MockitoMock)\$\w+|_\$\$_jvst[0-9a-f]+_[0-9a-f]+"
    r"|\$\$inlined\$\w+?(?=\$|$)|\$lambda[-$]?\d*|\$\d+(?=\$|$)|GeneratedMethodAccessor\d+"
    r"|GeneratedConstructorAccessor\d+|\$Proxy\d+|(?<=\bjdk\.proxy)\d+"
)
# Generated parts of JVM method names: Kotlin `$suspendImpl`/`$default`/`$lambda$0`, javac's
# `lambda$outer$3` numbering, `access$000` bridges.
_TRAILING_NUMBER = re.compile(r"\$\d+$")  # Scala's $anonfun$run$1, Kotlin's $1
_JVM_METHOD_SYNTH = re.compile(r"\$(?:suspendImpl|default|lambda-?\$?\d*)$")


def _jvm_class(cls: str) -> str:
    if "$" in cls or "Generated" in cls or "proxy" in cls:
        cls = _JVM_SYNTH.sub("", cls)
        while cls.endswith("$"):
            cls = cls[:-1]
    return cls


def _jvm_method(meth: str) -> str:
    if "$" not in meth:
        return meth
    if meth.startswith("lambda$"):
        body = meth[7:]
        return "lambda$" + re.sub(r"\$\d+$", "", body)
    if meth.startswith("access$"):
        return "access$"
    return _JVM_METHOD_SYNTH.sub("", _TRAILING_NUMBER.sub("", meth))


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
                in_app, why = _classify_prefix(cls, _JVM_LIBRARY, cfg)
                lineno = int(ln) if ln.isdigit() else None
                if "$" in fname or "_jvst" in fname:
                    fname = _jvm_class(fname.removesuffix(".java")) + ".java"
                fr = _remember(cache, s, Frame(cls, _jvm_method(meth), fname, lineno, in_app, why))
            cur.append(fr)
            continue
        if s.startswith("...") or not s:
            continue
        if line.startswith('Exception in thread "'):  # the JVM's default uncaught handler
            q = line.find('" ', 20)
            if q > 0:
                line = line[q + 2 :]
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
    out: list[ExceptionInfo] = []
    framed = False
    for i, (kind, t, v, frs) in enumerate(excs):
        if frs or kind == "Caused by" or i == 0:
            framed = framed or bool(frs)
            out.append(ExceptionInfo(t, v, _cap(frs)))
    if not framed:
        return None
    return Stacktrace("jvm", tuple(out))


# ---------------------------------------------------------------- Node.js

_NODE_FRAME = re.compile(r"^\s*at (?:(async) )?(?:(.*?) \((.*)\)|(.*))$")
_NODE_LOC = re.compile(r"^(.*?)(?::(\d+))?(?::(\d+))?$")
_NODE_HEAD = re.compile(
    r"^(?:\[cause\]: |Caused by: |cause: )?(?:<ref \*\d+> )?([A-Za-z_$][\w$.]*)(?:\s*\[[^\]]*\])?: ?(.*)$"
)
# "(node:17) UnhandledPromiseRejectionWarning: Error: ..." (Node < 15)
_NODE_WARNING = re.compile(r"^\(node:\d+\) \w+Warning: ")
# The crash preamble: "node:internal/process/promises:288" or "/app/x.js:42", the source
# line, then a caret line; printed before the error itself.
_NODE_PREAMBLE = re.compile(r"^\S+:\d+$")  # confirmed by the caret line below it
# Minified output by its path: Next.js server output, webpack chunks, *.min.js, bundle.js.
# Plain dist/ or build/ output (tsc, babel) is minified only when the position says so.
_BUNDLE_PATH = re.compile(r"/\.next/|/chunks/|\.min\.js|\bbundle\.js|\bchunk-")
# Helpers that tsc and babel emit into every compiled file (async functions, generators).
_COMPILER_HELPERS = frozenset(
    ("fulfilled", "rejected", "step", "__awaiter", "__generator", "verb", "adopt",
     "_asyncToGenerator", "asyncGeneratorStep", "_next", "_throw", "tryCatch", "invoke")
)  # fmt: skip
_MANGLED = re.compile(r"^[A-Za-z_$][\w$]?$")
_MANGLED_RECEIVER = re.compile(r"^(?:async )?[A-Za-z_$][\w$]?\.")


def _bundled(path: str, line: str | None, col: str | None) -> bool:
    """Minified output: a bundle path, or code on the first lines at a far column."""
    if _BUNDLE_PATH.search(path) is not None:
        return True
    if line is None:
        return False
    return line == "1" or (col is not None and int(line) <= 3 and int(col) > 500)


def _unmangle(func: str) -> str:
    """`Rn.handleRequestError` -> `handleRequestError`; `t` -> ``: names a minifier made
    change with every build, the names it kept (methods, exports) do not."""
    kept = [p for p in func.split(".") if not _MANGLED.match(p)]
    return ".".join(kept)


def _node_frame(s: str, cfg: InAppConfig) -> Frame | None:
    if s.endswith(" {"):  # the error's properties block follows the last frame
        s = s[:-2]
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
    col = lm.group(3) if lm else None
    if path.startswith("index ") and not ln:  # "at async Promise.all (index 0)"
        return Frame("<builtin>", func, "", None, False, "library: a builtin", path=path)
    if "\\" in path:  # a Windows path
        path = path.replace("\\", "/")
    if path.startswith("file:///"):
        path = _unquote(path[7:])
    in_app, why = _classify_path(path, cfg)
    if in_app and "/" not in path and path.endswith(".js"):  # Node < 16 core: "net.js"
        in_app, why = False, "library: Node.js core module"
    short = _short_path(path)
    if func.startswith("__webpack_"):
        in_app, why = False, "library: bundler runtime"
    elif func in _COMPILER_HELPERS:
        in_app, why = False, "library: a helper tsc or babel generated"
    if in_app and "." in func and _MANGLED_RECEIVER.match(func) is not None:
        func = _unmangle(func) or func  # "Rn.handle": a receiver only a minifier names so
    if in_app and _bundled(path, ln, col):
        func = _unmangle(func)
        short = _BUNDLE_NAME.sub("*", short)
        why = "in-app: minified bundle (mangled names dropped)"
        if not func:  # nothing survives a rebuild: not a frame to hash
            return Frame(short, "", short, None, False, "minified: no name", path=path)
    if not func:
        func = "<anonymous>"
    return Frame(short, func, short, int(ln) if ln else None, in_app, why, path=path)


def _skip_preamble(lines: list[str]) -> int:
    """Index of the first line after Node's crash preamble (0 when there is none)."""
    if not lines or _NODE_PREAMBLE.match(lines[0].strip()) is None:
        return 0
    for i in range(1, min(len(lines), 6)):
        if lines[i].strip() == "^" or (lines[i].strip() and not lines[i].strip("^ ")):
            return i + 1
    return 0


def _parse_node(text: str, cfg: InAppConfig) -> Stacktrace | None:
    cache = _cache_for(cfg)
    excs: list[tuple[str, str, list[Frame]]] = []
    cur: list[Frame] | None = None
    lines = text.splitlines()
    depth = 0  # inside an error's properties block
    for line in lines[_skip_preamble(lines) :]:
        s = line.strip()
        if s.startswith("at "):
            key = "node\x00" + s
            fr = cache.get(key)
            if fr is None:
                fr = _node_frame(s, cfg)
                if fr is None:
                    continue
                _remember(cache, key, fr)
            if s.endswith(" {"):
                depth += 1
            if cur is None:
                cur = []
                excs.append(("Error", "", cur))
            if fr.function:
                cur.append(fr)
            continue
        if not s or s.startswith("..."):
            continue
        if s.startswith("}"):
            depth = max(0, depth - 1)
            continue
        if _NODE_WARNING.match(s):
            s = _NODE_WARNING.sub("", s)
        h = _NODE_HEAD.match(s)
        if h is not None and (
            not excs
            or s.startswith(("[cause]", "Caused by"))
            or (depth and s.startswith("cause: "))
        ):
            cur = []
            excs.append((h.group(1), h.group(2).strip().removesuffix(" {"), cur))
            if s.endswith(" {"):
                depth += 1
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
    # Only the first goroutine is read, but a full dump (GOTRACEBACK=all, a deadlock) holds
    # hundreds, and splitting them all was most of the time. So a long text is split up to the
    # next header line ("goroutine N [...]:") first: the lines before it are the same lines in
    # the same state, and if that state stops the loop at the header (it has seen a header and
    # frames), the whole text gives the same result. Otherwise the whole text is read.
    typ, value = "", ""
    frames: list[Frame] = []
    stopped = False
    if len(text) > _GO_LONG:
        first = text.find("goroutine ")
        cut = text.find("\ngoroutine ", first + 10) if first >= 0 else -1
        if cut >= 0:
            end = text.find("\n", cut + 1)
            head = (text[cut + 1 :] if end < 0 else text[cut + 1 : end]).splitlines()[0]
            if head.rstrip().endswith(":"):  # the loop stops at this line, given frames
                typ, value, frames, stopped = _go_lines(text[: cut + 1].splitlines(), cfg)
    if not stopped:
        typ, value, frames, _ = _go_lines(text.splitlines(), cfg)
    if not frames:
        return None
    return Stacktrace("go", (ExceptionInfo(typ or "", value, _cap(frames)),))


_GO_LONG = 1024  # characters: shorter texts are split whole at once


def _go_lines(lines: list[str], cfg: InAppConfig) -> tuple[str, str, list[Frame], bool]:
    """(type, value, frames of the first goroutine, whether the next goroutine header would
    end the loop: stopped at one, or at the end with a header seen and frames read)."""
    cache = _cache_for(cfg)
    typ, value = "", ""
    frames: list[Frame] = []
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
                return typ, value, frames, True  # only the first goroutine (that failed) matters
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
    return typ, value, frames, seen_goroutine and bool(frames)


_GOROOTS = ("go/src/", "/usr/local/go/src/", "/usr/lib/go/src/", "/usr/lib/golang/src/",
            "/usr/local/opt/go/", "/opt/homebrew/opt/go/", "/usr/local/Cellar/go/")  # fmt: skip


def _go_classify(pkg: str, path: str, cfg: InAppConfig) -> tuple[bool, str]:
    if cfg.include or cfg.exclude:
        r = _rules(pkg, path, cfg)
        if r is not None:
            return r
    slash = pkg.find("/")
    first = pkg if slash < 0 else pkg[:slash]
    if first in _GO_STDLIB and "." not in first:
        return False, "library: Go standard library"
    if "/pkg/mod/" in path or "/vendor/" in pkg + "/" or "vendor/" in path:
        return False, "library: Go module cache or vendor directory"
    if "/third_party/" in pkg + "/" or "third_party/" in path:
        return False, "library: third_party directory"
    if path.startswith(_GOROOTS) or any(r in path for r in _GOROOTS[1:]):
        return False, "library: Go runtime source (GOROOT)"
    m = _rx(_GO_LIBRARY_MODULES).match(pkg)
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
