"""The review (/nakijken, and the prompt after REVIEW_AFTER): confirm or change wishes in
a few taps.

Why: wishes change, and the professional must be able to trust that a wish still holds.
"Klopt nog" must be a confirmation (the answer stays as it was given, with its date), a
change must be a new answer, and the review must come back by itself after a while.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.services.runtime import Runtime
from bot.storage.models import AnswerConfirmation, OutboxMessage
from bot.storage.outbox import utc
from bot.storage.repository import Repository
from tests.test_outbox import make_box
from tests.test_web import GOOD_DAY, fill_in_demo


async def test_review_confirms_changes_and_skips_then_asks_what_changed(runtime: Runtime) -> None:
    box = await make_box(runtime)
    chat = box.chat
    await fill_in_demo(chat)
    box.clock.advance(days=40)
    await chat.command("nakijken")
    assert chat.last_text == f"Een goede dag\nUw antwoord: {GOOD_DAY}\n\nKlopt dit nog?"
    assert chat.buttons == ["Klopt nog", "Aanpassen", "Overslaan", "Stoppen met nakijken"]
    await chat.press("Klopt nog")
    assert chat.recorded == []  # a confirmation, not a new answer
    assert "Uw antwoord: Ja" in chat.last_text  # the donor register, the next first-screen item
    await chat.press("Aanpassen")
    assert "Staat u in het donorregister?" in chat.last_text
    await chat.press("Nee")
    assert "Is er iets veranderd in uw gezondheid, uw woning" in chat.last_text
    assert chat.buttons[0] == "Wonen"  # the topic that fits a change in life comes first
    await chat.press("Wonen")
    assert "Uw antwoord: In een aangepaste woning" in chat.last_text
    await chat.press("Overslaan")
    await chat.press("Klopt nog")  # verhuizen
    await chat.press("Klopt nog")  # verhuizen_waarheen
    assert "Is er iets veranderd" in chat.last_text
    await chat.press("Nee, niets veranderd")
    assert "Uw wensen zijn nagekeken" in chat.said and "Kies een onderwerp" not in chat.said

    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        history = await repo.answer_history(1)
        donor = [a.value for a in history if a.question_id == "donor"]
        assert donor == [{"option": "ja"}, {"option": "nee"}]
        assert len([a for a in history if a.question_id == "goede_dag"]) == 1
        confirmed = (await session.execute(select(AnswerConfirmation))).scalars()
        assert sorted(c.question_id for c in confirmed) == [
            "goede_dag",
            "verhuizen",
            "verhuizen_waarheen",
        ]
        reviews = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "review"))
        ).scalars()
        (review,) = [r for r in reviews if r.sent_at is None]
        assert utc(review.due_at) == box.clock.now + runtime.settings.review_after


async def test_after_review_after_the_person_is_asked_and_the_button_starts_the_review(
    runtime: Runtime,
) -> None:
    box = await make_box(runtime)
    await fill_in_demo(box.chat)  # everything answered: no reminder, a review in a year
    box.clock.advance(days=364)
    assert await box.send() == []
    box.clock.advance(days=2)
    (prompt,) = await box.send()
    assert "Het is een tijd geleden dat u uw wensen heeft opgeschreven." in prompt.text
    assert [b.label for b in prompt.flat_buttons] == ["Nakijken", "Nu niet"]
    assert await box.send() == []  # once
    await box.chat.press(prompt.flat_buttons[0])
    assert box.chat.last_text.startswith("Een goede dag\nUw antwoord:")
