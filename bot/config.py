"""Settings from the environment or a .env file.

A wrong setting must stop start-up with one sentence a person can act on, never a
traceback: `load_settings` turns pydantic's report into `ConfigError`.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
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
    # Reminders, the yearly review and the outbox (see bot/services/outbox.py).
    reminder_after: timedelta = timedelta(days=3)
    reminder_second_after: timedelta = timedelta(days=10)
    review_after: timedelta = timedelta(days=365)
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(9, 0))
    reminder_rate: Annotated[float, Field(gt=0, le=30)] = 5.0

    @field_validator("reminder_after", "reminder_second_after", "review_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str | int | float) else value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> object:
        return parse_quiet_hours(value) if isinstance(value, str) else value

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


DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
DAYS_PER_MONTH = 365.25 / 12  # P12M is one year


def parse_duration(value: str | int | float) -> timedelta:
    """Plain seconds ("3", so tests and demos can be quick) or ISO 8601 ("P3D", "P12M")."""
    text = str(value).strip().upper()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
        if seconds <= 0 or seconds > 10 * 365 * 86400:
            raise ValueError("use a duration above 0 and at most ten years")
        return timedelta(seconds=seconds)
    match = DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError("use seconds (3) or an ISO 8601 duration such as P3D, PT12H or P12M")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    days = parts.get("years", 0) * 365.25 + parts.get("months", 0) * DAYS_PER_MONTH
    result = timedelta(
        days=days + parts.get("weeks", 0) * 7 + parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    if result <= timedelta(0) or result > timedelta(days=3653):
        raise ValueError("use a duration above 0 and at most ten years")
    return result


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """ "21:00-09:00" (Dutch time; may run past midnight) or "off"."""
    text = value.strip().lower()
    if text in ("off", "uit", "none", "0"):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match:
        raise ValueError("use two times like 21:00-09:00 (Dutch time), or off")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        raise ValueError("use two different times like 21:00-09:00 (Dutch time), or off")
    return time(h1, m1), time(h2, m2)


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"The setting {name} is not valid: {reason}.") from None
    if settings.reminder_second_after <= settings.reminder_after:
        raise ConfigError(
            "REMINDER_SECOND_AFTER must be longer than REMINDER_AFTER (the second reminder "
            "comes after the first)."
        )
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is set, so that "
            "only Telegram can post updates."
        )
    return settings
