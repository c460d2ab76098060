"""Share links, the chat side: /delen makes a secret link to the summary for the GP or
nurse, /links lists them with their openings and revokes them, /mijngegevens exports them.
Opening a link is the web side: `bot.services.link_opening`.

A link is a bearer credential to health data and is treated as one:
- the token is 256 random bits (`secrets.token_urlsafe(32)`); only its SHA-256 is stored,
  so a copy of the database opens nothing; the token is never logged (the public link id
  is, e.g. `link=3f9a1c22b0`);
- it expires after SHARE_LINK_DAYS, can be revoked from /links, and can require a 6-digit
  access code (stored as a keyed HMAC); 5 wrong codes lock the link for good;
- every opening is appended to the access log (time, link id, format, outcome, keyed hash
  of the client address) and the person is told in the chat, at most once per link per
  hour (the throttle lives in the database, so several processes agree on it).

Everything here runs inside the event's transaction, on the session it is given, and
never commits.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.dates import day
from bot.engine import Conversation
from bot.engine.replies import (
    CreateShareLink,
    LinkReply,
    Notice,
    Reply,
    RevokeShareLink,
)
from bot.engine.screens.links import LinkView
from bot.i18n import N_
from bot.services.outbox import Clock, utcnow
from bot.storage.models import LinkAccess, Participant, ShareLink
from bot.storage.repository import Repository
from bot.summary.model import as_utc

log = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
LINK_ID_BYTES = 5  # a 10-character public id, for logs and buttons
CODE_DIGITS = 6


FORMAT_NAMES = {
    "html": N_("webpagina"),
    "pdf": "PDF",
    "fhir": "FHIR",
    "txt": N_("tekst"),
    "code": N_("toegangscode"),
}
OUTCOME_NAMES = {
    "ok": N_("geopend"),
    "code_required": N_("code gevraagd"),
    "code_ok": N_("juiste code"),
    "wrong_code": N_("verkeerde code"),
    "locked": N_("geblokkeerd na te veel verkeerde codes"),
    "expired": N_("verlopen"),
    "revoked": N_("ingetrokken"),
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_state(link: ShareLink, now: datetime) -> str:
    """active | revoked | locked | expired"""
    if link.revoked_at is not None:
        return "revoked"
    if link.locked_at is not None:
        return "locked"
    if as_utc(link.expires_at) <= as_utc(now):
        return "expired"
    return "active"


def code_hash(cipher: Any, link_id: str, code: str) -> str:
    """The stored form of an access code: a keyed HMAC (the key is the data key's)."""
    return str(cipher.lookup("share-code", link_id, code))


class ShareLinks:
    """Creating, listing, revoking and exporting share links."""

    def __init__(self, runtime: Any, *, clock: Clock | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.cipher = runtime.cipher
        self.clock: Clock = clock or utcnow

    async def handle_effect(
        self, repo: Repository, participant: Participant, conversation: Conversation, effect: Any
    ) -> list[Reply]:
        tr = i18n.translator(conversation.locale)
        if isinstance(effect, CreateShareLink):
            return await self._create_replies(repo, participant, conversation, effect.with_code)
        if isinstance(effect, RevokeShareLink):
            if await self.revoke(repo.session, participant.person_id, effect.link_id):
                return [
                    Notice(
                        tr.gettext(
                            "De link is ingetrokken. Wie hem nu opent, leest dat hij niet meer "
                            "werkt."
                        )
                    )
                ]
            return [Notice(tr.gettext("Die link werkte al niet meer."))]
        return []

    async def create(
        self, session: AsyncSession, participant: Participant, *, with_code: bool
    ) -> tuple[ShareLink, str, str | None]:
        """A new link for the participant's person: (row, token, code). Token and code are
        shown once and never stored."""
        now = self.clock()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link_id = secrets.token_hex(LINK_ID_BYTES)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}" if with_code else None
        link = ShareLink(
            id=link_id,
            person_id=participant.person_id,
            participant_id=participant.id,
            token_hash=token_hash(token),
            code_hash=code_hash(self.cipher, link_id, code) if code else None,
            failed_attempts=0,
            locale=self.settings.default_locale,
            created_at=now,
            expires_at=now + timedelta(days=self.settings.share_link_days),
        )
        session.add(link)
        await session.flush()
        log.info("share link created link=%s with_code=%s", link_id, bool(code))
        return link, token, code

    def url(self, token: str) -> str:
        return f"{self.settings.public_base_url}/s/{token}"

    async def _create_replies(
        self,
        repo: Repository,
        participant: Participant,
        conversation: Conversation,
        with_code: bool,
    ) -> list[Reply]:
        tr = i18n.translator(conversation.locale)
        link, token, code = await self.create(repo.session, participant, with_code=with_code)
        until = day(link.expires_at, conversation.locale)
        text = tr.gettext(
            "Hier is uw link voor uw huisarts of verpleegkundige. De link werkt tot {date}.\n\n"
            "Iedereen die deze link heeft, kan uw samenvatting lezen. Geef hem alleen aan uw "
            "zorgverlener. Met /links ziet u wanneer hij geopend is, en kunt u hem intrekken."
        ).format(date=until)
        replies: list[Reply] = [LinkReply(url=self.url(token), text=text)]
        if code:
            replies.append(
                Notice(
                    tr.gettext(
                        "De toegangscode is: {code}\n\n"
                        "Zonder deze code gaat de link niet open. Vertel de code aan uw "
                        "zorgverlener, bijvoorbeeld aan de telefoon. Stuur hem niet mee met de "
                        "link. Ik laat de code maar één keer zien."
                    ).format(code=f"{code[:3]} {code[3:]}")
                )
            )
        else:
            replies.append(
                Notice(
                    tr.gettext(
                        "Wilt u de link extra beveiligen? Typ dan /delen code. U krijgt dan ook "
                        "een code om apart door te geven."
                    )
                )
            )
        return replies

    async def active(self, session: AsyncSession, person_id: int) -> list[ShareLink]:
        now = self.clock()
        query = (
            select(ShareLink)
            .where(ShareLink.person_id == person_id)
            .order_by(ShareLink.created_at, ShareLink.id)
        )
        links = (await session.execute(query)).scalars()
        return [link for link in links if link_state(link, now) == "active"]

    async def access_log(
        self, session: AsyncSession, link_ids: Sequence[str]
    ) -> dict[str, list[LinkAccess]]:
        """Every logged attempt per link, newest first."""
        result: dict[str, list[LinkAccess]] = {link_id: [] for link_id in link_ids}
        if not link_ids:
            return result
        query = (
            select(LinkAccess)
            .where(LinkAccess.link_id.in_(list(link_ids)))
            .order_by(LinkAccess.at.desc(), LinkAccess.id.desc())
        )
        for row in (await session.execute(query)).scalars():
            result[row.link_id].append(row)
        return result

    async def link_views(
        self, session: AsyncSession, person_id: int, tr: i18n.Translator
    ) -> list[LinkView]:
        """The person's working links with their openings, for the /links screen."""
        links = await self.active(session, person_id)
        history = await self.access_log(session, [link.id for link in links])
        return [
            LinkView(
                id=link.id,
                created_at=link.created_at,
                expires_at=link.expires_at,
                has_code=link.code_hash is not None,
                last_opened_at=link.last_opened_at,
                openings=[(entry.at, self.describe(entry, tr)) for entry in history[link.id]],
            )
            for link in links
        ]

    @staticmethod
    def describe(entry: LinkAccess, tr: i18n.Translator) -> str:
        what = tr.gettext(FORMAT_NAMES.get(entry.format, entry.format))
        outcome = tr.gettext(OUTCOME_NAMES.get(entry.outcome, entry.outcome))
        return f"{what} {outcome}" if entry.outcome == "ok" else f"{outcome} ({what})"

    async def revoke(self, session: AsyncSession, person_id: int, link_id: str) -> bool:
        link = await session.get(ShareLink, link_id)
        if link is None or link.person_id != person_id or link.revoked_at is not None:
            return False
        link.revoked_at = self.clock()
        log.info("share link revoked link=%s", link_id)
        return True

    async def export(self, session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
        """Every link of the person with its access log, for /mijngegevens (no secrets)."""
        now = self.clock()
        query = (
            select(ShareLink)
            .where(ShareLink.person_id == person_id)
            .order_by(ShareLink.created_at, ShareLink.id)
        )
        links = list((await session.execute(query)).scalars())
        history = await self.access_log(session, [link.id for link in links])
        return [
            {
                "id": link.id,
                "state": link_state(link, now),
                "created_at": as_utc(link.created_at),
                "expires_at": as_utc(link.expires_at),
                "revoked_at": link.revoked_at and as_utc(link.revoked_at),
                "locked_at": link.locked_at and as_utc(link.locked_at),
                "with_access_code": link.code_hash is not None,
                "language": link.locale,
                "openings": [
                    {"at": as_utc(entry.at), "format": entry.format, "outcome": entry.outcome}
                    for entry in reversed(history[link.id])
                ],
            }
            for link in links
        ]
