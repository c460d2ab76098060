"""Reading and writing a person's data, decrypting on the way out and encrypting on the way in.

Every function takes the session of the current unit of work; none commits. The service
decides where a transaction begins and ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.crypto import Cipher
from bot.storage.models import (
    Answer,
    AnswerConfirmation,
    ConversationRow,
    LinkAccess,
    OutboxMessage,
    Participant,
    Person,
    ProcessedEvent,
    ShareLink,
    utcnow,
)

ANSWER = "answer.value"
NAME = "person.name"
ADDRESS = "participant.address"
CONTEXT = "conversation.context"


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


@dataclass(frozen=True)
class ConversationRecord:
    """Where a participant is: the state in clear (for operations), the rest decrypted."""

    state: str
    context: dict[str, Any]


class Repository:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        # The session's identity map holds rows weakly; keeping the conversation rows we
        # loaded saves a second SELECT when the same unit of work saves them.
        self._conversations: dict[int, ConversationRow] = {}

    # -- participants -------------------------------------------------------------------------
    def lookup_key(self, channel: str, user_id: str) -> str:
        return self.cipher.lookup(channel, user_id)

    async def find_participant(
        self, channel: str, user_id: str, *, lock: bool = False
    ) -> Participant | None:
        query = select(Participant).where(
            Participant.channel == channel,
            Participant.lookup_key == self.lookup_key(channel, user_id),
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def create_participant(self, channel: str, user_id: str, address: str) -> Participant:
        person = Person()
        self.session.add(person)
        await self.session.flush()
        participant = Participant(
            person_id=person.id,
            channel=channel,
            lookup_key=self.lookup_key(channel, user_id),
            address_enc=self.cipher.encrypt(address.encode(), ADDRESS),
            role="self",
        )
        self.session.add(participant)
        await self.session.flush()
        return participant

    def address(self, participant: Participant) -> str:
        return self.cipher.decrypt(participant.address_enc, ADDRESS).decode()

    async def participants_of(self, person_id: int) -> list[Participant]:
        query = select(Participant).where(Participant.person_id == person_id)
        return list((await self.session.execute(query)).scalars())

    async def mark_blocked(self, participant_id: int) -> None:
        participant = await self.session.get(Participant, participant_id)
        if participant is not None:
            participant.blocked_at = utcnow()

    # -- conversation -------------------------------------------------------------------------
    async def load_conversation(self, participant_id: int) -> ConversationRecord | None:
        row = await self.session.get(ConversationRow, participant_id)
        if row is None:
            return None
        self._conversations[participant_id] = row
        return ConversationRecord(row.state, self.cipher.decrypt_json(row.context_enc, CONTEXT))

    async def save_conversation(
        self, participant_id: int, state: str, context: dict[str, Any]
    ) -> None:
        blob = self.cipher.encrypt_json(context, CONTEXT)
        row = self._conversations.get(participant_id) or await self.session.get(
            ConversationRow, participant_id
        )
        if row is None:
            self.session.add(
                ConversationRow(participant_id=participant_id, state=state, context_enc=blob)
            )
        else:
            row.state, row.context_enc = state, blob

    # -- events ---------------------------------------------------------------------------------
    async def seen_event(self, participant_id: int, event_id: str) -> bool:
        query = select(ProcessedEvent.id).where(
            ProcessedEvent.participant_id == participant_id, ProcessedEvent.event_id == event_id
        )
        return (await self.session.execute(query)).first() is not None

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
        at: datetime | None = None,
    ) -> None:
        self.session.add(
            Answer(
                created_at=at or utcnow(),
                person_id=participant.person_id,
                participant_id=participant.id,
                question_id=question_id,
                flow_version=flow_version,
                value_enc=self.cipher.encrypt_json(value, ANSWER),
                skipped=skipped,
                together=together,
                role=participant.role,
            )
        )

    async def answer_history(self, person_id: int) -> list[AnswerRecord]:
        """Every answer ever given, oldest first (an edit is a later row)."""
        query = select(Answer).where(Answer.person_id == person_id).order_by(Answer.id)
        rows = (await self.session.execute(query)).scalars()
        return [
            AnswerRecord(
                id=row.id,
                question_id=row.question_id,
                value=self.cipher.decrypt_json(row.value_enc, ANSWER),
                skipped=row.skipped,
                together=row.together,
                role=row.role,
                participant_id=row.participant_id,
                created_at=row.created_at,
                flow_version=row.flow_version,
            )
            for row in rows
        ]

    async def latest_answers(self, person_id: int) -> dict[str, AnswerRecord]:
        latest: dict[str, AnswerRecord] = {}
        for record in await self.answer_history(person_id):
            latest[record.question_id] = record
        return latest

    # -- review confirmations ("Klopt nog") ------------------------------------------------------
    async def confirm_answer(
        self, participant: Participant, question_id: str, *, at: datetime | None = None
    ) -> bool:
        """A confirmation row for the latest answer; the answer itself is left as it is."""
        query = (
            select(Answer.id)
            .where(Answer.person_id == participant.person_id, Answer.question_id == question_id)
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
        return self.cipher.decrypt_text(person.name_enc, NAME)

    async def record_consent(self, person_id: int) -> None:
        person = await self.session.get(Person, person_id)
        if person is not None and person.consented_at is None:
            person.consented_at = utcnow()

    async def set_profile(self, person_id: int, mode: str, name: str | None) -> None:
        person = await self.session.get(Person, person_id)
        if person is not None:
            person.mode = mode
            person.name_enc = self.cipher.encrypt_text(name, NAME)

    async def delete_person(self, person_id: int) -> None:
        """Erase the person and everything that hangs off them; nothing is left behind."""
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
        await self.session.execute(delete(Participant).where(Participant.person_id == person_id))
        await self.session.execute(delete(Person).where(Person.id == person_id))
