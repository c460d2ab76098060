"""Handle one event end to end: load, decide (engine), write in one transaction, then reply.

This is the only place where a conversation's state and its answers are written, and it
writes them together: the transaction commits before the caller sends a single reply, so
anything the person saw acknowledged is on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.engine import AnswerView, Choice, Command, Conversation, Event
from bot.engine.replies import (
    ConfirmAnswer,
    CreateInvite,
    CreateShareLink,
    DeleteEverything,
    Effect,
    ExportData,
    JoinFamily,
    ListFamily,
    ListRoles,
    ListShareLinks,
    Notice,
    RecordAnswer,
    RecordConsent,
    RemoveRelative,
    Reply,
    ReviewDone,
    RevokeInvite,
    RevokeShareLink,
    SetProfile,
    SetRelative,
    ShowSummary,
    SwitchTo,
)
from bot.engine.screens import links as links_screen
from bot.engine.state import TurnContext
from bot.i18n import negotiate, translator
from bot.services.export import export_document
from bot.services.family import FamilyService
from bot.services.link_opening import LinkOpening
from bot.services.outbox import Clock, Notification, Outbox
from bot.services.runtime import Runtime
from bot.services.sharing import ShareLinks
from bot.services.summaries import chat_summary_text
from bot.services.views import answer_views, conversation_of, conversation_record, role_of
from bot.storage.family import FamilyRepository
from bot.storage.models import Participant
from bot.storage.outbox import utc
from bot.storage.repository import Repository

log = logging.getLogger(__name__)
# A pause this long ends a sitting: who sat with the person then is not assumed after it.
SITTING_PAUSE = timedelta(hours=3)


@dataclass
class Handled:
    """What the channel needs to show: replies in order, plus how to treat a button press."""

    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)  # what the engine asked for (done)
    echo: str | None = None
    stale: bool = False
    duplicate: bool = False
    locale: str = "nl"
    # Messages for other people (a relative, the person), sent after the commit.
    notifications: list[Notification] = field(default_factory=list)


def stale_reply(event: Event, locale: str) -> Handled:
    """A message that overtook an earlier one was already answered; the earlier one is not
    used, and the person is told kindly how to change an answer if they meant it. A button
    press is passed over quietly (a double tap: the first press already counted)."""
    if isinstance(event, Choice):
        return Handled(stale=True, locale=locale)
    tr = translator(locale)
    text = tr.gettext(
        "Dit bericht kwam pas aan na uw volgende bericht, dus ik heb het niet gebruikt. "
        "Wilt u een antwoord veranderen? Kies dan 'Terug' bij de vraag."
    )
    return Handled(replies=[Notice(text)], stale=True, locale=locale)


def answers_after(views: dict[str, AnswerView], effects: list[Effect]) -> dict[str, AnswerView]:
    """The latest answers once this event's answers are written."""
    after = dict(views)
    for effect in effects:
        if isinstance(effect, RecordAnswer):
            after[effect.question_id] = AnswerView(effect.value, effect.skipped)
    return after


