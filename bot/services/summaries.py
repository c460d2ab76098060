"""A person's summary, loaded and built in one place (for the chat and for share links)."""

from __future__ import annotations

from datetime import datetime

from bot.content.model import Flow
from bot.storage.repository import Repository
from bot.summary.model import Summary, build_summary


async def load_summary(
    repo: Repository, flow: Flow, person_id: int, *, locale: str, now: datetime
) -> Summary:
    person = await repo.person(person_id)
    latest = await repo.latest_answers(person_id)
    return build_summary(
        flow,
        latest,
        locale=locale,
        person_name=repo.person_name(person) if person else None,
        mode=person.mode if person else None,
        now=now,
    )
