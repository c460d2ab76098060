"""Dates as people in the Netherlands read them: in Dutch time, in the viewer's language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

TIMEZONE = ZoneInfo("Europe/Amsterdam")


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Tijdig stores is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day(moment: datetime, locale: str) -> str:
    """ "22 november 2026"."""
    return format_date(as_utc(moment).astimezone(TIMEZONE), "long", locale=locale)


def clock_time(moment: datetime, locale: str) -> str:
    """ "16:31"."""
    return format_datetime(as_utc(moment).astimezone(TIMEZONE), "HH:mm", locale=locale)


def day_and_time(moment: datetime, locale: str) -> str:
    """ "22 november 2026 16:31"."""
    return f"{day(moment, locale)} {clock_time(moment, locale)}"
