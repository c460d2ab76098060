"""Share links, the web side: a professional opens a link (`open`), gives its access code
(`try_code`), and the person is told in the chat. Making and managing links is the chat
side: `bot.services.sharing`.

Both run inside the request's transaction, on the session they are given, and never
commit; notifications are returned, to be sent after the commit. Every opening and every
code tried is appended to the access log; the person is told of an opening at most once
per link per hour (the throttle lives in the database, so several processes agree on it).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.dates import clock_time, day
from bot.services.outbox import Clock, Notification, Outbox, stamp, utcnow
from bot.services.sharing import CODE_DIGITS, FORMAT_NAMES, code_hash, link_state, token_hash
from bot.services.summaries import load_summary
from bot.services.views import conversation_of
from bot.storage.models import LinkAccess, Participant, ShareLink
from bot.storage.repository import Repository
from bot.summary.history import mark_changed
from bot.summary.model import Summary, as_utc

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
MAX_CODE_ATTEMPTS = 5
NOTIFY_EVERY = timedelta(hours=1)
CODE_COOKIE_SECONDS = 3600
VISIT = timedelta(minutes=30)  # openings this close together are one visit


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


class LinkOpening:
    """Opening share links, checking their codes, and telling the person."""

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

    def client_hash(self, address: str) -> str:
        """A keyed hash of the client address: openings can be told apart, not traced back."""
        return self.cipher.lookup("share-client", address)

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
        state = link_state(link, now)
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
        state = link_state(link, self.clock())
        if state != "active":
            await self.record(session, link, "code", state, client)
            return Access(state, link.id, locale=locale)
        if link.code_hash is None:
            return Access("ok", link.id, locale=locale)
        given = "".join(ch for ch in code if ch.isdigit())[:CODE_DIGITS]
        if len(given) == CODE_DIGITS and hmac.compare_digest(
            code_hash(self.cipher, link.id, given), link.code_hash
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
        def text_of(tr: i18n.Translator, locale: str) -> str:
            text = tr.gettext("Uw samenvatting is geopend op {date} om {time} ({format}).")
            return (
                text.format(
                    date=day(now, locale),
                    time=clock_time(now, locale),
                    format=tr.gettext(FORMAT_NAMES.get(fmt, fmt)),
                )
                + "\n"
                + tr.gettext(
                    "Had u dat niet verwacht? Met /links ziet u uw links en kunt u er een "
                    "intrekken."
                )
            )

        return await self._tell(
            session, link, text_of, ref=link.id, key=f"opened:{link.id}:{stamp(now)}"
        )

    async def _locked_notification(
        self, session: AsyncSession, link: ShareLink
    ) -> Notification | None:
        def text_of(tr: i18n.Translator, locale: str) -> str:
            return tr.gettext(
                "Iemand heeft vijf keer een verkeerde toegangscode ingevuld voor uw link. Daarom "
                "werkt die link niet meer. Wilt u uw samenvatting toch delen? Maak dan een "
                "nieuwe link met /delen code."
            )

        return await self._tell(
            session, link, text_of, ref=f"{link.id}:locked", key=f"locked:{link.id}"
        )

    async def _tell(
        self,
        session: AsyncSession,
        link: ShareLink,
        text_of: Callable[[i18n.Translator, str], str],
        *,
        ref: str,
        key: str,
    ) -> Notification | None:
        """A message, in their language, for whoever made the link, put in the outbox;
        None when nobody can be told or one for `ref` is still waiting (it tells them)."""
        found = await self._recipient(session, link)
        if found is None:
            return None
        participant, locale = found
        text = text_of(i18n.translator(locale), locale)
        address = Repository(session, self.cipher).address(participant)
        if not await self.outbox.notice(session, participant, text, ref=ref, key=key):
            return None
        return Notification(participant.channel, address, text)
