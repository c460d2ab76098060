"""Settings from the environment or a .env file.

A wrong setting must stop start-up with one sentence a person can act on, never a
traceback: `load_settings` turns pydantic's report into `ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import PROJECT_ROOT, available_locales

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_DATABASE = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'tijdig.db'}"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one plain sentence."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: str | None = None
    telegram_api_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    database_url: str = DEFAULT_DATABASE
    data_key: str | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    default_locale: str = "nl"
    share_link_days: Annotated[int, Field(ge=1, le=365)] = 30
    flows_dir: Path = PROJECT_ROOT / "flows"
    # Webhook mode: after this long, an update a process received but did not finish
    # (it died) is taken over by another process.
    inbox_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Chat-bound Bot API calls per second for the whole bot (Telegram's flood limit is about
    # 30); 0 turns the limiter off (a local Bot API server, tests).
    telegram_rate_limit: Annotated[int, Field(ge=0, le=10_000)] = 30
    # Shared limits across processes (send budget, share-link rate limit): redis://host:port
    redis_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://...")
        if value.startswith("sqlite"):
            path = value.split("://", 1)[1].removeprefix("/").split("?", 1)[0]
            if path in ("", ":memory:"):
                raise ValueError(
                    "a SQLite database needs a file (sqlite+aiosqlite:///data/tijdig.db); "
                    "in memory, every answer would be lost when Tijdig stops"
                )
        return value

    @field_validator("public_base_url", "telegram_webhook_url", "telegram_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError(
                "use 16 to 256 characters from A-Z, a-z, 0-9, _ and - (Telegram allows only "
                "these; 16 or more keeps it hard to guess)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:port (or rediss:// for TLS)")
        return value or None

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in available_locales():
            raise ValueError(f"must be one of {', '.join(available_locales())}")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split(":///", 1)[1]
        return None if raw in ("", ":memory:") else Path(raw)

    def require_telegram_token(self) -> str:
        token = self.telegram_bot_token
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: ask @BotFather for a token and put it in .env "
                "(the terminal chat, `python -m bot chat`, needs no token)."
            )
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather "
                "(it should look like 123456789:AAE...)."
            )
        return token


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"The setting {name} is not valid: {reason}.") from None
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is set, so that "
            "only Telegram can post updates."
        )
    return settings
