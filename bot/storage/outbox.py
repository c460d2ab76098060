"""The outbox table: messages due at a time, each claimed by one sender only.

Claiming takes a short lease in its own transaction: on PostgreSQL with
`SELECT ... FOR UPDATE SKIP LOCKED`, so two processes never take the same row; on SQLite
the one process's writers queue anyway. A row is marked sent after the channel took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.crypto import Cipher
from bot.storage.models import OutboxMessage, Participant, ShareLink
from bot.storage.person_keys import PersonKeys

PAYLOAD = "outbox.payload"


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    person_id: int
    participant_id: int
    channel: str
    kind: str
    step: int
    ref: str | None
    text: str | None
    due_at: datetime
    created_at: datetime


_TABLE = OutboxMessage.__table__
# After every event (built once; Core, not the ORM's bulk UPDATE, which costs more than
# SQLite takes to run it). RETURNING: whether a row was waiting, on every driver.
_MOVE_PENDING = (
    update(_TABLE)
    .where(
        _TABLE.c.participant_id == bindparam("pid"),
        _TABLE.c.kind == bindparam("kind_"),
        _TABLE.c.sent_at.is_(None),
    )
    .values(
        due_at=bindparam("due"),
        ref=bindparam("ref_"),
        dedupe_key=bindparam("key"),
        step=1,
        lease_until=None,
    )
    .returning(_TABLE.c.id)
)

_LINK = ShareLink.__table__
# Waiting rows of one kind (for one ref, or any): also once per event.
_WAITING = (
    _TABLE.c.participant_id == bindparam("pid"),
    _TABLE.c.kind == bindparam("kind_"),
    _TABLE.c.sent_at.is_(None),
)
_CANCEL_PENDING = delete(_TABLE).where(*_WAITING)
_HAS_PENDING = select(_TABLE.c.id).where(*_WAITING).limit(1)
_HAS_PENDING_REF = select(_TABLE.c.id).where(*_WAITING, _TABLE.c.ref == bindparam("ref_")).limit(1)
_OPENED_LINK = (
    select(_LINK.c.id)
    .where(
        _LINK.c.person_id == bindparam("person_id"),
        _LINK.c.last_opened_at.is_not(None),
        _LINK.c.revoked_at.is_(None),
        _LINK.c.locked_at.is_(None),
        _LINK.c.expires_at > bindparam("now"),
    )
    .limit(1)
)


class OutboxStore:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        # A notice's text is sealed with the person's own key: erasing them shreds it too.
        self.keys = PersonKeys(session, cipher)

    async def add(
        self,
        participant: Participant,
        *,
        kind: str,
        due_at: datetime,
        dedupe_key: str,
        step: int = 1,
        ref: str | None = None,
        text: str | None = None,
        priority: int = 1,
    ) -> bool:
        """A new due message; False when this due moment already has its row."""
        exists = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        if (await self.session.execute(exists)).first() is not None:
            return False
        row = OutboxMessage(
            person_id=participant.person_id,
            participant_id=participant.id,
            channel=participant.channel,
            kind=kind,
            step=step,
            ref=ref,
            dedupe_key=dedupe_key,
            payload_enc=(
                (await self.keys.of(participant.person_id)).encrypt_text(text, PAYLOAD)
                if text is not None
                else None
            ),
            priority=priority,
            due_at=due_at,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:  # another process wrote the same due moment just now
            return False
        return True

    async def move_pending(
        self, participant_id: int, kind: str, *, due_at: datetime, ref: str, dedupe_key: str
    ) -> bool:
        """Move the waiting row of this kind to a new due moment (one UPDATE, the common
        case after each event); False when none was waiting."""
        params = {"pid": participant_id, "kind_": kind, "due": due_at, "ref_": ref}
        result = await self.session.execute(_MOVE_PENDING, {**params, "key": dedupe_key})
        return result.first() is not None

    async def opened_link(self, person_id: int, now: datetime) -> bool:
        """A working share link of this person that a professional has opened."""
        params = {"person_id": person_id, "now": now}
        return (await self.session.execute(_OPENED_LINK, params)).first() is not None

    async def cancel_pending(self, participant_id: int, kind: str) -> None:
        await self.session.execute(_CANCEL_PENDING, {"pid": participant_id, "kind_": kind})

    async def has_pending(self, participant_id: int, kind: str, ref: str | None = None) -> bool:
        params = {"pid": participant_id, "kind_": kind}
        if ref is None:
            return (await self.session.execute(_HAS_PENDING, params)).first() is not None
        found = await self.session.execute(_HAS_PENDING_REF, {**params, "ref_": ref})
        return found.first() is not None

    async def claim(
        self,
        now: datetime,
        *,
        channels: list[str],
        limit: int,
        lease: timedelta,
        skip_locked: bool,
    ) -> list[OutboxRecord]:
        """Due rows for these channels, first things first, leased to the caller."""
        if limit <= 0 or not channels:
            return []
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.due_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
        )
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        rows = list((await self.session.execute(query)).scalars())
        for row in rows:
            row.lease_until = now + lease
        return [await self._record(row) for row in rows]

    async def _record(self, row: OutboxMessage) -> OutboxRecord:
        text = None
        if row.payload_enc:
            text = (await self.keys.of(row.person_id)).decrypt_text(row.payload_enc, PAYLOAD)
        return OutboxRecord(
            id=row.id,
            person_id=row.person_id,
            participant_id=row.participant_id,
            channel=row.channel,
            kind=row.kind,
            step=row.step,
            ref=row.ref,
            text=text,
            due_at=utc(row.due_at),
            created_at=utc(row.created_at),
        )

    async def still_there(self, outbox_id: int) -> bool:
        """False once the person was erased (their rows went with them)."""
        query = select(OutboxMessage.id).where(
            OutboxMessage.id == outbox_id, OutboxMessage.sent_at.is_(None)
        )
        return (await self.session.execute(query)).first() is not None

    async def finish(self, outbox_id: int, outcome: str, at: datetime) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.sent_at.is_(None))
            .values(sent_at=at, outcome=outcome, lease_until=None)
        )

    async def retry_at(self, outbox_id: int, due_at: datetime) -> None:
        """Sending failed for a passing reason: try again later."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.sent_at.is_(None))
            .values(due_at=due_at, lease_until=None)
        )
