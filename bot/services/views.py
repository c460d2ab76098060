"""Storage records to engine views and back: the one place the two meet."""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine import AnswerView, Conversation
from bot.storage.models import Participant
from bot.storage.repository import AnswerRecord, ConversationRecord, Repository


def role_of(participant: Participant | None) -> str:
    """self for the person (also when filling in for someone), else helper or view."""
    if participant is not None and participant.mode in ("helper", "view"):
        return participant.mode
    return "self"


async def own_participant(repo: Repository, person_id: int) -> Participant | None:
    """The person's own participant (not a relative's), whom things about their wishes
    are told to."""
    return next((p for p in await repo.participants_of(person_id) if role_of(p) == "self"), None)


def conversation_of(record: ConversationRecord | None, *, default_locale: str) -> Conversation:
    if record is None:
        return Conversation(locale=default_locale)
    return Conversation.from_dict({**record.context, "state": record.state})


def conversation_record(conversation: Conversation) -> ConversationRecord:
    context = conversation.to_dict()
    state = context.pop("state")
    return ConversationRecord(state=state, context=context)


def answer_views(
    latest: Mapping[str, AnswerRecord], *, readable_by: int | None = None
) -> dict[str, AnswerView]:
    """The answers as the engine sees them. With `readable_by` (a helper who may not read
    the person's answers), only what that participant gave keeps its value; every other
    answer stays known as answered, without its content."""
    return {
        question_id: AnswerView(value=record.value, skipped=record.skipped)
        if readable_by is None or record.participant_id == readable_by
        else AnswerView(value={}, skipped=record.skipped, hidden=True)
        for question_id, record in latest.items()
    }
