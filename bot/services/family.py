"""Family participation, end to end: invitations and joining, a relative's place in the
conversation, /wissel and /familie, and telling the person when a relative adds something.

The engine decides what is said; this module fetches and writes what family screens need,
inside the caller's transaction. Messages to other people are returned as notifications,
which the conversation service sends only after the commit.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import timedelta
from typing import Any

from bot.dates import as_utc
from bot.engine import Event, Start, Text
from bot.engine.events import Choice
from bot.engine.relations import who
from bot.engine.replies import (
    CreateInvite,
    InviteReply,
    ListFamily,
    ListRoles,
    Notice,
    RemoveRelative,
    Reply,
    RevokeInvite,
    SetRelative,
)
from bot.engine.screens import family as family_screen
from bot.engine.screens import switch as switch_screen
from bot.engine.state import Invitation, RelativeView
from bot.i18n import translator
from bot.services.outbox import Notification
from bot.services.views import conversation_of, own_participant, role_of
from bot.storage.family import FamilyRepository
from bot.storage.models import Invite, Participant
from bot.storage.repository import AnswerRecord, Repository

JOIN_KEY = "join."
WRONG_CODES_ALLOWED = 5  # per chat, within WRONG_CODE_WINDOW
WRONG_CODE_WINDOW = 600.0  # seconds
NOTIFY_EVERY = timedelta(hours=1)  # at most one "a relative added something" per relative


def presented_code(event: Event) -> str | None:
    """An invitation code: `/start <code>` (a deep link) or a press on a join screen."""
    if isinstance(event, Start) and event.payload:
        return event.payload.strip()[:64] or None
    if isinstance(event, Choice) and event.question_id.startswith(JOIN_KEY):
        return event.question_id.removeprefix(JOIN_KEY)[:64] or None
    return None


class WrongCodeLimiter:
    """Repeated wrong codes from one chat are slowed down (kept in memory, per process)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, who_key: str) -> bool:
        return len(self._recent(who_key)) >= WRONG_CODES_ALLOWED

    def failed(self, who_key: str) -> None:
        if len(self._failures) > 10_000:
            self._failures.clear()
        self._recent(who_key).append(time.monotonic())

    def _recent(self, who_key: str) -> deque[float]:
        entries = self._failures.setdefault(who_key, deque())
        while entries and entries[0] < time.monotonic() - WRONG_CODE_WINDOW:
            entries.popleft()
        return entries


class PendingJoins:
    """The code of a join screen just shown, per chat, kept in memory only (nothing is in
    the database before the relative's yes), so a typed "ja" still answers that screen."""

    TTL = 3600.0

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, float]] = {}

    def remember(self, who_key: str, code: str) -> None:
        if len(self._codes) > 10_000:
            self._codes.clear()
        self._codes[who_key] = (code, time.monotonic())

    def code(self, who_key: str) -> str | None:
        found = self._codes.get(who_key)
        if found is None or found[1] < time.monotonic() - self.TTL:
            self._codes.pop(who_key, None)
            return None
        return found[0]

    def forget(self, who_key: str) -> None:
        self._codes.pop(who_key, None)


