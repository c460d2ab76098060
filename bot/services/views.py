"""Storage records to engine views and back: the one place the two meet."""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine import AnswerView, Conversation
from bot.storage.repository import AnswerRecord, ConversationRecord


def conversation_of(record: ConversationRecord | None, *, default_locale: str) -> Conversation:
    if record is None:
        return Conversation(locale=default_locale)
    return Conversation.from_dict({**record.context, "state": record.state})


def conversation_record(conversation: Conversation) -> ConversationRecord:
    context = conversation.to_dict()
    state = context.pop("state")
    return ConversationRecord(state=state, context=context)


def answer_views(latest: Mapping[str, AnswerRecord]) -> dict[str, AnswerView]:
    return {
        question_id: AnswerView(value=record.value, skipped=record.skipped)
        for question_id, record in latest.items()
    }
