"""Retention: what Tijdig no longer needs is deleted, not kept forever.

- `processed_event` (ids of handled updates, kept only so that a redelivered update is not
  applied twice) after EVENT_RETENTION_DAYS (default 30);
- share links that stopped working (expired, revoked or locked) LINK_RETENTION_DAYS after
  they stopped (default 365), together with their access log;
- rows of the shared rate limits (`rate_schedule`) whose slot passed an hour ago: a
  share-link client's row would otherwise stay for every address that ever came by.

`purge_expired` is meant for the bot's periodic job (the host runs it, e.g. hourly). It is
idempotent and safe to run from several processes at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.models import LinkAccess, ProcessedEvent, ShareLink
from bot.storage.rate_schedule import prune as prune_rate_schedule


class RetentionSettings(Protocol):
    event_retention_days: int
    link_retention_days: int


@dataclass(frozen=True)
class Purged:
    events: int
    links: int
    link_accesses: int
    rate_rows: int = 0


async def purge_expired(
    sessions: async_sessionmaker[Any], now: datetime, settings: RetentionSettings
) -> Purged:
    """Delete handled-event ids, dead share links (with their access log) and passed rate
    limit rows that are past their retention, in one transaction. Returns how many went."""
    now = now.astimezone(UTC)  # stored times are UTC
    event_cutoff = now - timedelta(days=settings.event_retention_days)
    link_cutoff = now - timedelta(days=settings.link_retention_days)
    dead = or_(
        ShareLink.expires_at < link_cutoff,
        ShareLink.revoked_at < link_cutoff,
        ShareLink.locked_at < link_cutoff,
    )
    async with sessions() as session, session.begin():
        events = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.created_at < event_cutoff)
        )
        dead_ids = select(ShareLink.id).where(dead)
        accesses = await session.execute(delete(LinkAccess).where(LinkAccess.link_id.in_(dead_ids)))
        links = await session.execute(delete(ShareLink).where(dead))
        rate_rows = await prune_rate_schedule(session, now)
    return Purged(
        events=events.rowcount or 0,  # type: ignore[attr-defined]
        links=links.rowcount or 0,  # type: ignore[attr-defined]
        link_accesses=accesses.rowcount or 0,  # type: ignore[attr-defined]
        rate_rows=rate_rows,
    )
