"""Reading and writing a person's data, decrypting on the way out and encrypting on the way in.

Every function takes the session of the current unit of work; none commits. The service
decides where a transaction begins and ends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.storage.answer_cache import DECRYPTED, HISTORIES, Staged, staged
from bot.storage.answer_cache import forget as forget_answers
from bot.storage.crypto import Cipher, PersonKey
from bot.storage.models import (
    Answer,
    AnswerConfirmation,
    ConversationRow,
    Invite,
    LinkAccess,
    OutboxMessage,
    Participant,
    Person,
    ProcessedEvent,
    ShareLink,
    utcnow,
)
from bot.storage.person_keys import PersonKeys
from bot.storage.upsert import insert_for

ANSWER = "answer.value"
NAME = "person.name"
ADDRESS = "participant.address"
CONTEXT = "conversation.context"
WITH = "answer.with"

# The statements of every turn, built once: building a statement costs more CPU than
# SQLite takes to run it, and a built one also keeps its cache key.
_PARTICIPANT = (
    select(Participant, ConversationRow, Person.answers_version)
    .outerjoin(ConversationRow, ConversationRow.participant_id == Participant.id)
    .join(Person, Person.id == Participant.person_id)
    .where(
        Participant.channel == bindparam("channel"),
        Participant.lookup_key == bindparam("lookup_key"),
    )
    .order_by(Participant.active.desc(), Participant.id)
)
# PostgreSQL, several processes: the participant alone, locked. Rows joined to a locked row
# come from the snapshot taken before the lock was granted, so a turn that waited for
# another would see the conversation as it was before that turn: it is read afterwards.
_PARTICIPANT_LOCKED = (
    select(Participant)
    .where(
        Participant.channel == bindparam("channel"),
        Participant.lookup_key == bindparam("lookup_key"),
    )
    .order_by(Participant.active.desc(), Participant.id)
    .with_for_update(of=Participant)
)


@functools.cache
def _claim_event(dialect_name: str) -> Any:
    """The dedupe INSERT, built once per dialect. RETURNING gives a row back only when one
    went in: the ORM result's rowcount said 1 for a skipped row on PostgreSQL."""
    return (
        insert_for(dialect_name)(ProcessedEvent.__table__)
        .values(
            participant_id=bindparam("participant_id"),
            event_id=bindparam("event_id"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["participant_id", "event_id"])
        .returning(ProcessedEvent.__table__.c.id)
    )


_CONVERSATION = ConversationRow.__table__
# Person.answers_version (moved by the database at every change to the person's answers).
# On PostgreSQL the person row stays locked from here to the commit (FOR NO KEY UPDATE:
# foreign-key checks of other writers still pass), so the history a turn read stays the
# one it read; SQLite's BEGIN IMMEDIATE already keeps every other writer out.
_ANSWERS_VERSION = (
    select(Person.answers_version)
    .where(Person.id == bindparam("person_id"))
    .with_for_update(key_share=True)
)
# The conversation's save also says the answers version at the end of the turn.
_SAVE_CONVERSATION = (
    update(_CONVERSATION)
    .where(_CONVERSATION.c.participant_id == bindparam("pid"))
    .values(
        state=bindparam("state"),
        context_enc=bindparam("context_enc"),
        last_order=bindparam("last_order"),
        updated_at=bindparam("updated_at"),
    )
    .returning(
        select(Person.answers_version).where(Person.id == bindparam("person_id")).scalar_subquery()
    )
)
_RECORD_COLUMNS = (
    Answer.id,
    Answer.question_id,
    Answer.value_enc,
    Answer.skipped,
    Answer.together,
    Answer.role,
    Answer.participant_id,
    Answer.created_at,
    Answer.flow_version,
    Answer.perspective,
    Answer.with_enc,
)
# Columns, not ORM objects: a person's whole history is read each turn.
_HISTORY = (
    select(*_RECORD_COLUMNS).where(Answer.person_id == bindparam("person_id")).order_by(Answer.id)
)
_HISTORY_OF = _HISTORY.where(Answer.perspective == bindparam("perspective"))
# The new row comes back as the history would read it (the same column types).
_ADD_ANSWER = insert(Answer.__table__).returning(*_RECORD_COLUMNS)


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer with who gave it and when."""

    id: int
    question_id: str
    value: dict[str, Any]
    skipped: bool
    together: bool
    role: str
    participant_id: int | None
    created_at: datetime
    flow_version: int
    perspective: str = "person"  # person | view (a relative's own view)
    companion: dict[str, Any] | None = None  # who sat with the person: {name, relation}


@dataclass(frozen=True)
class ConversationRecord:
    """Where a participant is: the state in clear (for operations), the rest decrypted."""

    state: str
    context: dict[str, Any]
    last_order: int | None = None  # the channel's order of the last event applied
    updated_at: datetime | None = None  # the last event applied (a sitting's pauses)


class Repository:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        self.keys = PersonKeys(session, cipher)  # everything personal uses the person's key
        # The session's identity map holds rows weakly; keeping the conversation rows we
        # loaded saves a second SELECT when the same unit of work saves them.
        self._conversations: dict[int, ConversationRow] = {}
        # Answers versions read along with a participant (unlocked: SQLite, where the
        # transaction's write lock keeps them), until this unit of work writes answers.
        self._answers_versions: dict[int, int] = {}

    # -- participants -------------------------------------------------------------------------
    def lookup_key(self, channel: str, user_id: str) -> str:
        return self.cipher.lookup(channel, user_id)

    async def find_participant(
        self, channel: str, user_id: str, *, lock: bool = False
    ) -> Participant | None:
        """The chat user's active participant (whose wishes the chat is about now), with
        their key and their conversation row in the same SELECT (a turn needs all three);
        with `lock`, the participant locked, and the conversation read after the lock."""
        params = {"channel": channel, "lookup_key": self.lookup_key(channel, user_id)}
        if lock:
            return (await self.session.execute(_PARTICIPANT_LOCKED, params)).scalars().first()
        found = (await self.session.execute(_PARTICIPANT, params)).first()
        if found is None:
            return None
        participant, conversation, version = found
        if conversation is not None:
            self._conversations[participant.id] = conversation
        self._answers_versions[participant.person_id] = version
        return participant

    async def participants_of_user(self, channel: str, user_id: str) -> list[Participant]:
        """Every person this chat user is linked to: their own, and as a relative."""
        query = (
            select(Participant)
            .where(
                Participant.channel == channel,
                Participant.lookup_key == self.lookup_key(channel, user_id),
            )
            .order_by(Participant.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def create_participant(self, channel: str, user_id: str, address: str) -> Participant:
        person = Person()
        self.session.add(person)
        await self.session.flush()
        key = await self.keys.create(person.id)
        participant = Participant(
            person_id=person.id,
            channel=channel,
            lookup_key=self.lookup_key(channel, user_id),
            address_enc=key.encrypt(address.encode(), ADDRESS),
            role="self",
        )
        self.session.add(participant)
        await self.session.flush()
        set_committed_value(participant, "person_key", self.keys.rows[person.id])
        set_committed_value(person, "key", self.keys.rows[person.id])
        return participant

    def address(self, participant: Participant) -> str:
        key = self.keys.loaded(participant.person_id, participant.person_key)
        return key.decrypt(participant.address_enc, ADDRESS).decode()

    async def participants_of(self, person_id: int) -> list[Participant]:
        query = select(Participant).where(Participant.person_id == person_id)
        return list((await self.session.execute(query)).scalars())

    async def mark_blocked(self, participant_id: int) -> None:
        participant = await self.session.get(Participant, participant_id)
        if participant is not None:
            participant.blocked_at = utcnow()

    # -- conversation -------------------------------------------------------------------------
    async def load_conversation(self, participant_id: int) -> ConversationRecord | None:
        row = self._conversations.get(participant_id) or await self.session.get(
            ConversationRow, participant_id
        )
        if row is None:
            return None
        self._conversations[participant_id] = row
        key = await self._key_of_participant(participant_id)
        context = key.decrypt_json(row.context_enc, CONTEXT)
        return ConversationRecord(row.state, context, row.last_order, row.updated_at)

    async def save_conversation(
        self,
        participant_id: int,
        state: str,
        context: dict[str, Any],
        *,
        order: int | None = None,
        at: datetime | None = None,
    ) -> None:
        participant = await self._participant(participant_id)
        key = self.keys.loaded(participant.person_id, participant.person_key)
        blob = key.encrypt_json(context, CONTEXT)
        row = self._conversations.get(participant_id) or await self.session.get(
            ConversationRow, participant_id
        )
        moment = at or utcnow()
        if row is None:
            self.session.add(
                ConversationRow(
                    participant_id=participant_id,
                    state=state,
                    context_enc=blob,
                    last_order=order,
                    updated_at=moment,
                )
            )
            return
        last_order = row.last_order if order is None else max(order, row.last_order or order)
        values = {"state": state, "context_enc": blob, "last_order": last_order}
        # One UPDATE at once (Core); the loaded row is told, without a second write.
        params = {**values, "pid": participant_id, "person_id": participant.person_id}
        found = await self.session.execute(_SAVE_CONVERSATION, {**params, "updated_at": moment})
        entry = staged(self.session.info).get(participant.person_id)
        if entry is not None:
            entry.final = found.scalar()
        for name, value in values.items():
            set_committed_value(row, name, value)

    # -- events ---------------------------------------------------------------------------------
    async def claim_event(self, participant_id: int, event_id: str) -> bool:
        """Mark the event handled; False when it already was (a redelivery). One INSERT
        that skips a duplicate, instead of a SELECT first and an INSERT later; undone with
        the rest of the turn if the turn fails."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        statement = _claim_event(dialect)
        params = {"participant_id": participant_id, "event_id": event_id, "created_at": utcnow()}
        return (await self.session.execute(statement, params)).first() is not None

    async def mark_event(self, participant_id: int, event_id: str) -> None:
        self.session.add(ProcessedEvent(participant_id=participant_id, event_id=event_id))

    # -- answers --------------------------------------------------------------------------------
    async def add_answer(
        self,
        participant: Participant,
        question_id: str,
        value: dict[str, Any],
        *,
        skipped: bool,
        together: bool,
        flow_version: int,
        perspective: str = "person",
        companion: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """One INSERT, at once (Core: the ORM's unit of work costs more than the write)."""
        key = await self.keys.of(participant.person_id)
        row = {
            "created_at": at or utcnow(),
            "person_id": participant.person_id,
            "participant_id": participant.id,
            "question_id": question_id,
            "flow_version": flow_version,
            "value_enc": key.encrypt_json(value, ANSWER),
            "skipped": skipped,
            "together": together,
            "role": participant.role,
            "perspective": perspective,
            "with_enc": key.encrypt_json(companion, WITH) if companion else None,
        }
        added = (await self.session.execute(_ADD_ANSWER, row)).one()
        self._answers_versions.pop(participant.person_id, None)  # moved by this row
        entry = staged(self.session.info).get(participant.person_id)
        if entry is not None:
            entry.records.append(self._record(participant.person_id, key, added))
            entry.added += 1

    async def answer_history(
        self, person_id: int, *, perspective: str | None = None
    ) -> list[AnswerRecord]:
        """Every answer ever given, oldest first (an edit is a later row); the person's
        own answers and relatives' views alike unless `perspective` says which."""
        if perspective is None:
            query, params = _HISTORY, {"person_id": person_id}
        else:
            query, params = _HISTORY_OF, {"person_id": person_id, "perspective": perspective}
        rows = (await self.session.execute(query, params)).all()
        if not rows:
            return []
        key = await self.keys.of(person_id)
        return [self._record(person_id, key, row) for row in rows]

    @staticmethod
    def _record(person_id: int, key: PersonKey, row: Any) -> AnswerRecord:
        def value(blob: bytes) -> Any:
            return key.decrypt_json(blob, ANSWER)

        def companion(blob: bytes) -> Any:
            return key.decrypt_json(blob, WITH)

        return AnswerRecord(
            id=row.id,
            question_id=row.question_id,
            value=DECRYPTED.value(person_id, row.value_enc, value),
            skipped=row.skipped,
            together=row.together,
            role=row.role,
            participant_id=row.participant_id,
            created_at=row.created_at,
            flow_version=row.flow_version,
            perspective=row.perspective,
            companion=DECRYPTED.value(person_id, row.with_enc, companion) if row.with_enc else None,
        )

    async def current_history(self, person_id: int) -> tuple[AnswerRecord, ...]:
        """The whole history, as `answer_history`, read again only when the person's
        answers version moved since this process last saw it (bot/storage/answer_cache.py).
        What is read, and what this unit of work adds, is kept once it commits."""
        version = self._answers_versions.pop(person_id, None)
        if version is None:
            found = await self.session.execute(_ANSWERS_VERSION, {"person_id": person_id})
            version = found.scalar()
        records = None if version is None else HISTORIES.get(person_id, version)
        if records is None:
            records = tuple(await self.answer_history(person_id))
        if version is not None:
            staged(self.session.info)[person_id] = Staged(version, list(records))
        return records

    async def latest_answers(self, person_id: int) -> dict[str, AnswerRecord]:
        """The person's answer to each question (relatives' own views are not answers)."""
        latest: dict[str, AnswerRecord] = {}
        for record in await self.answer_history(person_id, perspective="person"):
            latest[record.question_id] = record
        return latest

    async def answers_and_views(
        self, person_id: int
    ) -> tuple[dict[str, AnswerRecord], dict[int, dict[str, AnswerRecord]]]:
        """In one query: the person's answer to each question, and each relative's latest
        own view per question (by participant id)."""
        latest: dict[str, AnswerRecord] = {}
        views: dict[int, dict[str, AnswerRecord]] = {}
        for record in await self.current_history(person_id):
            if record.perspective == "person":
                latest[record.question_id] = record
            elif record.participant_id is not None:
                views.setdefault(record.participant_id, {})[record.question_id] = record
        return latest, views

    # -- review confirmations ("Klopt nog") ------------------------------------------------------
    async def confirm_answer(
        self, participant: Participant, question_id: str, *, at: datetime | None = None
    ) -> bool:
        """A confirmation row for the person's latest own answer (a relative's newer view is
        not their wish, so never what they confirm); the answer itself is left as it is."""
        query = (
            select(Answer.id)
            .where(
                Answer.person_id == participant.person_id,
                Answer.question_id == question_id,
                Answer.perspective == "person",
            )
            .order_by(Answer.id.desc())
            .limit(1)
        )
        answer_id = (await self.session.execute(query)).scalar_one_or_none()
        if answer_id is None:
            return False
        self.session.add(
            AnswerConfirmation(
                person_id=participant.person_id,
                answer_id=answer_id,
                participant_id=participant.id,
                question_id=question_id,
                created_at=at or utcnow(),
            )
        )
        return True

    async def confirmations(self, person_id: int) -> dict[int, datetime]:
        """The last confirmation of each answer row (by answer id)."""
        query = (
            select(AnswerConfirmation.answer_id, AnswerConfirmation.created_at)
            .where(AnswerConfirmation.person_id == person_id)
            .order_by(AnswerConfirmation.id)
        )
        return {answer_id: at for answer_id, at in (await self.session.execute(query)).all()}

    # -- person ---------------------------------------------------------------------------------
    async def person(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    def person_name(self, person: Person) -> str | None:
        return self.keys.loaded(person.id, person.key).decrypt_text(person.name_enc, NAME)

    async def record_consent(self, person_id: int) -> None:
        person = await self.session.get(Person, person_id)
        if person is not None and person.consented_at is None:
            person.consented_at = utcnow()

    async def set_profile(self, person_id: int, mode: str, name: str | None) -> None:
        person = await self.session.get(Person, person_id)
        if person is not None:
            person.mode = mode
            person.name_enc = (await self.keys.of(person_id)).encrypt_text(name, NAME)

    async def delete_person(self, person_id: int) -> None:
        """Erase the person and everything that hangs off them; nothing is left behind.
        Their key goes first: from then on no copy of their rows can be read."""
        await self.keys.destroy(person_id)
        forget_answers(person_id)
        participant_ids = select(Participant.id).where(Participant.person_id == person_id)
        link_ids = select(ShareLink.id).where(ShareLink.person_id == person_id)
        await self.session.execute(
            delete(OutboxMessage).where(OutboxMessage.person_id == person_id)
        )
        await self.session.execute(
            delete(AnswerConfirmation).where(AnswerConfirmation.person_id == person_id)
        )
        await self.session.execute(delete(LinkAccess).where(LinkAccess.link_id.in_(link_ids)))
        await self.session.execute(delete(ShareLink).where(ShareLink.person_id == person_id))
        await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.participant_id.in_(participant_ids))
        )
        await self.session.execute(
            delete(ConversationRow).where(ConversationRow.participant_id.in_(participant_ids))
        )
        await self.session.execute(delete(Answer).where(Answer.person_id == person_id))
        await self.session.execute(delete(Invite).where(Invite.person_id == person_id))
        await self.session.execute(delete(Participant).where(Participant.person_id == person_id))
        await self.session.execute(delete(Person).where(Person.id == person_id))

    async def _participant(self, participant_id: int) -> Participant:
        participant = await self.session.get(Participant, participant_id)
        if participant is None:
            raise LookupError(f"no participant {participant_id}")
        return participant

    async def _key_of_participant(self, participant_id: int) -> PersonKey:
        participant = await self._participant(participant_id)
        return self.keys.loaded(participant.person_id, participant.person_key)
