"""Dates as people in the Netherlands read them: in Dutch time, in the viewer's language.

Babel's date formatting is imported at the first date shown, not by every process that
imports this module for its time zone (a chat turn mostly shows none)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/Amsterdam")


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Tijdig stores is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day(moment: datetime, locale: str) -> str:
    """ "22 november 2026"."""
    from babel.dates import format_date

    return format_date(as_utc(moment).astimezone(TIMEZONE), "long", locale=locale)


def clock_time(moment: datetime, locale: str) -> str:
    """ "16:31"."""
    from babel.dates import format_datetime

    return format_datetime(as_utc(moment).astimezone(TIMEZONE), "HH:mm", locale=locale)


def day_and_time(moment: datetime, locale: str) -> str:
    """ "22 november 2026 16:31"."""
    return f"{day(moment, locale)} {clock_time(moment, locale)}"
