"""Relatives and invitations: who is linked to a person, how, and the codes that link them.

Invite codes are bearer secrets: only a keyed hash is stored, so the database alone cannot
be used to join. Every function takes the session of the current unit of work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from bot.dates import as_utc
from bot.storage.crypto import Cipher
from bot.storage.models import (
    Answer,
    ConversationRow,
    Invite,
    Participant,
    ProcessedEvent,
)
from bot.storage.repository import ADDRESS, Repository

RELATIVE_NAME = "participant.name"
CODE_BYTES = 18  # 144 random bits; 24 characters in a link


@dataclass(frozen=True)
class InviteCheck:
    """What a code turned out to be: usable (with its invite) or why not."""

    status: str  # ok | unknown | used | expired | revoked
    invite: Invite | None = None


@dataclass(frozen=True)
class RelativeRecord:
    participant_id: int
    name: str | None
    relation: str | None
    mode: str | None
    may_see: bool
    last_active_at: datetime | None
    channel: str
    address: str


class FamilyRepository:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.session = repo.session
        self.cipher: Cipher = repo.cipher

    # -- invites ------------------------------------------------------------------------------
    def code_hash(self, code: str) -> str:
        return self.cipher.lookup("invite", code.strip())

    async def create_invite(
        self, person_id: int, *, mode: str, may_see: bool, days: int, now: datetime
    ) -> tuple[Invite, str]:
        code = secrets.token_urlsafe(CODE_BYTES)
        invite = Invite(
            id=secrets.token_hex(6),
            person_id=person_id,
            code_hash=self.code_hash(code),
            mode=mode,
            may_see=may_see,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        self.session.add(invite)
        await self.session.flush()
        return invite, code

    async def check_invite(self, code: str, now: datetime) -> InviteCheck:
        query = select(Invite).where(Invite.code_hash == self.code_hash(code))
        invite = (await self.session.execute(query)).scalar_one_or_none()
        if invite is None:
            return InviteCheck("unknown")
        if invite.revoked_at is not None:
            return InviteCheck("revoked", invite)
        if invite.used_at is not None:
            return InviteCheck("used", invite)
        if as_utc(invite.expires_at) <= now:
            return InviteCheck("expired", invite)
        return InviteCheck("ok", invite)

    async def open_invites(self, person_id: int, now: datetime) -> list[Invite]:
        query = (
            select(Invite)
            .where(
                Invite.person_id == person_id,
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
            )
            .order_by(Invite.created_at)
        )
        return [
            i for i in (await self.session.execute(query)).scalars() if as_utc(i.expires_at) > now
        ]

    async def revoke_invite(self, person_id: int, invite_id: str, now: datetime) -> bool:
        invite = await self.session.get(Invite, invite_id)
        if invite is None or invite.person_id != person_id or invite.used_at is not None:
            return False
        invite.revoked_at = invite.revoked_at or now
        return True

    # -- joining ------------------------------------------------------------------------------
    async def join(
        self, invite: Invite, channel: str, user_id: str, address: str, now: datetime
    ) -> Participant:
        """The relative consented: link this chat user to the person, and make it active."""
        lookup = self.repo.lookup_key(channel, user_id)
        await self.session.execute(
            update(Participant)
            .where(Participant.channel == channel, Participant.lookup_key == lookup)
            .values(active=False)
        )
        key = await self.repo.keys.of(invite.person_id)
        participant = Participant(
            person_id=invite.person_id,
            channel=channel,
            lookup_key=lookup,
            address_enc=key.encrypt(address.encode(), ADDRESS),
            role="relative",
            active=True,
            mode=invite.mode,
            may_see=invite.may_see,
            last_active_at=now,
        )
        self.session.add(participant)
        await self.session.flush()
        await self.session.refresh(participant, ["person_key"])
        invite.used_at, invite.used_by = now, participant.id
        return participant

    async def switch_to(self, channel: str, user_id: str, participant_id: int) -> bool:
        lookup = self.repo.lookup_key(channel, user_id)
        mine = {p.id for p in await self.repo.participants_of_user(channel, user_id)}
        if participant_id not in mine:
            return False
        await self.session.execute(
            update(Participant)
            .where(Participant.channel == channel, Participant.lookup_key == lookup)
            .values(active=Participant.id == participant_id)
        )
        return True

    def _key(self, participant: Participant) -> Any:
        return self.repo.keys.loaded(participant.person_id, participant.person_key)

    def set_relative(
        self, participant: Participant, name: str | None, relation: str | None
    ) -> None:
        """A relative's name is sealed with the person's key: erasing the person erases it."""
        participant.name_enc = self._key(participant).encrypt_text(name, RELATIVE_NAME)
        participant.relation = relation

    def relative_name(self, participant: Participant) -> str | None:
        return self._key(participant).decrypt_text(participant.name_enc, RELATIVE_NAME)

    # -- relatives ------------------------------------------------------------------------------
    async def relatives(self, person_id: int) -> list[RelativeRecord]:
        query = (
            select(Participant)
            .where(Participant.person_id == person_id, Participant.role == "relative")
            .order_by(Participant.id)
        )
        return [
            RelativeRecord(
                participant_id=p.id,
                name=self.relative_name(p),
                relation=p.relation,
                mode=p.mode,
                may_see=p.may_see,
                last_active_at=p.last_active_at,
                channel=p.channel,
                address=self.repo.address(p),
            )
            for p in (await self.session.execute(query)).scalars()
        ]

    async def remove_participant(self, participant_id: int, *, keep_answers: bool) -> None:
        """Unlink a relative. Their answers stay (without a name) or go, as chosen."""
        if not keep_answers:
            await self.session.execute(
                delete(Answer).where(Answer.participant_id == participant_id)
            )
        await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.participant_id == participant_id)
        )
        await self.session.execute(
            delete(ConversationRow).where(ConversationRow.participant_id == participant_id)
        )
        await self.session.execute(delete(Participant).where(Participant.id == participant_id))
