"""Settings from the environment or a .env file.

A wrong setting must stop start-up with one sentence a person can act on, never a
traceback: `load_settings` checks every value it is given and says which one is wrong
and how to write it. A plain dataclass and python-dotenv, not pydantic-settings: that
cost every start about 10 MB of memory and 0.15 s, for about twenty values.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from bot.i18n import PROJECT_ROOT
from bot.setting_values import RULES, Secret

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_DATABASE = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'tijdig.db'}"
ENV_FILE = ".env"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one plain sentence."""


@dataclass(frozen=True)
class Settings:
    """Every setting with its default; `load_settings` fills it from the environment."""

    telegram_bot_token: Secret | None = None
    telegram_api_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    database_url: str = DEFAULT_DATABASE
    data_key: Secret | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    default_locale: str = "nl"
    share_link_days: int = 30
    # Whose X-Forwarded-For counts (comma-separated addresses or networks, or *); empty:
    # no proxy is trusted, the client is the address that connected.
    forwarded_allow_ips: str = ""
    # How long handled-event ids are kept (they only stop redelivered updates).
    event_retention_days: int = 30
    # How long an expired or revoked link and its access log are kept after it stopped.
    link_retention_days: int = 365
    invite_days: int = 7
    flows_dir: Path = PROJECT_ROOT / "flows"
    # Webhook mode: after this long, an update a process received but did not finish
    # (it died) is taken over by another process.
    inbox_lease_seconds: float = 60.0
    # On SIGTERM: how long to finish the turns in flight before stopping anyway.
    shutdown_grace_seconds: float = 20.0
    # Chat-bound Bot API calls per second for the whole bot (Telegram's flood limit is about
    # 30); 0 turns the limiter off (a local Bot API server, tests).
    telegram_rate_limit: int = 30
    # Shared limits across processes (send budget, share-link rate limit): redis://host:port
    redis_url: str | None = None
    # Reminders, the yearly review and the outbox (see bot/services/outbox.py).
    reminder_after: timedelta = timedelta(days=3)
    reminder_second_after: timedelta = timedelta(days=10)
    review_after: timedelta = timedelta(days=365)
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(9, 0))
    reminder_rate: float = 5.0

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


SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(Settings))


def load_settings(*, _env_file: str | Path | None = ENV_FILE, **overrides: Any) -> Settings:
    """The settings: keyword arguments first, then the environment, then the .env file
    (names in any case, empty values as if unset), then the defaults. A wrong value
    raises ConfigError naming the setting and what it should look like."""
    if unknown := set(overrides) - SETTING_NAMES:
        raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
    given: dict[str, Any] = {}
    if _env_file is not None and Path(_env_file).is_file():
        given.update(_named(dotenv_values(_env_file)))
    given.update(_named(os.environ))
    given.update(overrides)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        if field.name not in given:
            continue
        value = given[field.name]
        try:
            if value is None and "None" not in str(field.type):
                raise ValueError("must be set")
            values[field.name] = None if value is None else RULES[field.name](value)
        except ValueError as exc:
            raise ConfigError(f"The setting {field.name.upper()} is not valid: {exc}.") from None
    settings = Settings(**values)
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


def dotenv_values(path: str | Path) -> dict[str, str | None]:
    from dotenv import dotenv_values as read  # only when there is a .env file

    try:
        return read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ConfigError(f"The settings file {path} cannot be read ({reason}).") from None


def _named(source: Mapping[str, str | None]) -> dict[str, str]:
    """The settings among environment variables, by field name; empty ones left out."""
    return {
        key.lower(): value
        for key, value in source.items()
        if value and key.lower() in SETTING_NAMES
    }
