"""Custom fingerprint rules (Sentry-style): match an event, then fix its grouping and/or title.

A rule is a mapping, e.g. in the YAML config::

    fingerprint_rules:
      - service: "payments-*"            # glob on the service
        type: "*TimeoutException"        # glob on the (root cause) exception type
        message: "deadline exceeded"     # regex searched in the message
        frame: "com.example.db.*"        # glob on any frame's "module.function" or function
        fingerprint: ["db-timeouts", "{{ service }}"]
        title: "Database timeouts in {{ service }}"

Every matcher given must match (AND); the first matching rule wins. `fingerprint` values
may use {{ default }} (the default grouping's components), {{ service }}, {{ type }},
{{ function }}, {{ module }} and {{ message }} (the message template).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

VARIABLES = ("default", "service", "type", "function", "module", "message")
_VAR = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class RuleError(ValueError):
    """A fingerprint rule list did not validate; the message names the rule and the fix."""


def _check_vars(value: str, field: str) -> None:
    for name in _VAR.findall(value):
        if name not in VARIABLES:
            raise ValueError(
                f"{field}: unknown variable {{{{ {name} }}}}; use one of "
                + ", ".join(f"{{{{ {v} }}}}" for v in VARIABLES)
            )


class FingerprintRule(BaseModel):
    """One rule. Matchers: service, type, message, frame. Actions: fingerprint, title."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str | None = None
    type: str | None = None
    message: str | None = None
    frame: str | None = None
    fingerprint: list[str] | None = None
    title: str | None = None

    _service_re: re.Pattern[str] | None = PrivateAttr(default=None)
    _type_re: re.Pattern[str] | None = PrivateAttr(default=None)
    _message_re: re.Pattern[str] | None = PrivateAttr(default=None)
    _frame_re: re.Pattern[str] | None = PrivateAttr(default=None)

    @field_validator("message")
    @classmethod
    def _regex_compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(
                    f"message is not a valid regular expression ({exc}); escape special "
                    f"characters with a backslash, e.g. {re.escape(v)!r} to match literally"
                ) from None
        return v

    @field_validator("fingerprint")
    @classmethod
    def _fingerprint_values(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("fingerprint must list at least one value, e.g. ['{{ default }}']")
            for item in v:
                _check_vars(item, "fingerprint")
        return v

    @field_validator("title")
    @classmethod
    def _title_values(cls, v: str | None) -> str | None:
        if v is not None:
            _check_vars(v, "title")
        return v

    @model_validator(mode="after")
    def _complete(self) -> FingerprintRule:
        if (
            self.service is None
            and self.type is None
            and self.message is None
            and self.frame is None
        ):
            raise ValueError("a rule needs at least one matcher: service, type, message or frame")
        if self.fingerprint is None and self.title is None:
            raise ValueError("a rule needs an action: fingerprint (a list of strings) and/or title")
        return self

    def model_post_init(self, __context: Any) -> None:
        glob = _glob
        self._service_re = glob(self.service) if self.service is not None else None
        self._type_re = glob(self.type) if self.type is not None else None
        self._message_re = re.compile(self.message) if self.message is not None else None
        self._frame_re = glob(self.frame) if self.frame is not None else None

    def matches(
        self, service: str, type_: str, message: str, frames: Sequence[tuple[str, str]]
    ) -> bool:
        """frames: (module, function) of every frame (in-app or not)."""
        if self._service_re is not None and self._service_re.match(service) is None:
            return False
        if self._type_re is not None:
            short = type_.rsplit(".", 1)[-1]
            if self._type_re.match(type_) is None and self._type_re.match(short) is None:
                return False
        if self._message_re is not None and self._message_re.search(message) is None:
            return False
        if self._frame_re is not None:
            rx = self._frame_re
            if not any(
                rx.match(f"{mod}.{fn}") is not None or rx.match(fn) is not None
                for mod, fn in frames
            ):
                return False
        return True


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.S)


def expand(template: str, values: dict[str, str]) -> str:
    """Substitute {{ name }} variables (unknown ones were refused at load time)."""
    if "{{" not in template:
        return template
    return _VAR.sub(lambda m: values.get(m.group(1), ""), template)


def load_rules(items: Iterable[dict[str, Any]] | None) -> list[FingerprintRule]:
    """Validate a `fingerprint_rules:` list. Raises RuleError naming the rule index and the fix."""
    rules: list[FingerprintRule] = []
    if items is None:
        return rules
    if isinstance(items, dict | str):
        raise RuleError("fingerprint_rules must be a list of rules (mappings)")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RuleError(
                f"fingerprint_rules[{i}]: expected a mapping like "
                f"{{type: KeyError, fingerprint: ['{{{{ default }}}}']}}, got {type(item).__name__}"
            )
        try:
            rules.append(FingerprintRule.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(_describe(e) for e in exc.errors())
            raise RuleError(f"fingerprint_rules[{i}]: {problems}") from None
    return rules


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "extra_forbidden":
        msg = "unknown key; allowed: service, type, message, frame, fingerprint, title"
    return f"{loc}: {msg}" if loc else msg
