"""Settings from the environment (pydantic-settings). The only reader of os.environ."""

from __future__ import annotations

import re

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SUBSCRIPTION = re.compile(
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/subscriptions/[A-Za-z][\w.~+%-]{2,254}$"
)
_CHANNEL = re.compile(r"^(?:[CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]{0,79})$")


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
    retention_hours_days: int = Field(default=30, ge=2, le=400)
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
        if v is not None and not _SUBSCRIPTION.match(v):
            raise ValueError(
                "must be a full path: projects/PROJECT_ID/subscriptions/SUBSCRIPTION_ID"
            )
        return v

    @field_validator("default_channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not _CHANNEL.match(v):
            raise ValueError("must be a channel id (C0123ABCD) or #name")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must look like redis://HOST:6379/0 (or rediss:// for TLS)")
        return v

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in ("en", "ja"):
            raise ValueError("must be en or ja")
        return v


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
