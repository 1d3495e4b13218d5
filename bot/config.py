"""Settings from the environment (pydantic-settings). The only reader of os.environ."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import slack_ids
from bot.fingerprint import DEFAULT_STRATEGY, STRATEGIES

# Google's resource names: a project id is 6-30 of [a-z0-9-], starting with a letter and not
# ending with "-", optionally scoped by a domain (`example.com:my-project`); a subscription id
# is 3-255 of [A-Za-z0-9-_.~+%], starting with a letter.
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)+$")
_SUBSCRIPTION_ID = re.compile(r"^[A-Za-z][\w.~+%-]{2,254}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every setting, its environment variable and its meaning is listed in the README."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: str = Field(description="Bot token (xoxb-...)")
    slack_signing_secret: str = Field(description="Signing secret of the Slack app", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slack_app_token: str | None = Field(default=None, repr=False)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "tb"
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster
    pubsub_subscription: str | None = None
    push_audience: str | None = None
    push_service_account: str | None = None
    push_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    pubsub_emulator_host: str | None = None
    default_channel: str
    triage_config: str | None = None
    port: int = 8080
    host: str = "0.0.0.0"
    locale: str = "en"
    tz: str = "UTC"
    pullers: int = Field(default=3, ge=1, le=32)
    pull_max_messages: int = Field(default=500, ge=1, le=1000)
    update_interval_s: float = Field(default=30.0, ge=0)
    group_wait_s: float = Field(default=0.0, ge=0)
    digest_threshold: int = Field(default=10, ge=1)
    log_level: str = "INFO"
    retention_group_days: int = Field(default=90, ge=1, le=3650)
    retention_minutes_hours: int = Field(default=2, ge=2, le=24 * 14)
    retention_hours_days: int = Field(default=2, ge=2, le=400)
    # the fingerprint strategy without a routing config (or one naming none); a config's
    # `defaults: grouping: {strategy}` wins
    grouping_strategy: str = DEFAULT_STRATEGY
    error_reporting_sync: bool = False
    error_reporting_project: str | None = None
    error_reporting_endpoint: str | None = None  # host:port of a local stand-in (tests, demo)

    @field_validator("slack_bot_token")
    @classmethod
    def _token(cls, v: str) -> str:
        if not v.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb- (OAuth & Permissions page)")
        return v

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        if len(v) < 8:
            raise ValueError("looks truncated: copy it from Basic Information > App Credentials")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xapp-"):
            raise ValueError(
                "must be an app-level token starting with xapp- (Basic Information > App-Level Tokens, scope connections:write)"
            )
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @model_validator(mode="after")
    def _ingest_mode(self) -> Settings:
        if not self.pubsub_subscription and not self.push_audience:
            raise ValueError(
                "PUBSUB_SUBSCRIPTION is not set: set it (pull mode), or set PUSH_AUDIENCE and "
                "PUSH_SERVICE_ACCOUNT (push mode)"
            )
        if self.push_audience and not self.push_service_account:
            raise ValueError(
                "PUSH_SERVICE_ACCOUNT is not set: push mode needs the push subscription's service account email"
            )
        return self

    @field_validator("pubsub_subscription")
    @classmethod
    def _subscription(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = v.split("/")
        if len(parts) != 4 or parts[0] != "projects" or parts[2] != "subscriptions":
            raise ValueError(
                "must be a full path: projects/PROJECT_ID/subscriptions/SUBSCRIPTION_ID"
            )
        _check_project(parts[1])
        sub = parts[3]
        if not 3 <= len(sub) <= 255:
            raise ValueError(
                f"subscription id {sub[:60]!r} is too short (3 to 255 characters)"
                if len(sub) < 3
                else "subscription id is over 255 characters"
            )
        if not _SUBSCRIPTION_ID.match(sub) or sub.startswith("goog"):
            raise ValueError(
                f"subscription id {sub[:60]!r} must start with a letter and hold only letters, "
                "digits and - _ . ~ + % (and not start with goog)"
            )
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        if v.upper() not in _LOG_LEVELS:
            raise ValueError(f"{v[:30]!r} is not a level: use " + ", ".join(_LOG_LEVELS))
        return v.upper()

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{v[:60]!r} is not an IANA time zone: use e.g. UTC, Asia/Tokyo, Europe/Paris"
            ) from None
        return v

    @field_validator("default_channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not (slack_ids.is_channel(v, dm=True) or slack_ids.is_channel_name(v)):
            raise ValueError("must be a channel id (C0123ABCD) or #name")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must look like redis://HOST:6379/0 (or rediss:// for TLS)")
        return v

    @field_validator("grouping_strategy")
    @classmethod
    def _grouping(cls, v: str) -> str:
        if v.lower() not in STRATEGIES:
            raise ValueError(
                f"{v[:30]!r} is not a grouping strategy: use " + " or ".join(STRATEGIES)
            )
        return v.lower()

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in ("en", "ja"):
            raise ValueError("must be en or ja")
        return v


def _check_project(project: str) -> None:
    domain, _, pid = project.rpartition(":")
    if domain and not _DOMAIN.match(domain):
        raise ValueError(f"{domain[:60]!r} is not a domain (as in example.com:my-project)")
    if _PROJECT_ID.match(pid):
        return
    if not 6 <= len(pid) <= 30:
        raise ValueError(
            f"project id {pid[:60]!r} is too "
            + ("short" if len(pid) < 6 else "long")
            + " (6 to 30 characters): use the project ID (gcloud projects list), not its name"
        )
    raise ValueError(
        f"project id {pid[:60]!r} may hold only lowercase letters, digits and -, starting with "
        "a letter: use the project ID (gcloud projects list), not its name"
    )


class SettingsError(Exception):
    """Start-up configuration problem; str() is one line per problem, naming the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a check across settings: its message names them
                lines.append(err["msg"].removeprefix("Value error, "))
                continue
            name = str(err["loc"][0]).upper()
            if err["type"] == "missing":
                lines.append(f"{name} is not set: set it in the environment (see README, Settings)")
            else:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{name} is invalid: {msg}")
        raise SettingsError("\n".join(lines)) from None
