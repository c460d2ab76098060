"""Share links: a secret link to the summary for the GP or nurse, made with /delen.

A link is a bearer credential to health data and is treated as one:
- the token is 256 random bits (`secrets.token_urlsafe(32)`); only its SHA-256 is stored,
  so a copy of the database opens nothing; the token is never logged (the public link id
  is, e.g. `link=3f9a1c22b0`);
- it expires after SHARE_LINK_DAYS, can be revoked from /links, and can require a 6-digit
  access code (stored as a keyed HMAC); 5 wrong codes lock the link for good;
- every opening is appended to the access log (time, link id, format, outcome, keyed hash
  of the client address) and the person is told in the chat, at most once per link per
  hour (the throttle lives in the database, so several processes agree on it).

The chat side (`handle_effect`, `export`) runs inside the event's transaction; the web
side (`open`, `try_code`) inside the request's. Both take the session they are given and
never commit; notifications are returned, to be sent after the commit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.dates import clock_time, day
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
from bot.services.outbox import Outbox, stamp
from bot.services.summaries import load_summary
from bot.services.views import conversation_of
from bot.storage.models import LinkAccess, Participant, ShareLink
from bot.storage.repository import Repository
from bot.summary.history import mark_changed
from bot.summary.model import Summary, as_utc

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
LINK_ID_BYTES = 5  # a 10-character public id, for logs and buttons
CODE_DIGITS = 6
MAX_CODE_ATTEMPTS = 5
NOTIFY_EVERY = timedelta(hours=1)
CODE_COOKIE_SECONDS = 3600
VISIT = timedelta(minutes=30)  # openings this close together are one visit


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


def utcnow() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Notification:
    """A chat message this request put in the outbox (sent after the commit, by the process
    that runs the person's channel)."""

    channel: str
    address: str
    text: str


@dataclass(frozen=True)
class Access:
    """What opening a link (or trying its code) came to.

    outcome: ok | code_required | wrong_code | locked | expired | revoked | unknown
    """

    outcome: str
    link_id: str | None = None
    summary: Summary | None = None
    notification: Notification | None = None
    attempts_left: int | None = None
    cookie: tuple[str, str] | None = None  # (name, value) after a correct code
    locale: str = "nl"


class ShareLinks:
    """Creating, listing, revoking and opening share links."""

    def __init__(
        self, runtime: Any, *, clock: Clock | None = None, outbox: Outbox | None = None
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.cipher = runtime.cipher
        self.clock: Clock = clock or utcnow
        # Telling the person goes through the outbox, sent by whichever process runs their
        # channel; the hourly limit counts a notice only once it was actually sent.
        self.outbox = outbox or Outbox(runtime, clock=self.clock)

    # -- the chat side ----------------------------------------------------------------------------
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
            code_hash=self.code_hash(link_id, code) if code else None,
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
        return [link for link in links if self.state(link, now) == "active"]

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
                "state": self.state(link, now),
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

    # -- the web side ---------------------------------------------------------------------------
    def state(self, link: ShareLink, now: datetime | None = None) -> str:
        """active | revoked | locked | expired"""
        if link.revoked_at is not None:
            return "revoked"
        if link.locked_at is not None:
            return "locked"
        if as_utc(link.expires_at) <= as_utc(now or self.clock()):
            return "expired"
        return "active"

    def client_hash(self, address: str) -> str:
        """A keyed hash of the client address: openings can be told apart, not traced back."""
        return self.cipher.lookup("share-client", address)

    def code_hash(self, link_id: str, code: str) -> str:
        return self.cipher.lookup("share-code", link_id, code)

    @staticmethod
    def cookie_name(link_id: str) -> str:
        return f"tijdig_code_{link_id}"

    def _cookie_signature(self, link: ShareLink, expires: int) -> str:
        return self.cipher.lookup("share-cookie", link.id, str(expires), link.code_hash or "")

    def code_cookie(self, link: ShareLink) -> tuple[str, str]:
        """(name, value) of the short-lived cookie that proves the code was given."""
        expires = int(self.clock().timestamp()) + CODE_COOKIE_SECONDS
        return self.cookie_name(link.id), f"{expires}.{self._cookie_signature(link, expires)}"

    def cookie_valid(self, link: ShareLink, value: str | None) -> bool:
        if not value or "." not in value:
            return False
        expires_text, signature = value.split(".", 1)
        if not (expires_text.isascii() and expires_text.isdigit()):  # "²".isdigit() is True
            return False
        if int(expires_text) < self.clock().timestamp():
            return False
        expected = self._cookie_signature(link, int(expires_text))
        return hmac.compare_digest(signature, expected)

    async def find(self, session: AsyncSession, token: str) -> ShareLink | None:
        if not TOKEN_PATTERN.match(token):
            return None
        query = select(ShareLink).where(ShareLink.token_hash == token_hash(token))
        if not self.settings.is_sqlite:
            query = query.with_for_update()  # attempts and the notification throttle
        return (await session.execute(query)).scalar_one_or_none()

    async def record(
        self, session: AsyncSession, link: ShareLink, fmt: str, outcome: str, client: str
    ) -> None:
        session.add(
            LinkAccess(
                link_id=link.id,
                at=self.clock(),
                format=fmt,
                outcome=outcome,
                client_hash=self.client_hash(client),
            )
        )
        log.info("share link access link=%s format=%s outcome=%s", link.id, fmt, outcome)

    async def open(
        self,
        session: AsyncSession,
        token: str,
        *,
        fmt: str,
        client: str,
        cookies: dict[str, str],
        locale: str | None,
    ) -> Access:
        """Open a link in one format: check it, log it, and build the summary when allowed."""
        link = await self.find(session, token)
        if link is None:
            return Access("unknown", locale=locale or self.settings.default_locale)
        locale = locale or link.locale
        now = self.clock()
        state = self.state(link, now)
        if state != "active":
            await self.record(session, link, fmt, state, client)
            return Access(state, link.id, locale=locale)
        if link.code_hash and not self.cookie_valid(link, cookies.get(self.cookie_name(link.id))):
            await self.record(session, link, fmt, "code_required", client)
            return Access("code_required", link.id, locale=locale)
        seen_at = await self.previous_visit(session, link, now)
        await self.record(session, link, fmt, "ok", client)
        link.last_opened_at = now
        notification = None
        if link.notified_at is None or as_utc(link.notified_at) + NOTIFY_EVERY <= as_utc(now):
            notification = await self._opened_notification(session, link, fmt, now)
        summary = mark_changed(await self.summary(session, link.person_id, locale), seen_at)
        return Access("ok", link.id, summary=summary, notification=notification, locale=locale)

    async def previous_visit(
        self, session: AsyncSession, link: ShareLink, now: datetime
    ) -> datetime | None:
        """When this link was last opened on an earlier visit: openings within VISIT of
        now (a reload, the PDF right after the page) belong to this visit."""
        query = select(func.max(LinkAccess.at)).where(
            LinkAccess.link_id == link.id,
            LinkAccess.outcome == "ok",
            LinkAccess.at < now - VISIT,
        )
        return (await session.execute(query)).scalar_one_or_none()

    async def try_code(
        self, session: AsyncSession, token: str, *, code: str, client: str, locale: str | None
    ) -> Access:
        """Check an access code; the fifth wrong one locks the link for good."""
        link = await self.find(session, token)
        if link is None:
            return Access("unknown", locale=locale or self.settings.default_locale)
        locale = locale or link.locale
        state = self.state(link)
        if state != "active":
            await self.record(session, link, "code", state, client)
            return Access(state, link.id, locale=locale)
        if link.code_hash is None:
            return Access("ok", link.id, locale=locale)
        given = "".join(ch for ch in code if ch.isdigit())[:CODE_DIGITS]
        if len(given) == CODE_DIGITS and hmac.compare_digest(
            self.code_hash(link.id, given), link.code_hash
        ):
            link.failed_attempts = 0
            await self.record(session, link, "code", "code_ok", client)
            return Access("ok", link.id, cookie=self.code_cookie(link), locale=locale)
        link.failed_attempts += 1
        if link.failed_attempts >= MAX_CODE_ATTEMPTS:
            link.locked_at = self.clock()
            await self.record(session, link, "code", "locked", client)
            log.warning("share link locked after wrong codes link=%s", link.id)
            notification = await self._locked_notification(session, link)
            return Access("locked", link.id, notification=notification, locale=locale)
        await self.record(session, link, "code", "wrong_code", client)
        return Access(
            "wrong_code",
            link.id,
            attempts_left=MAX_CODE_ATTEMPTS - link.failed_attempts,
            locale=locale,
        )

    async def summary(self, session: AsyncSession, person_id: int, locale: str) -> Summary:
        repo = Repository(session, self.cipher)
        return await load_summary(
            repo,
            self.runtime.flow,
            person_id,
            locale=locale,
            now=self.clock(),
            review_after=self.settings.review_after,
        )

    # -- telling the person ---------------------------------------------------------------------
    async def _recipient(
        self, session: AsyncSession, link: ShareLink
    ) -> tuple[Participant, str] | None:
        """Who made the link (or else the person's own participant) and their language."""
        repo = Repository(session, self.cipher)
        participant = None
        if link.participant_id is not None:
            participant = await session.get(Participant, link.participant_id)
        if participant is None:
            candidates = await repo.participants_of(link.person_id)
            participant = next((p for p in candidates if p.role == "self"), None)
        if participant is None or participant.blocked_at is not None:
            return None
        conversation = conversation_of(
            await repo.load_conversation(participant.id),
            default_locale=self.settings.default_locale,
        )
        return participant, conversation.locale

    async def _opened_notification(
        self, session: AsyncSession, link: ShareLink, fmt: str, now: datetime
    ) -> Notification | None:
        found = await self._recipient(session, link)
        if found is None:
            return None
        participant, locale = found
        tr = i18n.translator(locale)
        text = tr.gettext("Uw samenvatting is geopend op {date} om {time} ({format}).").format(
            date=day(now, locale),
            time=clock_time(now, locale),
            format=tr.gettext(FORMAT_NAMES.get(fmt, fmt)),
        )
        text += "\n" + tr.gettext(
            "Had u dat niet verwacht? Met /links ziet u uw links en kunt u er een intrekken."
        )
        address = Repository(session, self.cipher).address(participant)
        key = f"opened:{link.id}:{stamp(now)}"
        if not await self.outbox.notice(session, participant, text, ref=link.id, key=key):
            return None  # one is still waiting to be sent; it tells the person already
        return Notification(participant.channel, address, text)

    async def _locked_notification(
        self, session: AsyncSession, link: ShareLink
    ) -> Notification | None:
        found = await self._recipient(session, link)
        if found is None:
            return None
        participant, locale = found
        tr = i18n.translator(locale)
        text = tr.gettext(
            "Iemand heeft vijf keer een verkeerde toegangscode ingevuld voor uw link. Daarom "
            "werkt die link niet meer. Wilt u uw samenvatting toch delen? Maak dan een nieuwe "
            "link met /delen code."
        )
        address = Repository(session, self.cipher).address(participant)
        key = f"locked:{link.id}"
        if not await self.outbox.notice(
            session, participant, text, ref=f"{link.id}:locked", key=key
        ):
            return None
        return Notification(participant.channel, address, text)
