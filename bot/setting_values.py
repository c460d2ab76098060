"""What each setting may be: one rule per setting, turning the text of the environment
(or a value given in code) into the setting's value, or saying in a few words what is
wrong with it (ValueError). `bot.config.load_settings` names the setting around it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.i18n import available_locales

HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
URL_SAFE = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%{}-]+$")


class Secret:
    """A value that is never shown: not in a repr, a log line or an error message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def _text(value: object) -> str:
    return str(value)


def _secret(value: object) -> Secret:
    return value if isinstance(value, Secret) else Secret(str(value))


def _whole(low: int, high: int) -> Callable[[object], int]:
    def convert(value: object) -> int:
        try:
            if isinstance(value, bool | float):
                raise ValueError
            number = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValueError(f"use a whole number from {low} to {high}")
        return number

    return convert


def _number(above: float, most: float) -> Callable[[object], float]:
    def convert(value: object) -> float:
        try:
            number = float(str(value).strip()) if not isinstance(value, bool) else None
        except ValueError:
            number = None
        if number is None or not above < number <= most:  # NaN fails this too
            raise ValueError(f"use a number above {above:g} and at most {most:g}")
        return number

    return convert


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(str(value))


def _quiet_hours(value: object) -> tuple[time, time] | None:
    if isinstance(value, tuple):
        return value
    return parse_quiet_hours(str(value))


def _database_url(value: object) -> str:
    value = str(value)
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


def _optional_url(value: object) -> str | None:
    return None if value == "" else absolute_url(str(value))


def _public_base_url(value: object) -> str:
    url = _optional_url(value)
    if url is None:
        raise ValueError("must be set to the address professionals open")
    parts = urlsplit(url)
    if parts.query or parts.fragment or "{" in url:
        raise ValueError("must be a plain address without ?, # or {} (https://host/path)")
    return url


def _api_base_url(value: object) -> str | None:
    """Both conventions: `…/bot` (python-telegram-bot's) and `…/bot{token}`; a bare server
    address gets `/bot{token}`. Always ends up with `{token}` in it."""
    url = _optional_url(value)
    if url is None or "{token}" in url:
        return url
    if url.endswith("/bot"):
        return url + "{token}"
    return url + "/bot{token}"


def _forwarded(value: object) -> str:
    items = [item.strip() for item in str(value).split(",") if item.strip()]
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


def _webhook_secret(value: object) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", str(value)):
        raise ValueError(
            "use 16 to 256 characters from A-Z, a-z, 0-9, _ and - (Telegram allows only "
            "these; 16 or more keeps it hard to guess)"
        )
    return str(value)


def _redis(value: object) -> str | None:
    if value and not str(value).startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("use redis://host:port (or rediss:// for TLS)")
    return str(value) if value else None


def _locale(value: object) -> str:
    if value not in available_locales():
        raise ValueError(f"must be one of {', '.join(available_locales())}")
    return str(value)


def _path(value: object) -> Path:
    return Path(str(value))


RULES: dict[str, Callable[[Any], Any]] = {
    "telegram_bot_token": _secret,
    "telegram_api_base_url": _api_base_url,
    "telegram_webhook_url": _optional_url,
    "telegram_webhook_secret": _webhook_secret,
    "database_url": _database_url,
    "data_key": _secret,
    "public_base_url": _public_base_url,
    "web_host": _text,
    "web_port": _whole(0, 65535),
    "default_locale": _locale,
    "share_link_days": _whole(1, 365),
    "forwarded_allow_ips": _forwarded,
    "event_retention_days": _whole(1, 3650),
    "link_retention_days": _whole(1, 3650),
    "invite_days": _whole(1, 90),
    "flows_dir": _path,
    "inbox_lease_seconds": _number(0, 3600),
    "shutdown_grace_seconds": _number(0, 600),
    "telegram_rate_limit": _whole(0, 10_000),
    "redis_url": _redis,
    "reminder_after": _duration,
    "reminder_second_after": _duration,
    "review_after": _duration,
    "quiet_hours": _quiet_hours,
    "reminder_rate": _number(0, 30),
}


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
