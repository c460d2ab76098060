"""Rate limits that every process shares through PostgreSQL (used when REDIS_URL is not set).

One row per limited thing (a bot token's send budget, a share-link client): its GCRA
"theoretical arrival time" `tat`, the moment from which the next slot is free, in
milliseconds on the database's clock. Reserving a slot is one atomic upsert: it moves
`tat` on by one interval under the row's lock and returns how long the caller waits, so
no two callers in any process get the same slot. The statement runs on its own in
autocommit, never inside a turn's transaction, so the row lock is held for a moment only.

The database's clock (not each machine's) keeps processes on several hosts on one schedule.
A row whose `tat` has passed means the same as no row, so housekeeping deletes those.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, String, delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class RateSchedule(Base):
    __tablename__ = "rate_schedule"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)  # ms since the epoch, database clock


_NOW = "(extract(epoch FROM statement_timestamp()) * 1000)::float8"

# Insert the first slot, or move tat on by one interval when the next free slot is at most
# :max_wait ms away; returns the wait in ms, or no row when the slot is further off.
_RESERVE = text(f"""
INSERT INTO rate_schedule AS r (key, tat) VALUES (:key, {_NOW} + :interval)
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, {_NOW}) + :interval
WHERE GREATEST(r.tat, {_NOW}) - {_NOW} <= :max_wait
RETURNING r.tat - :interval - {_NOW}
""")

_BEHIND = text(f"SELECT tat - {_NOW} FROM rate_schedule WHERE key = :key")


def autocommit(db: AsyncEngine) -> AsyncEngine:
    """The engine's connections without a transaction around each statement: a
    reservation is one round trip, and its row lock ends with the statement."""
    return db.execution_options(isolation_level="AUTOCOMMIT")


async def reserve(
    db: AsyncEngine, key: str, interval_ms: float, max_wait_ms: float
) -> float | None:
    """Take the next slot for `key`: ms to wait for it, or None when it is more than
    `max_wait_ms` away (nothing is taken then). `db` is an `autocommit` engine."""
    params = {"key": key, "interval": interval_ms, "max_wait": max_wait_ms}
    async with db.connect() as connection:
        value = (await connection.execute(_RESERVE, params)).scalar_one_or_none()
    return None if value is None else max(0.0, float(value))


async def behind(db: AsyncEngine, key: str) -> float:
    """How far (ms) the next free slot of `key` lies ahead; 0 when it is free now."""
    async with db.connect() as connection:
        ahead = (await connection.execute(_BEHIND, {"key": key})).scalar_one_or_none()
    return max(0.0, float(ahead or 0.0))


async def prune(session: AsyncSession, now: datetime, margin_ms: float = 3_600_000) -> int:
    """Delete rows whose slot passed long ago (they behave as absent rows do); the margin
    covers a clock of this machine that runs ahead of the database's."""
    cutoff = now.timestamp() * 1000 - margin_ms
    result = await session.execute(delete(RateSchedule).where(RateSchedule.tat < cutoff))
    return result.rowcount or 0  # type: ignore[attr-defined]
