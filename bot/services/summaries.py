"""A person's summary, loaded and built in one place (for the chat and for share links)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.content.model import Flow
from bot.storage.repository import Repository
from bot.summary.history import with_history
from bot.summary.model import Summary, build_summary

REVIEW_AFTER = timedelta(days=365)


async def load_summary(
    repo: Repository,
    flow: Flow,
    person_id: int,
    *,
    locale: str,
    now: datetime,
    review_after: timedelta = REVIEW_AFTER,
) -> Summary:
    person = await repo.person(person_id)
    history = await repo.answer_history(person_id)
    latest = {record.question_id: record for record in history}
    summary = build_summary(
        flow,
        latest,
        locale=locale,
        person_name=repo.person_name(person) if person else None,
        mode=person.mode if person else None,
        now=now,
    )
    confirmations = await repo.confirmations(person_id)
    return with_history(summary, flow, history, confirmations, review_after=review_after)