class ConversationService:
    def __init__(self, runtime: Runtime, *, clock: Clock | None = None) -> None:
        self.runtime = runtime
        self.outbox = Outbox(runtime, clock=clock)  # reminders, review prompts, notices
        self.share_links = ShareLinks(runtime, clock=self.outbox.clock)  # the chat side
        self.link_opening = LinkOpening(  # the web side: opening links, telling the person
            runtime, clock=self.outbox.clock, outbox=self.outbox
        )
        self.family = FamilyService(runtime, self.outbox.clock, self.outbox)

    async def handle(self, channel: str, event: Event, *, order: int | None = None) -> Handled:
        """`order` is the channel's own sequence (Telegram's update_id): with several
        processes, a chat's updates can arrive out of order, and an older one that comes
        after a newer one was applied is stale: it is never recorded."""
        for attempt in range(3):
            try:
                with self.outbox.activity:  # the outbox waits while replies are made
                    handled = await self._handle_once(channel, event, order)
                break
            except IntegrityError:
                # Two first messages of a new user raced to create them; the loser retries
                # and finds the participant the winner created.
                if attempt == 2:
                    raise
        switch = next((e for e in handled.effects if isinstance(e, SwitchTo)), None)
        if switch is not None:  # /wissel: show where the chosen conversation is
            handled = await self._switched(channel, event, switch, handled)
        for note in handled.notifications:  # to a relative whose link just went: at once
            await self.outbox.push_now(note.channel, note.address, note.text)
        return handled

    async def _switched(
        self, channel: str, event: Event, switch: SwitchTo, handled: Handled
    ) -> Handled:
        async with self.runtime.transaction() as session:
            repo = Repository(session, self.runtime.cipher)
            moved = await FamilyRepository(repo).switch_to(
                channel, event.user_id, switch.participant_id
            )
        if not moved:
            return handled
        follow = Command(
            name="verder",
            user_id=event.user_id,
            chat_id=event.chat_id,
            event_id=f"{event.event_id}.wissel",
        )
        after = await self._handle_once(channel, follow, None)
        handled.replies.extend(after.replies)
        handled.notifications.extend(after.notifications)
        return handled

    async def _handle_once(self, channel: str, event: Event, order: int | None) -> Handled:
        runtime = self.runtime
        async with runtime.transaction() as session:
            repo = Repository(session, runtime.cipher)
            invitation, invite = await self.family.invitation(repo, channel, event)
            participant = await repo.find_participant(
                channel, event.user_id, lock=not runtime.settings.is_sqlite
            )
            locale = negotiate(event.language_hint, runtime.settings.default_locale)
            answers: dict[str, AnswerView] = {}
            context = TurnContext(invitation=invitation)
            claimed = False  # the event is marked handled (at the start, for a participant)
            if invite is not None:
                # A relative arriving with a usable code: a conversation of its own, and
                # nothing stored until they say yes.
                if participant is not None:
                    locale = await self.family.locale_of(repo, participant)
                participant = None
                stored = Conversation(locale=locale)
            elif participant is None:
                stored = Conversation(locale=locale)
            else:
                if not await repo.claim_event(participant.id, event.event_id):
                    log.info("duplicate event ignored participant=%s", participant.id)
                    return Handled(duplicate=True)
                claimed = True
                record = await repo.load_conversation(participant.id)
                stored = conversation_of(record, default_locale=runtime.settings.default_locale)
                if order is not None and record is not None and order < (record.last_order or 0):
                    log.info("stale event ignored participant=%s", participant.id)
                    return stale_reply(event, stored.locale)
                if participant.blocked_at is not None:  # they wrote to us: reachable again
                    participant.blocked_at = None
                answers, context = await self._turn_data(repo, participant, stored, context)
                if record is not None and record.updated_at is not None:
                    paused = self.outbox.clock() - utc(record.updated_at)
                    context = replace(context, new_sitting=paused > SITTING_PAUSE)
            conversation, outcome = runtime.engine.handle(stored, answers, event, context)
            if invite is not None and conversation.state in ("welcome", "relative"):
                self.family.pending.forget(repo.lookup_key(channel, event.user_id))
            if participant is None:
                join = next((e for e in outcome.effects if isinstance(e, JoinFamily)), None)
                if join is not None and invite is not None:
                    participant = await self.family.join(repo, invite, channel, event)
                elif not conversation.consented or join is not None:
                    # Nothing is stored before consent: not even that this chat exists.
                    return Handled(
                        replies=outcome.replies,
                        effects=outcome.effects,
                        echo=outcome.echo,
                        stale=outcome.stale,
                        locale=conversation.locale,
                    )
                else:
                    participant = await repo.create_participant(
                        channel, event.user_id, event.chat_id
                    )
            handled = Handled(
                effects=outcome.effects,
                echo=outcome.echo,
                stale=outcome.stale,
                locale=conversation.locale,
            )
            deleted, reviewed = await self._carry_out(
                repo, participant, conversation, outcome.items, handled, channel, event
            )
            if not deleted:
                record = conversation_record(conversation)
                await repo.save_conversation(
                    participant.id,
                    record.state,
                    record.context,
                    order=order,
                    at=self.outbox.clock(),
                )
                if not claimed:  # a participant made in this turn
                    await repo.mark_event(participant.id, event.event_id)
                await self.outbox.after_event(
                    session,
                    participant,
                    conversation,
                    answers_after(answers, outcome.effects),
                    reviewed=reviewed,
                    changed=any(
                        isinstance(e, RecordAnswer) and not e.skipped for e in outcome.effects
                    ),
                )
            log.info(
                "event handled kind=%s participant=%s state=%s->%s",
                type(event).__name__,
                None if deleted else participant.id,
                stored.state,
                conversation.state,
            )
        return handled

    async def _turn_data(
        self,
        repo: Repository,
        participant: Participant,
        conversation: Conversation,
        context: TurnContext,
    ) -> tuple[dict[str, AnswerView], TurnContext]:
        """The answers this participant works on, and what the person may adopt.

        The person and a helper work on the person's answers; a relative giving their
        own view works on their own views. A helper who may not read the person's answers
        sees only the values they gave themselves. The role and the person's name are
        refreshed from storage each turn, so a change by the person reaches the relative
        at once.
        """
        conversation.role = role_of(participant)
        latest, views = await repo.answers_and_views(participant.person_id)
        if conversation.role == "view":
            return answer_views(views.get(participant.id, {})), context
        if conversation.role == "helper":
            conversation.subject = await self.family.subject(repo, participant)
            readable_by = None if participant.may_see else participant.id
            return answer_views(latest, readable_by=readable_by), context
        by_question = await self.family.views_for_person(repo, views, conversation.locale)
        return answer_views(latest), TurnContext(invitation=context.invitation, views=by_question)

    async def _carry_out(
        self,
        repo: Repository,
        participant: Participant,
        conversation: Conversation,
        items: list[Any],
        handled: Handled,
        channel: str,
        event: Event,
    ) -> tuple[bool, bool]:
        """Write what the engine decided, in order. Returns (the participant is gone, a
        review ended)."""
        runtime = self.runtime
        role = role_of(participant)
        reviewed = False
        for item in items:
            if isinstance(item, DeleteEverything):
                if role == "self":
                    handled.notifications.extend(
                        await self.family.relatives_told_of_erase(repo, participant.person_id)
                    )
                    await repo.delete_person(participant.person_id)
                else:  # a relative erases their own part, never the person's answers
                    await FamilyRepository(repo).remove_participant(
                        participant.id, keep_answers=False
                    )
                return self._only_notices(items[items.index(item) + 1 :], handled), False
            if isinstance(item, RecordAnswer):
                companion = conversation.companion if conversation.mode == "together" else None
                await repo.add_answer(
                    participant,
                    item.question_id,
                    item.value,
                    skipped=item.skipped,
                    together=conversation.mode == "together" and role == "self",
                    flow_version=runtime.flow.version,
                    perspective="view" if role == "view" else "person",
                    companion=companion if role == "self" else None,
                    at=self.outbox.clock(),
                )
                if role != "self":
                    participant.last_active_at = self.outbox.clock()
                    await self.family.person_told_of_contribution(repo, participant)
            elif isinstance(item, ConfirmAnswer):
                await repo.confirm_answer(participant, item.question_id, at=self.outbox.clock())
            elif isinstance(item, ReviewDone):
                reviewed = True
            elif isinstance(item, RecordConsent):
                await repo.record_consent(participant.person_id)
            elif isinstance(item, SetProfile):
                await repo.set_profile(participant.person_id, item.mode, item.name)
                participant.role = "relative" if item.mode == "for_other" else "self"
            elif isinstance(item, ShowSummary):
                handled.replies.append(
                    Notice(await self.summary_text(repo, participant, conversation.locale))
                )
            elif isinstance(item, ExportData):
                handled.replies.append(
                    await export_document(repo, self.share_links, participant, conversation)
                )
            elif isinstance(item, CreateShareLink | ListShareLinks | RevokeShareLink):
                handled.replies.extend(await self.sharing(repo, participant, conversation, item))
            elif isinstance(item, FAMILY_EFFECTS):
                handled.replies.extend(
                    await self.family.carry_out(
                        repo,
                        participant,
                        item,
                        channel=channel,
                        user_id=event.user_id,
                        locale=conversation.locale,
                        notifications=handled.notifications,
                    )
                )
            elif isinstance(item, JoinFamily | SwitchTo):
                pass  # joining happened before; switching happens after the commit
            else:
                handled.replies.append(item)
        return False, reviewed

    @staticmethod
    def _only_notices(rest: list[Any], handled: Handled) -> bool:
        handled.replies.extend(item for item in rest if isinstance(item, Notice))
        return True

    async def mark_blocked(self, channel: str, user_id: str) -> None:
        """The person blocked the bot: remember it, so nothing is sent until they return."""
        async with self.runtime.transaction() as session:
            repo = Repository(session, self.runtime.cipher)
            participant = await repo.find_participant(channel, user_id)
            if participant is not None:
                await repo.mark_blocked(participant.id)

    async def summary_text(self, repo: Repository, participant: Participant, locale: str) -> str:
        return await chat_summary_text(
            repo,
            self.runtime.flow,
            participant,
            role=role_of(participant),
            locale=locale,
            now=self.outbox.clock(),  # the service's clock
            review_after=self.runtime.settings.review_after,
        )

    async def sharing(
        self, repo: Repository, participant: Participant, conversation: Conversation, item: Any
    ) -> list[Reply]:
        if isinstance(item, ListShareLinks):
            tr = translator(conversation.locale)
            links = await self.share_links.link_views(repo.session, participant.person_id, tr)
            return links_screen.render(tr, conversation.locale, links)
        result: list[Reply] = await self.share_links.handle_effect(
            repo, participant, conversation, item
        )
        return result


FAMILY_EFFECTS = (
    CreateInvite,
    SetRelative,
    ListRoles,
    ListFamily,
    RemoveRelative,
    RevokeInvite,
)
