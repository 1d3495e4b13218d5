"""The acceptance harness: the real `triage-bot serve` in a subprocess, driven as a user would.

A `BotProcess` runs the installed command with its settings in the environment: SLACK_API_URL
at the Slack stand-in (which records every Web API call and sends the bot SIGNED slash commands
and clicks), REDIS_URL with a prefix of its own on the shared Redis, PUBSUB_EMULATOR_HOST at
the Pub/Sub stand-in or Google's emulator, TRIAGE_CONFIG at a YAML file in a temporary
directory. Tests publish LogEntry JSON with the real google-cloud-pubsub client and assert on
what Slack received: which channel, which message, when.

Every wait has a deadline; a wait that fails raises AssertionError with the bot's own output
(stdout: its structured logs; stderr) and the Slack calls it made, so a red test says why.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage_sandbox.service import free_port
from triage_sandbox.slack_standin import SlackStandIn

from tests.pubsub_fixtures import PubSubBackend

Message = dict[str, Any]
_ids = itertools.count(1)


# ---- LogEntry JSON, as a Cloud Logging sink publishes it ------------------------------------


_RESOURCE_SERVICE_LABEL = {
    "cloud_run_revision": "service_name",
    "cloud_function": "function_name",
    "cloud_run_job": "job_name",
    "k8s_container": "container_name",
}


def log_entry(
    service: str = "checkout",
    message: str = "payment provider refused the charge",
    *,
    severity: str = "ERROR",
    resource_type: str = "cloud_run_revision",
    log_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    insert_id: str | None = None,
    timestamp: float | None = None,
    revision: str | None = None,
    project: str = "acceptance-prod",
) -> dict[str, Any]:
    """One error LogEntry (camelCase JSON) with a jsonPayload message. The message is the
    grouping key when there is no stack: the same service + message recur as one group."""
    rlabels: dict[str, str] = {"project_id": project}
    rlabels[_RESOURCE_SERVICE_LABEL.get(resource_type, "service_name")] = service
    if resource_type == "cloud_run_revision":
        rlabels["revision_name"] = revision or f"{service}-00001-abc"
    if resource_type == "k8s_container":
        rlabels.update(namespace_name="default", pod_name=f"{service}-5d8f7c9b6d-x7k2p")
    ts = time.time() if timestamp is None else timestamp
    entry: dict[str, Any] = {
        "insertId": insert_id or f"acc-{uuid.uuid4().hex[:16]}",
        "timestamp": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "receiveTimestamp": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "severity": severity,
        "logName": log_name or f"projects/{project}/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": resource_type, "labels": rlabels},
        "jsonPayload": {"message": message},
    }
    if labels:
        entry["labels"] = dict(labels)
    return entry


# ---- reading what Slack shows ---------------------------------------------------------------


def message_text(message: Message) -> str:
    """Everything a person reads in a message: its text and every text of its blocks."""
    parts = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


def count_of(message: Message) -> int | None:
    """The Count field of an alert message."""
    for block in message.get("blocks") or []:
        for f in block.get("fields") or []:
            text = f.get("text", "")
            if text.startswith("*Count*"):
                return int(text.split("\n", 1)[1].replace(",", "").strip())
    return None


def group_id_of(message: Message) -> str | None:
    """The group id an alert message's buttons carry (their value is a small JSON)."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            value = element.get("value")
            if isinstance(value, str) and value.startswith("{"):
                gid = json.loads(value).get("g")
                if gid:
                    return str(gid)
    return None


def is_reply(message: Message) -> bool:
    return message.get("thread_ts") not in (None, message.get("ts"))


# ---- the bot --------------------------------------------------------------------------------


def _command() -> list[str]:
    """The installed `triage-bot` beside this interpreter (the venv's), else `-m bot.cli`."""
    exe = Path(sys.executable).parent / "triage-bot"
    if exe.exists():
        return [str(exe), "serve"]
    found = shutil.which("triage-bot")
    return [found, "serve"] if found else [sys.executable, "-m", "bot.cli", "serve"]


