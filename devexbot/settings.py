"""Settings from the environment (and a `.env` file), built by `get_settings()`, never at import."""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from devexbot.errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite:///./devexbot.db"
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_ENTERPRISE_ID = re.compile(r"E[A-Z0-9]{2,}")


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` and plain `postgresql://`; use the psycopg 3 driver."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url[len(scheme):]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r} (sqlite or postgresql)")
    return url


class Settings(BaseSettings):
    """Every variable of DESIGN.md's settings table."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL
    devexbot_config: Path = Path("config/devexbot.yaml")
    port: int = Field(default=8000, ge=1, le=65535)

    github_webhook_secret: SecretStr | None = None
    jenkins_webhook_token: SecretStr | None = None
    deploy_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_default_channel: str | None = None

    github_token: SecretStr | None = None
    github_app_id: int | None = None
    github_app_private_key: SecretStr | None = None
    github_api_url: str = "https://api.github.com"

    jenkins_url: str | None = None
    jenkins_user: str | None = None
    jenkins_api_token: SecretStr | None = None

    jira_url: str | None = None
    jira_user: str | None = None
    jira_api_token: SecretStr | None = None

    # The web workspace: open on the loopback interface, behind a login anywhere else.
    # The web token only reads; acting needs Sign in with Slack.
    devexbot_web_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_team_id: str | None = None
    # Enterprise Grid organisations (`E…`, comma-separated) whose every workspace the bot
    # serves; by default only its own workspace (SLACK_TEAM_ID, or the bot token's).
    slack_enterprise_ids: str = ""
    devexbot_session_secret: SecretStr | None = None  # unset: a random key in the database
    devexbot_public_url: str | None = None
    devexbot_trusted_proxies: str = ""
    # The JSON API: `login`, the workspace's rule (the bot's machine, or signed in) plus the
    # web token as a bearer token for scripts; or `open` to anyone who can reach the bot.
    devexbot_api_access: Literal["open", "login"] = "login"
    # Set, `/metrics` wants it as a bearer token from off the bot's machine.
    devexbot_metrics_token: SecretStr | None = None
    # Slow or stalled clients (devexbot.http.connections): connections open at once, and
    # seconds a request's head (from connecting) and its body may take to arrive.
    devexbot_max_connections: int = Field(default=1000, ge=1)
    devexbot_header_timeout: float = Field(default=10.0, gt=0)
    devexbot_body_timeout: float = Field(default=30.0, gt=0)
    # `json`: one JSON object per log line, with the delivery id, card and trace id.
    devexbot_log_format: Literal["text", "json"] = "text"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator(
        "github_webhook_secret", "jenkins_webhook_token", "deploy_webhook_secret",
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "github_token",
        "github_app_private_key", "jenkins_api_token", "jira_api_token", "devexbot_web_token",
        "slack_client_secret", "devexbot_session_secret", "devexbot_metrics_token",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("slack_client_id", "slack_team_id", "devexbot_public_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("devexbot_api_access", "devexbot_log_format", mode="before")
    @classmethod
    def _api_access(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("devexbot_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"must start with https:// (got {value!r})")
        return value.rstrip("/") if value else value

    @field_validator("slack_enterprise_ids")
    @classmethod
    def _enterprise_ids(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not _ENTERPRISE_ID.fullmatch(part):
                raise ValueError(f"not a Slack organisation id (E…): {part!r}")
        return value

    @field_validator("devexbot_trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {part!r}") from None
        return value

    @model_validator(mode="after")
    def _session_secret_is_not_the_web_token(self) -> Settings:
        secret, token = self.devexbot_session_secret, self.devexbot_web_token
        if secret is not None and token is not None and \
                secret.get_secret_value() == token.get_secret_value():
            raise ValueError("DEVEXBOT_SESSION_SECRET is the web token: whoever holds the "
                             "token could sign in as anyone; give it a secret of its own")
        return self

    @property
    def slack_sign_in(self) -> bool:
        """Sign in with Slack is configured."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def enterprise_ids(self) -> frozenset[str]:
        """The Grid organisations whose workspaces may use the bot."""
        return frozenset(p.strip() for p in self.slack_enterprise_ids.split(",") if p.strip())

    @property
    def trusted_proxies(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(p.strip(), strict=False)
                for p in self.devexbot_trusted_proxies.split(",") if p.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    """Build Settings; a SettingsError lists every variable that is wrong, one line each."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            # A rule between variables names them itself.
            problems.append(f"{str(error['loc'][0]).upper()}: {message}" if error["loc"]
                            else message)
        raise SettingsError(problems[0], problems=problems) from None


class _ConfigPath(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False)

    devexbot_config: Path = Settings.model_fields["devexbot_config"].default


def config_path() -> Path:
    """DEVEXBOT_CONFIG, read even when another variable is wrong."""
    return _ConfigPath().devexbot_config


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use."""
    return load_settings()