class FamilyService:
    def __init__(self, runtime: Any, clock: Any, outbox: Any) -> None:
        self.runtime = runtime
        self.clock = clock
        self.outbox = outbox  # "a relative added something" goes out as an outbox notice
        self.limiter = WrongCodeLimiter()
        self.pending = PendingJoins()

    # -- arriving with a code ------------------------------------------------------------------
    async def invitation(
        self, repo: Repository, channel: str, event: Event
    ) -> tuple[Invitation | None, Invite | None]:
        """The invitation an event presents, checked; with the invite only when usable."""
        key = repo.lookup_key(channel, event.user_id)
        code = presented_code(event)
        if code is None and isinstance(event, Text):
            code = self.pending.code(key)  # typed text answers the join screen shown
        if code is None:
            return None, None
        if self.limiter.blocked(key):
            return Invitation(code=code, status="slow"), None
        check = await FamilyRepository(repo).check_invite(code, self.clock())
        if check.status != "ok" or check.invite is None:
            self.pending.forget(key)
            self.limiter.failed(key)
            return Invitation(code=code, status=check.status), None
        person = await repo.person(check.invite.person_id)
        subject = repo.person_name(person) if person else None
        mine = {p.person_id for p in await repo.participants_of_user(channel, event.user_id)}
        if check.invite.person_id in mine:  # already linked to this person
            self.pending.forget(key)
            return Invitation(code=code, status="ok"), None
        self.pending.remember(key, code)
        return (
            Invitation(code=code, status="ok", subject=subject, mode=check.invite.mode),
            check.invite,
        )

    async def join(
        self, repo: Repository, invite: Invite, channel: str, event: Event
    ) -> Participant:
        family = FamilyRepository(repo)
        return await family.join(invite, channel, event.user_id, event.chat_id, self.clock())

    # -- what a turn needs ---------------------------------------------------------------------
    async def subject(self, repo: Repository, participant: Participant) -> str | None:
        person = await repo.person(participant.person_id)
        return repo.person_name(person) if person else None

    async def views_for_person(
        self, repo: Repository, views: dict[int, dict[str, AnswerRecord]], locale: str
    ) -> dict[str, tuple[RelativeView, ...]]:
        """Relatives' own views by question, labelled with who gave them."""
        if not views:
            return {}
        tr = translator(locale)
        names = {}
        for pid in views:
            participant = await repo.session.get(Participant, pid)
            if participant is not None:
                name = FamilyRepository(repo).relative_name(participant)
                names[pid] = who(name, participant.relation, tr)
        by_question: dict[str, list[RelativeView]] = {}
        for pid, answers in views.items():
            for question_id, record in answers.items():
                if not record.skipped and pid in names:
                    view = RelativeView(pid, names[pid], dict(record.value))
                    by_question.setdefault(question_id, []).append(view)
        return {qid: tuple(items) for qid, items in by_question.items()}

    # -- effects -------------------------------------------------------------------------------
    async def carry_out(
        self,
        repo: Repository,
        participant: Participant,
        item: Any,
        *,
        channel: str,
        user_id: str,
        locale: str,
        notifications: list[Notification],
    ) -> list[Reply]:
        family = FamilyRepository(repo)
        tr = translator(locale)
        now = self.clock()
        if isinstance(item, CreateInvite):
            days = self.runtime.settings.invite_days
            _invite, code = await family.create_invite(
                participant.person_id, mode=item.mode, may_see=item.may_see, days=days, now=now
            )
            text = tr.gettext(
                "Stuur deze uitnodiging door naar wie u wilt laten meedoen. Hij werkt één keer "
                "en {days} dagen lang. Met /familie trekt u hem in."
            ).format(days=days)
            return [InviteReply(code=code, days=days, text=text)]
        if isinstance(item, SetRelative):
            family.set_relative(participant, item.name, item.relation)
            return []
        if isinstance(item, ListRoles):
            return switch_screen.render(tr, await self.roles(repo, channel, user_id))
        if isinstance(item, ListFamily):
            relatives = [
                family_screen.RelativeLine(
                    r.participant_id, r.name, r.relation, r.mode, r.may_see, r.last_active_at
                )
                for r in await family.relatives(participant.person_id)
            ]
            invites = [
                family_screen.InviteLine(i.id, i.mode, i.expires_at)
                for i in await family.open_invites(participant.person_id, now)
            ]
            return family_screen.render(tr, locale, relatives, invites)
        if isinstance(item, RemoveRelative):
            return await self.remove(repo, participant, item, tr, notifications)
        if isinstance(item, RevokeInvite):
            if await family.revoke_invite(participant.person_id, item.invite_id, now):
                return [Notice(tr.gettext("De uitnodiging is ingetrokken. Hij werkt niet meer."))]
            return [Notice(tr.gettext("Die uitnodiging werkte al niet meer."))]
        raise ValueError(f"not a family effect: {type(item).__name__}")

    async def roles(
        self, repo: Repository, channel: str, user_id: str
    ) -> list[switch_screen.RoleView]:
        result = []
        for p in await repo.participants_of_user(channel, user_id):
            own = role_of(p) == "self"
            subject = None if own else await self.subject(repo, p)
            result.append(switch_screen.RoleView(p.id, own, subject, p.active))
        if result and not any(r.active for r in result):
            first = result[0]
            result[0] = switch_screen.RoleView(first.participant_id, first.own, first.subject, True)
        return result

    async def remove(
        self,
        repo: Repository,
        participant: Participant,
        item: RemoveRelative,
        tr: Any,
        notifications: list[Notification],
    ) -> list[Reply]:
        relative = await repo.session.get(Participant, item.participant_id)
        if (
            relative is None
            or relative.person_id != participant.person_id
            or relative is participant
        ):
            return [Notice(tr.gettext("Die persoon doet al niet meer mee."))]
        notifications.append(await self.unlinked_notice(repo, relative, kept=item.keep_answers))
        await FamilyRepository(repo).remove_participant(relative.id, keep_answers=item.keep_answers)
        if item.keep_answers:
            return [Notice(tr.gettext("Verwijderd. Wat die persoon invulde, blijft staan."))]
        return [Notice(tr.gettext("Verwijderd, met alles wat die persoon invulde."))]

    async def unlinked_notice(
        self, repo: Repository, relative: Participant, *, kept: bool = False
    ) -> Notification:
        """Told to a relative who was removed; `kept`: what they filled in stays, nameless."""
        locale = await self.locale_of(repo, relative)
        tr = translator(locale)
        subject = await self.subject(repo, relative) or tr.gettext("iemand")
        if kept:
            text = tr.gettext(
                "U doet niet meer mee met de wensen van {name}. Wat u invulde, blijft staan, "
                "zonder uw naam."
            )
        else:
            text = tr.gettext(
                "U doet niet meer mee met de wensen van {name}. Er staat niets meer van u bij."
            )
        return Notification(relative.channel, repo.address(relative), text.format(name=subject))

    async def locale_of(self, repo: Repository, participant: Participant) -> str:
        record = await repo.load_conversation(participant.id)
        default = self.runtime.settings.default_locale
        return conversation_of(record, default_locale=default).locale

    # -- telling others ------------------------------------------------------------------------
    async def relatives_told_of_erase(self, repo: Repository, person_id: int) -> list[Notification]:
        """Before the person is erased: one sentence to each relative."""
        result = []
        for p in await repo.participants_of(person_id):
            if role_of(p) != "self" and p.blocked_at is None:
                result.append(await self.unlinked_notice(repo, p))
        return result

    async def person_told_of_contribution(self, repo: Repository, relative: Participant) -> None:
        """A relative added something: the person hears it (through the outbox, so from
        whichever process runs their channel), at most once an hour."""
        now = self.clock()
        if relative.notified_at is not None and as_utc(relative.notified_at) > now - NOTIFY_EVERY:
            return
        person = await own_participant(repo, relative.person_id)
        if person is None or person.blocked_at is not None:
            return
        relative.notified_at = now
        locale = await self.locale_of(repo, person)
        tr = translator(locale)
        name = who(FamilyRepository(repo).relative_name(relative), relative.relation, tr)
        if relative.mode == "view":
            text = tr.gettext(
                "{who} heeft een eigen kijk gegeven op uw wensen. Open een onderwerp om te zien "
                "wat {who} denkt, en neem het over als u wilt."
            )
        else:
            text = tr.gettext(
                "{who} heeft iets ingevuld bij uw wensen. Met /samenvatting ziet u alles."
            )
        key = f"relative:{relative.id}:{now.isoformat()}"
        await self.outbox.notice(
            repo.session, person, text.format(who=name), ref=f"relative:{relative.id}", key=key
        )