class BotProcess:
    """`triage-bot serve` against the stand-ins, with a config file of its own."""

    def __init__(
        self,
        slack: SlackStandIn,
        backend: PubSubBackend,
        redis_url: str,
        workdir: Path,
        *,
        config: str | None,
        env: Mapping[str, str] | None = None,
        default_channel: str = "C0ALERTS",
        replica_of: BotProcess | None = None,
    ) -> None:
        """`replica_of`: another replica of that bot (its Redis prefix, its subscription)."""
        self.slack = slack
        self.backend = backend
        self.redis_url = redis_url
        self.workdir = workdir
        self.port = free_port()
        self.default_channel = default_channel
        self.config_path = workdir / "triage.yml"
        if config is not None:
            self.config_path.write_text(config)
        if replica_of is not None:
            self.prefix = replica_of.prefix
            self.topic, self.subscription = replica_of.topic, replica_of.subscription
        else:
            self.prefix = f"acc{uuid.uuid4().hex[:10]}"
            n = next(_ids)
            self.topic, self.subscription = backend.create_topic_and_subscription(
                backend.unique_name(f"acc-logs-{n}"), backend.unique_name(f"acc-bot-{n}")
            )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": self.prefix,
            "PUBSUB_EMULATOR_HOST": backend.host,
            "PUBSUB_SUBSCRIPTION": self.subscription,
            "DEFAULT_CHANNEL": default_channel,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PULLERS": "1",
            "LOG_LEVEL": "INFO",
            # Without a routing config these are the timings; with one, its defaults: win.
            "UPDATE_INTERVAL_S": "1",
            "GROUP_WAIT_S": "0",
        }
        if config is not None:
            self.env["TRIAGE_CONFIG"] = str(self.config_path)
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.healthy = False  # /healthz answered 200
        self.terminated = False  # SIGTERM sent while it ran healthy: it must then exit 0
        self._out = workdir / "bot.stdout"
        self._err = workdir / "bot.stderr"

    # ---- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    def start(self, timeout: float = 60.0) -> BotProcess:
        """Start the process and wait until /healthz answers 200 and the first Pull has
        returned (so the puller is live)."""
        deadline = time.monotonic() + timeout
        for _ in range(3):  # a free port taken by another process meanwhile: take another
            self.slack.bot_url = self.events_url
            with self._out.open("wb") as out, self._err.open("wb") as err:
                self.proc = subprocess.Popen(
                    _command(), env=self.env, stdout=out, stderr=err, cwd=self.workdir
                )
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    status, _ = self.get("/healthz")
                    if status == 200 and self.proc.poll() is None:
                        self.healthy = True
                        return self
                except (OSError, http.client.HTTPException):  # not up yet, or not the bot
                    pass
                time.sleep(0.05)
            else:
                raise AssertionError(
                    f"triage-bot serve not healthy after {timeout:.0f} s" + self.output()
                )
            if "Address already in use" not in self._err.read_text(errors="replace"):
                break
            self.port = free_port()
            self.env["PORT"] = str(self.port)
        raise AssertionError(f"triage-bot serve exited with {self.proc.returncode}" + self.output())

    def run_to_exit(self, timeout: float = 60.0) -> tuple[int, str]:
        """Start the process expecting it to refuse to start: (exit code, stderr)."""
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.proc = subprocess.Popen(
                _command(), env=self.env, stdout=out, stderr=err, cwd=self.workdir
            )
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"triage-bot serve still running after {timeout:.0f} s" + self.output()
            ) from None
        return code, self._err.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM: the bot finishes in-flight batches and exits; `wait_stopped` collects it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.terminated = self.healthy

    def wait_stopped(self, timeout: float = 30.0) -> int:
        """The exit code after `terminate`; a process that does not stop is killed (and the
        returned code is the kill's)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def sighup(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def rewrite_config(self, text: str) -> None:
        """Replace the config file as an editor or a ConfigMap update does (new inode, so the
        watcher sees a change even within the file system's mtime granularity)."""
        tmp = self.config_path.with_suffix(".new")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)

    def rewrite_config_unnoticed(self, text: str) -> None:
        """Rewrite the config in place keeping its inode, size and mtime, so the file watcher
        cannot see the change and only SIGHUP reloads it. `text` must not be longer than the
        file (config_yaml pads its output for this)."""
        st = os.stat(self.config_path)
        data = text.encode()
        if len(data) > st.st_size:
            raise ValueError(f"new config is {len(data)} bytes, longer than the old {st.st_size}")
        pad = st.st_size - len(data)
        data += b"\n" if pad == 1 else (b"\n#" + b"-" * (pad - 2) if pad else b"")
        with self.config_path.open("r+b") as f:
            f.write(data)
            f.truncate()
        os.utime(self.config_path, ns=(st.st_atime_ns, st.st_mtime_ns))

    def wait_for_log(self, text: str, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        """The first structured log line (from line `after` on) whose message contains `text`."""

        def found() -> dict[str, Any] | None:
            return next((r for r in self.logs()[after:] if text in str(r.get("message", ""))), None)

        return self._wait(found, timeout, f"a log line with {text!r}")

    # ---- input ----------------------------------------------------------------------------

    def publish(self, entries: Iterable[Mapping[str, Any] | bytes]) -> list[str]:
        """Publish LogEntry dicts (as JSON) or raw bytes to the bot's topic, synchronously."""
        payloads = [e if isinstance(e, bytes) else json.dumps(e).encode() for e in entries]
        return self.backend.publish(self.topic, payloads)

    def slash(
        self, text: str, *, user: str = "U1", channel: str | None = None, timeout: float = 10.0
    ) -> str:
        """Type `/triage TEXT` (a leading "/triage " is optional) and return what the bot
        answered (the response_url post: ephemeral or in channel), as the text a person reads."""
        text = text.removeprefix("/triage").strip()
        before = len(self.slack.responses)
        status, _ = self.slack.send_slash_command(
            self.events_url, "/triage", text, user, channel or self.default_channel
        )
        assert status == 200, f"/triage {text}: HTTP {status}" + self.output()

        def answered() -> Any:
            return next((r for r in self.slack.responses[before:] if r.source == "command"), None)

        response = self._wait(answered, timeout, f"an answer to /triage {text}")
        return message_text(response.payload)

    def click(self, action_id: str, message: Message, *, user: str = "U1") -> None:
        """Click the button `action_id` of a message the bot posted (a signed block_actions)."""
        status, body = self.slack.click_button(
            self.events_url, message["channel"], message["ts"], action_id, user_id=user
        )
        assert status == 200, f"click {action_id}: HTTP {status} {body}" + self.output()

    def select(self, action_id: str, message: Message, choice: str, *, user: str = "U1") -> None:
        """Pick an option of a select of a message the bot posted, by its value or by the
        choice its JSON value names (the Snooze menu: "1h", "8h", "24h", "n10", "n100")."""
        value = choice
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") != action_id:
                    continue
                for option in element.get("options") or []:
                    v = option.get("value", "")
                    if v == choice or (v.startswith("{") and json.loads(v).get("s") == choice):
                        value = v
        status, body = self.slack.select_option(
            self.events_url, message["channel"], message["ts"], action_id, value, user_id=user
        )
        assert status == 200, f"select {action_id}={value}: HTTP {status} {body}" + self.output()

    def select_user(
        self, action_id: str, message: Message, chosen: str, *, user: str = "U1"
    ) -> None:
        status, body = self.slack.select_user(
            self.events_url, message["channel"], message["ts"], action_id, chosen, user_id=user
        )
        assert status == 200, f"select user {action_id}: HTTP {status} {body}" + self.output()

    # ---- what Slack shows -------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages in `channel` as they are now, each with "channel" and "replies"."""
        return [{**m, "channel": channel} for m in self.slack.messages(channel)]

    def wait_for_post(
        self,
        channel: str,
        predicate: Callable[[Message], bool] = lambda m: True,
        timeout: float = 10.0,
        what: str = "",
    ) -> Message:
        """The first top-level message of `channel` (as it is now) satisfying `predicate`."""

        def found() -> Message | None:
            return next((m for m in self.messages(channel) if predicate(m)), None)

        return self._wait(found, timeout, what or f"a matching message in {channel}")

    def wait_for_reply(
        self,
        channel: str,
        predicate: Callable[[Message], bool] = lambda m: True,
        timeout: float = 10.0,
        what: str = "",
    ) -> Message:
        """The first thread reply in `channel` satisfying `predicate`."""

        def found() -> Message | None:
            for m in self.messages(channel):
                for r in m["replies"]:
                    if predicate(r):
                        return {**r, "channel": channel}
            return None

        return self._wait(found, timeout, what or f"a matching thread reply in {channel}")

    def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        return self._wait(predicate, timeout, what or "the condition")

    def posts_in(self, channel: str) -> list[Message]:
        """chat.postMessage calls that landed in `channel` (top-level and replies), in order."""
        return [
            c.args
            for c in self.slack.calls_for("chat.postMessage")
            if c.ok and isinstance(c.response, dict) and c.response.get("channel") == channel
        ]

    def quiet(self, channel: str, seconds: float, baseline: int | None = None) -> None:
        """Assert nothing new is posted in `channel` for `seconds` (a negative check has to
        wait: keep `seconds` a few notifier passes, not more)."""
        n = len(self.posts_in(channel)) if baseline is None else baseline
        time.sleep(seconds)
        new = self.posts_in(channel)[n:]
        assert not new, f"unexpected posts in {channel}: {new}" + self.output()

    # ---- the bot's own surfaces ---------------------------------------------------------------

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metrics(self) -> dict[str, float]:
        status, body = self.get("/metrics")
        assert status == 200, body
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def logs(self) -> list[dict[str, Any]]:
        """The bot's structured log lines (JSON on stdout)."""
        out = []
        for line in self._out.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def output(self, tail: int = 60) -> str:
        """The bot's stdout and stderr (last lines) and its Slack calls, for failure messages."""

        def last(path: Path) -> str:
            if not path.exists():
                return ""
            return "\n".join(
                _compact(line) for line in path.read_text(errors="replace").splitlines()[-tail:]
            )

        calls = [
            f"  {c.method} {c.status} {c.error or 'ok'} "
            f"{ {k: c.args.get(k) for k in ('channel', 'ts', 'thread_ts') if c.args.get(k)} }"
            for c in self.slack.calls[-30:]
        ]
        return (
            f"\n--- bot stdout (last {tail} lines) ---\n{last(self._out)}"
            f"\n--- bot stderr ---\n{last(self._err)}"
            "\n--- last Slack calls ---\n" + "\n".join(calls)
        )

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"triage-bot exited ({self.proc.returncode}) while waiting for {what}"
                    + self.output()
                )
            if time.monotonic() >= deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s" + self.output())
            time.sleep(0.05)


