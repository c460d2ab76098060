"""Settings from the environment or a .env file.

A wrong setting must stop start-up with one sentence a person can act on, never a
traceback: `load_settings` turns pydantic's report into `ConfigError`.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.i18n import PROJECT_ROOT, available_locales

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_DATABASE = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'tijdig.db'}"
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
URL_SAFE = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%{}-]+$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one plain sentence."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    database_url: str = DEFAULT_DATABASE
    data_key: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    default_locale: str = "nl"
    share_link_days: Annotated[int, Field(ge=1, le=365)] = 30
    # Whose X-Forwarded-For counts (comma-separated addresses or networks, or *); empty:
    # no proxy is trusted, the client is the address that connected.
    forwarded_allow_ips: str = ""
    # How long handled-event ids are kept (they only stop redelivered updates).
    event_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    # How long an expired or revoked link and its access log are kept after it stopped.
    link_retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    invite_days: Annotated[int, Field(ge=1, le=90)] = 7
    flows_dir: Path = PROJECT_ROOT / "flows"
    # Webhook mode: after this long, an update a process received but did not finish
    # (it died) is taken over by another process.
    inbox_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # On SIGTERM: how long to finish the turns in flight before stopping anyway.
    shutdown_grace_seconds: Annotated[float, Field(gt=0, le=600)] = 20.0
    # Chat-bound Bot API calls per second for the whole bot (Telegram's flood limit is about
    # 30); 0 turns the limiter off (a local Bot API server, tests).
    telegram_rate_limit: Annotated[int, Field(ge=0, le=10_000)] = 30
    # Shared limits across processes (send budget, share-link rate limit): redis://host:port
    redis_url: str | None = None
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
        try:
            url = make_url(value)
            port = url.port
        except (ArgumentError, ValueError) as exc:
            raise ValueError("it is not a database URL (postgresql+asyncpg://...)") from exc
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"the port {port} is not between 1 and 65535")
        if not url.host and "host" not in url.query:  # ?host=/run/postgresql: a socket
            raise ValueError("it names no host (postgresql+asyncpg://user@host:5432/tijdig)")
        return value

    @field_validator("public_base_url", "telegram_webhook_url", "telegram_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return absolute_url(value)

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("must be set to the address professionals open")
        parts = urlsplit(value)
        if parts.query or parts.fragment or "{" in value:
            raise ValueError("must be a plain address without ?, # or {} (https://host/path)")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _api_base_url(cls, value: str | None) -> str | None:
        """Both conventions: `…/bot` (python-telegram-bot's) and `…/bot{token}`; a bare
        server address gets `/bot{token}`. Always ends up with `{token}` in it."""
        if value is None or "{token}" in value:
            return value
        if value.endswith("/bot"):
            return value + "{token}"
        return value + "/bot{token}"

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 10.0.0.5,10.1.0.0/16)"
                ) from None
        return ",".join(items)

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
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None
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


def absolute_url(value: str) -> str:
    """An absolute http(s) URL with a real host, or ValueError saying what is wrong."""
    if not URL_SAFE.match(value):
        raise ValueError("must be a URL without spaces, quotes or < > characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not value.lower().startswith(parts.scheme + "://"):
        raise ValueError("must start with http:// or https://")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("has a port that is not a number between 0 and 65535") from None
    if parts.username or parts.password:
        raise ValueError("must not contain a user name or password")
    if not host:
        raise ValueError("must name a host, as in https://tijdig.example.nl")
    if port == 0:
        raise ValueError("has port 0")
    if not _valid_host(host):
        raise ValueError(f"has a host that is not a valid name or address ({host})")
    return value.rstrip("/")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(HOST_LABEL.match(label) for label in labels)


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
