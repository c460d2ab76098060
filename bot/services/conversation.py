"""Handle one event end to end: load, decide (engine), write in one transaction, then reply.

This is the only place where a conversation's state and its answers are written, and it
writes them together: the transaction commits before the caller sends a single reply, so
anything the person saw acknowledged is on disk.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.engine import AnswerView, Conversation, Event
from bot.engine.replies import (
    ConfirmAnswer,
    CreateShareLink,
    DeleteEverything,
    Document,
    Effect,
    ExportData,
    ListShareLinks,
    Notice,
    RecordAnswer,
    RecordConsent,
    Reply,
    ReviewDone,
    RevokeShareLink,
    SetProfile,
    ShowSummary,
)
from bot.engine.screens import links as links_screen
from bot.i18n import negotiate, translator
from bot.services.outbox import Outbox
from bot.services.runtime import Runtime
from bot.services.sharing import Clock, ShareLinks
from bot.services.summaries import load_summary
from bot.services.views import answer_views, conversation_of, conversation_record
from bot.storage.models import Participant
from bot.storage.repository import Repository
from bot.summary.text import render_text

log = logging.getLogger(__name__)


@dataclass
class Handled:
    """What the channel needs to show: replies in order, plus how to treat a button press."""

    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)  # what the engine asked for (done)
    echo: str | None = None
    stale: bool = False
    duplicate: bool = False
    locale: str = "nl"


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
        self.share_links = ShareLinks(runtime, clock=clock, outbox=self.outbox)

    async def handle(self, channel: str, event: Event) -> Handled:
        for attempt in range(3):
            try:
                with self.outbox.activity:  # the outbox waits while replies are made
                    return await self._handle_once(channel, event)
            except IntegrityError:
                # Two first messages of a new user raced to create them; the loser retries
                # and finds the participant the winner created.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _handle_once(self, channel: str, event: Event) -> Handled:
        runtime = self.runtime
        async with runtime.transaction() as session:
            repo = Repository(session, runtime.cipher)
            participant = await repo.find_participant(
                channel, event.user_id, lock=not runtime.settings.is_sqlite
            )
            views: dict[str, AnswerView] = {}
            if participant is None:
                locale = negotiate(event.language_hint, runtime.settings.default_locale)
                stored = Conversation(locale=locale)
            else:
                if await repo.seen_event(participant.id, event.event_id):
                    log.info("duplicate event ignored participant=%s", participant.id)
                    return Handled(duplicate=True)
                stored = conversation_of(
                    await repo.load_conversation(participant.id),
                    default_locale=runtime.settings.default_locale,
                )
                participant.blocked_at = None  # they wrote to us, so they can be reached again
                views = answer_views(await repo.latest_answers(participant.person_id))
            conversation, outcome = runtime.engine.handle(stored, views, event)
            if participant is None:
                if not conversation.consented:
                    # Nothing is stored before consent: not even that this chat exists.
                    return Handled(
                        replies=outcome.replies,
                        effects=outcome.effects,
                        echo=outcome.echo,
                        stale=outcome.stale,
                        locale=conversation.locale,
                    )
                participant = await repo.create_participant(channel, event.user_id, event.chat_id)
            handled = Handled(
                effects=outcome.effects,
                echo=outcome.echo,
                stale=outcome.stale,
                locale=conversation.locale,
            )
            deleted = reviewed = False
            for item in outcome.items:
                if isinstance(item, DeleteEverything):
                    await repo.delete_person(participant.person_id)
                    deleted = True
                elif deleted:
                    if isinstance(item, Notice):
                        handled.replies.append(item)
                elif isinstance(item, RecordAnswer):
                    await repo.add_answer(
                        participant,
                        item.question_id,
                        item.value,
                        skipped=item.skipped,
                        together=conversation.mode == "together",
                        flow_version=runtime.flow.version,
                        at=self.outbox.clock(),
                    )
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
                    handled.replies.append(await self.export(repo, participant, conversation))
                elif isinstance(item, ConfirmAnswer):
                    await repo.confirm_answer(participant, item.question_id, at=self.outbox.clock())
                elif isinstance(item, ReviewDone):
                    reviewed = True
                elif isinstance(item, CreateShareLink | ListShareLinks | RevokeShareLink):
                    handled.replies.extend(
                        await self.sharing(repo, participant, conversation, item)
                    )
                else:
                    handled.replies.append(item)
            if not deleted:
                record = conversation_record(conversation)
                await repo.save_conversation(participant.id, record.state, record.context)
                await repo.mark_event(participant.id, event.event_id)
                await self.outbox.after_event(
                    session,
                    participant,
                    conversation,
                    answers_after(views, outcome.effects),
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

    async def mark_blocked(self, channel: str, user_id: str) -> None:
        """The person blocked the bot: remember it, so nothing is sent until they return."""
        async with self.runtime.transaction() as session:
            repo = Repository(session, self.runtime.cipher)
            participant = await repo.find_participant(channel, user_id)
            if participant is not None:
                await repo.mark_blocked(participant.id)

    async def summary_text(self, repo: Repository, participant: Participant, locale: str) -> str:
        summary = await load_summary(
            repo,
            self.runtime.flow,
            participant.person_id,
            locale=locale,
            now=self.outbox.clock(),  # the service's clock
            review_after=self.runtime.settings.review_after,
        )
        return render_text(summary)

    async def export(
        self, repo: Repository, participant: Participant, conversation: Conversation
    ) -> Document:
        """Everything stored about the person, decrypted, as one JSON document."""
        data = await self.export_data(repo, participant.person_id)
        data["conversation"] = {
            "state": conversation.state,
            "language": conversation.locale,
            "topic": conversation.topic,
            "question": conversation.question,
            "topics_for_later": conversation.parked,
        }
        tr = translator(conversation.locale)
        return Document(
            filename="tijdig-mijn-gegevens.json",
            mime_type="application/json",
            content=json.dumps(data, ensure_ascii=False, indent=2, default=str).encode(),
            caption=tr.gettext("Dit is alles wat Tijdig van u bewaart."),
        )

    async def export_data(self, repo: Repository, person_id: int) -> dict[str, Any]:
        person = await repo.person(person_id)
        if person is None:
            return {}
        participants = await repo.participants_of(person_id)
        history = await repo.answer_history(person_id)
        data: dict[str, Any] = {
            "person": {
                "name": repo.person_name(person),
                "fills_in": person.mode,
                "consent_given_at": person.consented_at,
                "created_at": person.created_at,
            },
            "participants": [
                {
                    "id": p.id,
                    "channel": p.channel,
                    "role": p.role,
                    "created_at": p.created_at,
                }
                for p in participants
            ],
            "answers": [
                {
                    "question": record.question_id,
                    "answer": record.value,
                    "skipped": record.skipped,
                    "together": record.together,
                    "given_by": record.role,
                    "participant": record.participant_id,
                    "at": record.created_at,
                    "flow_version": record.flow_version,
                }
                for record in history
            ],
        }
        data["share_links"] = await self.share_links.export(repo.session, person_id)
        return data

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