def _compact(line: str) -> str:
    """A structured (Cloud Logging JSON) log line as `SEVERITY logger: message`."""
    try:
        rec = json.loads(line)
    except ValueError:
        return line
    if not isinstance(rec, dict) or "message" not in rec:
        return ""
    logger = (rec.get("logging.googleapis.com/labels") or {}).get("python_logger", "")
    return f"{rec.get('severity', '')} {logger}: {rec['message']}"


def config_yaml(
    routes: str = "",
    *,
    defaults: Mapping[str, str] | None = None,
    teams: Sequence[tuple[str, str, str]] = (),
    default_team: str = "sre",
    extra: str = "",
) -> str:
    """A routing config: `teams` as (name, channel, oncall) beside the standard ones, the
    `routes:` section as YAML text, small timings unless `defaults` overrides them."""
    timings = {
        "update_interval": "1s",
        "group_wait": "0s",
        "escalate_after": "1h",
        "repeat_interval": "4h",
        "digest_threshold": "50",
        **(defaults or {}),
    }
    all_teams = [*STANDARD_TEAMS, *teams]
    lines = ["defaults:"] + [f"  {k}: {v}" for k, v in timings.items()]
    lines.append("teams:")
    for name, channel, oncall in all_teams:
        lines += [f"  - name: {name}", f"    channel: {channel}"]
        if oncall:
            lines.append(f'    oncall: "{oncall}"')
    lines.append("routes:" if routes.strip() else "routes: []")
    if routes.strip():
        lines += ["  " + line if line.strip() else line for line in routes.strip("\n").splitlines()]
    lines += ["default_route:", f"  team: {default_team}"]
    # A trailing comment leaves room for rewrite_config_unnoticed's same-size rewrites.
    return "\n".join(lines) + "\n" + extra + "\n# " + "-" * 400 + "\n"


# Channels of the stand-in workspace the tests route to (the bot is a member of all but
# C0NOTIN); each team's channel is its own, so where a message lands says who it routed to.
CHANNELS = {
    "C0ALERTS": "alerts",
    "C0PAYMT": "payments-alerts",
    "C0SEARCH": "search-alerts",
    "C0DATA": "data-alerts",
    "C0SRE": "sre-alerts",
    "C0OTHER": "other-alerts",
}
STANDARD_TEAMS = (
    ("sre", "C0SRE", ""),
    ("payments", "C0PAYMT", ""),
    ("search", "C0SEARCH", ""),
    ("data", "C0DATA", ""),
)
