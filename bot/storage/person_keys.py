"""Per-person data keys (crypto-shredding), the database's lookup secret, and key rotation.

Each person's content is sealed with their own random key; that key is stored only
wrapped with DATA_KEY (`person_key` table). Erasing a person deletes their key row first,
so any copy of their ciphertexts (a WAL file, a replica, a dump of the answer table)
cannot be read again, not even with DATA_KEY. `rotate` re-wraps every key under a new
DATA_KEY without touching the content.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.crypto import Cipher, DataKeyError, PersonKey
from bot.storage.models import (
    Answer,
    ConversationRow,
    DatabaseSecret,
    KeyCheck,
    Participant,
    Person,
    PersonKeyRow,
)

log = logging.getLogger(__name__)

LOOKUP_SECRET = "lookup"
KEY_CHECK_PURPOSE = "key.check"
# Set on a session that erased a person: after its commit the SQLite WAL is checkpointed
# and truncated (see bot/storage/db.py), so the old pages leave the -wal file at once.
ERASED = "tijdig.erased"


def _secret_label(name: str) -> bytes:
    return b"secret\x1f" + name.encode()


class PersonKeys:
    """The person keys one unit of work uses, unwrapped once each."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        self._by_person: dict[int, PersonKey] = {}
        self.rows: dict[int, PersonKeyRow] = {}  # rows this unit of work made

    def unwrap(self, row: PersonKeyRow | None) -> PersonKey:
        """The key of a loaded `person_key` row (as `Participant.person_key` carries it)."""
        if row is None:
            raise DataKeyError("this person has no data key (erased)")
        key = self._by_person.get(row.person_id)
        if key is None or key.key_id.hex() != row.id:
            key_id = bytes.fromhex(row.id)
            key = PersonKey(key_id, self.cipher.unwrap(row.wrapped, key_id))
            self._by_person[row.person_id] = key
        return key

    def loaded(self, person_id: int, row: PersonKeyRow | None) -> PersonKey:
        """The key of a person whose row came with its `person_key` (no query needed)."""
        return self._by_person.get(person_id) or self.unwrap(row)

    async def of(self, person_id: int) -> PersonKey:
        """The person's key; made on first use (a new person)."""
        key = self._by_person.get(person_id)
        if key is not None:
            return key
        query = select(PersonKeyRow).where(PersonKeyRow.person_id == person_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            return await self.create(person_id)
        return self.unwrap(row)

    async def create(self, person_id: int) -> PersonKey:
        key = PersonKey.new()
        row = PersonKeyRow(
            id=key.key_id.hex(), person_id=person_id, wrapped=self.cipher.wrap(key.key, key.key_id)
        )
        self.session.add(row)
        await self.session.flush()
        self._by_person[person_id] = key
        self.rows[person_id] = row
        return key

    async def destroy(self, person_id: int) -> None:
        """Crypto-shred: delete the person's key, so none of their ciphertexts opens again."""
        self._by_person.pop(person_id, None)
        await self.session.execute(delete(PersonKeyRow).where(PersonKeyRow.person_id == person_id))
        self.session.info[ERASED] = True


# -- at start-up ------------------------------------------------------------------------------


async def open_keys(sessions: async_sessionmaker[Any], cipher: Cipher) -> Cipher:
    """The cipher with the database's own lookup key, made (and older rows moved to person
    keys) on the first start after upgrading. Call after the key check. Several processes
    starting at once on a new database: one makes it, the others read theirs."""
    for attempt in range(2):
        try:
            return await _open_keys_once(sessions, cipher)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _open_keys_once(sessions: async_sessionmaker[Any], cipher: Cipher) -> Cipher:
    async with sessions() as session, session.begin():
        row = await session.get(DatabaseSecret, LOOKUP_SECRET)
        if row is not None:
            lookup = cipher.unwrap(row.wrapped, _secret_label(LOOKUP_SECRET))
            return dataclasses.replace(cipher, lookup_key=lookup)
        people = (await session.execute(select(func.count()).select_from(Participant))).scalar()
        # A database from before per-person keys keeps the lookup key its HMACs were made
        # with (derived from DATA_KEY); a new one gets a random key.
        lookup = cipher.lookup_key if people else os.urandom(32)
        session.add(
            DatabaseSecret(
                name=LOOKUP_SECRET, wrapped=cipher.wrap(lookup, _secret_label(LOOKUP_SECRET))
            )
        )
        await session.flush()  # a process that lost the race learns it here, before moving
        moved = await _move_to_person_keys(session, cipher)
        if moved:
            log.info("moved %d encrypted values to per-person keys", moved)
    return dataclasses.replace(cipher, lookup_key=lookup)


async def _move_to_person_keys(session: AsyncSession, cipher: Cipher) -> int:
    """Re-encrypt values sealed with DATA_KEY itself (before 0004) with person keys."""
    keys = PersonKeys(session, cipher)
    moved = 0

    async def reseal(blob: bytes | None, person_id: int, purpose: str) -> bytes | None:
        nonlocal moved
        if blob is None or blob[:1] != b"\x01":
            return blob
        moved += 1
        return (await keys.of(person_id)).encrypt(cipher.decrypt(blob, purpose), purpose)

    for person in (await session.execute(select(Person))).scalars():
        person.name_enc = await reseal(person.name_enc, person.id, "person.name")
    for participant in (await session.execute(select(Participant))).scalars():
        participant.address_enc = await reseal(  # type: ignore[assignment]
            participant.address_enc, participant.person_id, "participant.address"
        )
        conversation = await session.get(ConversationRow, participant.id)
        if conversation is not None:
            conversation.context_enc = await reseal(  # type: ignore[assignment]
                conversation.context_enc, participant.person_id, "conversation.context"
            )
    for answer in (await session.execute(select(Answer))).scalars():
        answer.value_enc = await reseal(  # type: ignore[assignment]
            answer.value_enc, answer.person_id, "answer.value"
        )
    return moved


# -- key rotation -----------------------------------------------------------------------------


async def rotate(sessions: async_sessionmaker[Any], old: Cipher, new: Cipher) -> int:
    """Re-wrap every person key and database secret, and the key check, under a new
    DATA_KEY, in one transaction. The content itself is not touched. Returns the number of
    person keys."""
    async with sessions() as session, session.begin():
        check = await session.get(KeyCheck, 1)
        if check is not None:
            value = old.decrypt(check.value_enc, KEY_CHECK_PURPOSE)  # proves the old key
            check.value_enc = new.encrypt(value, KEY_CHECK_PURPOSE)
        for secret in (await session.execute(select(DatabaseSecret))).scalars():
            label = _secret_label(secret.name)
            secret.wrapped = new.wrap(old.unwrap(secret.wrapped, label), label)
        count = 0
        for row in (await session.execute(select(PersonKeyRow))).scalars():
            key_id = bytes.fromhex(row.id)
            row.wrapped = new.wrap(old.unwrap(row.wrapped, key_id), key_id)
            count += 1
    return count
