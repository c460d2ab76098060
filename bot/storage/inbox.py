"""The webhook inbox: an update is stored here before Telegram gets its 200, and removed
once it has been handled and answered. A process that dies in between leaves its rows;
when their lease runs out, any surviving process claims and handles them.

The update is personal (it holds what was typed), so it is stored encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.crypto import Cipher
from bot.storage.models import Base, utcnow
from bot.storage.upsert import insert_for

PAYLOAD = "inbox.update"


class InboxRow(Base):
    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "update_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[int] = mapped_column(BigInteger)
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Who holds it: the receiving process until then; after that, anyone may claim it.
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class InboxItem:
    update_id: int
    payload: bytes
    attempts: int


async def store(
    session: AsyncSession,
    cipher: Cipher,
    channel: str,
    update_id: int,
    payload: bytes,
    lease: float,
) -> bool:
    """Keep the update; False when it is already there (Telegram delivered it again)."""
    values = {
        "channel": channel,
        "update_id": update_id,
        "payload_enc": cipher.encrypt(payload, PAYLOAD),
        "received_at": utcnow(),
        "lease_until": utcnow() + timedelta(seconds=lease),
        "attempts": 1,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement = insert_for(dialect)(InboxRow).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove(session: AsyncSession, channel: str, update_id: int) -> None:
    await session.execute(
        delete(InboxRow).where(InboxRow.channel == channel, InboxRow.update_id == update_id)
    )


async def claim_expired(
    session: AsyncSession, cipher: Cipher, channel: str, lease: float, limit: int = 50
) -> list[InboxItem]:
    """Take over updates whose receiver did not finish in time (it died, or hangs), oldest
    update first. On PostgreSQL, SKIP LOCKED lets several processes claim side by side."""
    now = utcnow()
    query = (
        select(InboxRow)
        .where(InboxRow.channel == channel, InboxRow.lease_until < now)
        .order_by(InboxRow.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(query)).scalars())
    items = [
        InboxItem(row.update_id, cipher.decrypt(row.payload_enc, PAYLOAD), row.attempts + 1)
        for row in rows
    ]
    if rows:
        await session.execute(
            update(InboxRow)
            .where(InboxRow.id.in_([row.id for row in rows]))
            .values(lease_until=now + timedelta(seconds=lease), attempts=InboxRow.attempts + 1)
        )
    return items


async def pending(session: AsyncSession, channel: str) -> int:
    """How many updates wait (for /ready and the tests)."""
    rows = await session.execute(select(InboxRow.id).where(InboxRow.channel == channel))
    return len(rows.all())
