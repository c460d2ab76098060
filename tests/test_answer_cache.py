"""A turn reads a person's answer history again only when their answers version moved
(bot/storage/answer_cache.py, migration 0400): whatever changed the answers, and however,
the next turn must work with what the database holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.services.conversation import ConversationService
from bot.services.outbox import Outbox
from bot.services.runtime import Runtime
from bot.storage.answer_cache import HISTORIES
from bot.storage.repository import Repository
from bot.testing import ChatDriver
from tests.test_storage import chat_for, person_id

TOPIC = "Wat voor u belangrijk is"


async def database_answers(runtime: Runtime, pid: int) -> dict[str, Any]:
    """The person's answers as the database holds them (no cache involved)."""
    async with runtime.transaction() as session:
        latest = await Repository(session, runtime.cipher).latest_answers(pid)
    return {qid: record.value for qid, record in latest.items()}


async def turn_answers(runtime: Runtime, pid: int) -> dict[str, Any]:
    """The answers a turn works with."""
    async with runtime.transaction() as session:
        latest, _views = await Repository(session, runtime.cipher).answers_and_views(pid)
    return {qid: record.value for qid, record in latest.items()}


async def answered(service: ConversationService, runtime: Runtime) -> tuple[ChatDriver, int]:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic(TOPIC)
    await chat.say("Een wandeling")  # "goede_dag"; then "levenskwaliteit" is asked
    pid = await person_id(runtime, "anna")
    assert pid is not None
    assert HISTORIES.holds(pid)
    return chat, pid


async def test_a_change_made_by_hand_is_what_the_next_turn_works_with(
    service: ConversationService, runtime: Runtime
) -> None:
    """An operator deletes an answer with SQL: no Tijdig code ran, and still the next turn
    does not work with it (the database moved the version)."""
    chat, pid = await answered(service, runtime)
    assert (await database_answers(runtime, pid))["goede_dag"] == {"text": "Een wandeling"}
    assert "▰" in chat.last_text  # one answer of the topic on the bar
    async with runtime.db.begin() as connection:
        await connection.execute(
            text("DELETE FROM answer WHERE person_id = :pid AND question_id = 'goede_dag'"),
            {"pid": pid},
        )
    assert HISTORIES.holds(pid)  # the history from before the delete is still kept
    await chat.command("verder")  # a whole turn, and its progress bar counts no answer
    assert "Wat vindt u belangrijker?" in chat.last_text
    assert "▰" not in chat.last_text
    after = await turn_answers(runtime, pid)
    assert "goede_dag" not in after
    assert after == await database_answers(runtime, pid)


async def test_an_answer_added_elsewhere_is_what_the_next_turn_works_with(
    settings: Settings, service: ConversationService, runtime: Runtime
) -> None:
    """Another process (its own connection, nothing of this process's memory) adds an
    answer; this process's next turn sees it."""
    _chat, pid = await answered(service, runtime)
    there = await Runtime.create(settings)
    try:
        await add_answer(there, pid, {"text": "Koffie met de buren"})
    finally:
        await there.close()
    after = await turn_answers(runtime, pid)
    assert after["goede_dag"] == {"text": "Koffie met de buren"}
    assert after == await database_answers(runtime, pid)


async def add_answer(runtime: Runtime, pid: int, value: dict[str, Any]) -> None:
    """An answer to "goede_dag" written directly, without reading the history first."""
    async with runtime.transaction() as session:
        repo = Repository(session, runtime.cipher)
        (participant,) = await repo.participants_of(pid)
        await repo.add_answer(
            participant, "goede_dag", value, skipped=False, together=False, flow_version=1
        )


async def test_an_answer_of_a_turn_that_failed_is_never_remembered(
    service: ConversationService, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn records an answer and then fails: its transaction is rolled back, and what
    it staged must not outlive it, even when the version later reaches the number the
    failed turn would have made."""
    chat, pid = await answered(service, runtime)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Outbox, "after_event", broken)
    with pytest.raises(RuntimeError):
        await chat.press("4")  # "levenskwaliteit": recorded, then the turn fails
    monkeypatch.undo()
    # Someone else moves the version on (as the failed turn would have), without reading.
    await add_answer(runtime, pid, {"text": "Thee"})
    after = await turn_answers(runtime, pid)
    assert after["goede_dag"] == {"text": "Thee"}
    assert "levenskwaliteit" not in after
    assert after == await database_answers(runtime, pid)
