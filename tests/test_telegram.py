"""Telegram end to end: the real Application over real HTTP against a fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels import telegram_format
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_limits import SharedFloodLimiter
from bot.config import Settings, load_settings
from bot.host import run_channel
from bot.storage.models import Answer, Participant
from tests.conftest import DEMO_FLOWS, ROOT
from tests.fakebotapi import FakeBotAPI

TOKEN = "123456789:AAHfakeTOKENforTESTSonly1234"


class RunningBot:
    """The Telegram channel in the host, as `python -m bot run` runs it, in this event loop,
    stoppable."""

    def __init__(self, settings: Settings, api: FakeBotAPI) -> None:
        self.settings = settings
        self.api = api
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[int] | None = None
        self.channel: TelegramChannel | None = None

    async def start(self) -> None:
        self.stop_event = asyncio.Event()
        mark = self.api.mark()
        self.channel = TelegramChannel(self.settings, poll_timeout=1)
        self.task = asyncio.create_task(
            run_channel(self.settings, self.channel, web=False, stop=self.stop_event)
        )
        await self.api.wait_for_call("getUpdates", since=mark, timeout=15)

    async def stop(self) -> None:
        self.stop_event.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)


class Person:
    """One Telegram user talking to the bot: types, taps buttons, reads replies."""

    def __init__(self, api: FakeBotAPI, chat_id: int, language: str = "nl") -> None:
        self.api = api
        self.chat_id = chat_id
        self.language = language

    async def says(
        self, text: str, *, wait: str | None = None, buttons: bool = True
    ) -> list[dict[str, Any]]:
        mark = self.api.mark()
        self.api.push_message(self.chat_id, text, language_code=self.language)
        return await self.replies(mark, wait, buttons)

    async def taps(
        self, label: str, *, wait: str | None = None, buttons: bool = True
    ) -> list[dict[str, Any]]:
        message, data = self.find_button(label)
        mark = self.api.mark()
        self.api.push_callback(
            self.chat_id, data, message_id=message["message_id"], language_code=self.language
        )
        return await self.replies(mark, wait, buttons, pressed=message)

    def find_button(self, label: str) -> tuple[dict[str, Any], str]:
        for message in reversed(self.api.messages(self.chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r}; last text: {self.api.last_text(self.chat_id)}")

    async def replies(
        self,
        mark: int,
        wait: str | None,
        buttons: bool = True,
        *,
        pressed: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Wait until the bot has shown something containing `wait` and (unless `buttons` is
        false) a message with buttons, then return everything shown in this chat since `mark`:
        the messages sent, and what an edit added to the `pressed` message (the choice, the
        next question in place) as a message of its own."""

        def arrived() -> list[dict[str, Any]] | None:
            sent = self.shown(mark, pressed)
            if wait is not None and not any(wait in (m.get("text") or "") for m in sent):
                return None
            if buttons and not any(m.get("reply_markup") for m in sent):
                return None
            return sent

        return await self.api.wait_for(arrived, timeout=10)

    def shown(self, mark: int, pressed: dict[str, Any] | None) -> list[dict[str, Any]]:
        if pressed is None:
            return self.api.sent_messages(self.chat_id, since=mark)
        before = pressed.get("text") or ""
        shown = []
        for call in self.api.calls[mark:]:
            if not call.ok or call.chat_id != self.chat_id or not isinstance(call.result, dict):
                continue
            if call.method in ("editMessageText", "editMessageReplyMarkup"):
                if call.result["message_id"] != pressed["message_id"]:
                    continue
                text = call.result.get("text") or ""
                added = text[len(before) :].lstrip("\n") if text.startswith(before) else text
                shown.append({**call.result, "text": added})
            elif call.method in ("sendMessage", "sendDocument", "sendPhoto"):
                shown.append(call.result)
        return shown

    @property
    def last_buttons(self) -> list[str]:
        for message in reversed(self.api.messages(self.chat_id)):
            markup = message.get("reply_markup")
            if markup:
                return [b["text"] for row in markup["inline_keyboard"] for b in row]
        return []

    async def onboard(self, name: str = "Jan") -> None:
        await self.says("/start", wait="Wilt u meedoen?")
        await self.taps("Ja, ik doe mee", wait="Wie vult dit in?")
        await self.taps("Ik vul het zelf in", wait="Hoe mag ik u noemen?")
        await self.says(name, wait="Kies een onderwerp")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as api:
        yield api


# What Telegram does does not depend on the database, so these tests run on the SQLite
# file; the few where concurrency or erasing meet the database run on both.
EACH_DATABASE = pytest.mark.parametrize(
    "tg_database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def tg_database(request: pytest.FixtureRequest) -> str:
    kind = getattr(request, "param", "sqlite")
    return str(request.getfixturevalue("sqlite_url" if kind == "sqlite" else "postgres_url"))


@pytest.fixture
def tg_settings(tg_database: str, data_key: str, api: FakeBotAPI) -> Settings:
    return load_settings(
        database_url=tg_database,
        data_key=data_key,
        flows_dir=DEMO_FLOWS,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api.base_url,
        quiet_hours="off",  # notices to others go out whatever the hour the tests run at
        _env_file=None,
    )


@pytest.fixture
async def bot(tg_settings: Settings, api: FakeBotAPI) -> AsyncIterator[RunningBot]:
    running = RunningBot(tg_settings, api)
    await running.start()
    yield running
    if running.task is not None and not running.task.done():
        await running.stop()


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


async def from_database(settings: Settings, query: Any) -> list[Any]:
    """What the bot wrote, read from its database as a second process would."""
    from bot.storage.db import create_engine

    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).scalars())
    finally:
        await engine.dispose()


async def count_answers(settings: Settings) -> int:
    (count,) = await from_database(settings, select(func.count()).select_from(Answer))
    return int(count)


async def test_a_whole_topic_by_buttons_and_text_ends_up_in_the_summary(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    anna = Person(api, 1001)
    await anna.onboard("Anna")
    await anna.taps("Wonen", wait="Waar wilt u oud worden?")
    sent = await anna.taps("Beginnen", wait="Wonen · ▱▱▱▱▱▱▱▱")
    assert "Uitleg" in anna.last_buttons

    question = api.messages(1001)[-1]
    await anna.taps("In mijn eigen huis", wait="Denkt u erover om te verhuizen?")
    edited = api.message(1001, question["message_id"])
    assert edited is not None
    answered, _, below = edited["text"].partition("\n\n✓ In mijn eigen huis\n\n")
    assert answered == question["text"], "the answered question shows the choice"
    assert below.endswith("Denkt u erover om te verhuizen?"), "and the next question below it"
    assert "In mijn eigen huis" not in anna.last_buttons, "its old buttons are gone"

    await anna.taps("Terug", wait="Uw antwoord tot nu toe: In mijn eigen huis")
    sent = await anna.taps("Uitleg", wait="Waar wilt u het liefst wonen")
    assert "Denk aan uw huis nu" in texts(sent), "the explanation, then the question again"
    await anna.taps("Waar zorg is", wait="Denkt u erover om te verhuizen?")
    await anna.taps("Ja", wait="Waar zou u naartoe willen?")
    await anna.says("Naar de kust, bij mijn dochter 🌊", wait="Goed om te weten")
    await anna.taps("Verder", wait="Klaar: Wonen")

    await anna.taps("Wat voor u belangrijk is", wait="We praten over wat uw leven goed maakt")
    await anna.taps("Beginnen", wait="Hoe ziet een goede dag")
    await anna.taps("Overslaan", wait="Wat vindt u belangrijker?")
    await anna.taps("4", wait="Wat doet u graag?")

    sent = await anna.says("/samenvatting", wait="Samenvatting voor Anna")
    summary = texts(sent)
    assert "Waar zorg is" in summary
    assert "In mijn eigen huis" not in summary, "the changed answer replaced the old one"
    assert "Naar de kust, bij mijn dochter 🌊" in summary
    assert "4 van 5" in summary
    assert "Een goede dag: overgeslagen" in summary


async def test_a_button_answer_is_one_edit_that_shows_the_choice_and_the_next_question(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """One chat-bound call per button answer (Telegram allows about 30 a second per bot):
    the pressed question grows into the next one, and every earlier answer stays readable."""
    ank = Person(api, 1011)
    await ank.onboard("Ank")
    await ank.taps("Wonen")
    await ank.taps("Beginnen", wait="nog ongeveer")
    question = api.messages(1011)[-1]
    mark = api.mark()
    await ank.taps("In mijn eigen huis", wait="Denkt u erover om te verhuizen?")
    await ank.taps("Ja", wait="Waar zou u naartoe willen?")
    assert api.messages(1011)[-1]["message_id"] == question["message_id"], "no new message"
    # The chat's updates are handled in order, so every call the two taps made comes
    # before the first message sent in reply to this command.
    await ank.says("/verder", wait="Waar zou u naartoe willen?")
    chat_bound = [c.method for c in api.calls[mark:] if c.chat_id == 1011]
    taps = chat_bound[: chat_bound.index("sendMessage")]
    assert taps == ["editMessageText", "editMessageText"], chat_bound
    assert len(api.calls_for("answerCallbackQuery", since=mark)) == 2, "each tap is answered"

    shown = api.message(1011, question["message_id"])
    assert shown is not None
    text = shown["text"]
    first = text.index("Waar wilt u het liefst wonen als u ouder wordt?")
    assert first < text.index("✓ In mijn eigen huis") < text.index("Denkt u erover")
    assert text.index("Denkt u erover") < text.index("✓ Ja") < text.index("Waar zou u naartoe")
    assert text.endswith("Waar zou u naartoe willen?")
    buttons = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert "Overslaan" in buttons and "Ja" not in buttons, "the next question's own buttons"


async def test_the_answer_that_ends_a_topic_is_one_edit_with_the_thanks_and_the_menu(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """ "Klaar: Wonen. Dank u wel!" and the topic menu are one message, so the answer that
    ends a topic costs one chat-bound call like any other button answer."""
    bea = Person(api, 1014)
    await bea.onboard("Bea")
    await bea.taps("Wonen")
    await bea.taps("Beginnen", wait="nog ongeveer")
    await bea.taps("In mijn eigen huis", wait="Denkt u erover om te verhuizen?")
    await bea.taps("Nee", wait="Goed om te weten")
    question = api.messages(1014)[-1]
    mark = api.mark()
    await bea.taps("Verder", wait="Kies een onderwerp")
    await bea.says("/verder", wait="Kies een onderwerp")
    chat_bound = [c.method for c in api.calls[mark:] if c.chat_id == 1014]
    assert chat_bound[: chat_bound.index("sendMessage")] == ["editMessageText"], chat_bound
    shown = api.message(1014, question["message_id"])
    assert shown is not None
    text = shown["text"]
    assert text.index("Goed om te weten") < text.index("Klaar: Wonen. Dank u wel!")
    assert text.index("Klaar: Wonen") < text.rindex("Kies een onderwerp")
    assert text.endswith("U heeft 1 van de 3 onderwerpen gehad."), "the menu at the bottom"
    buttons = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Wat voor u belangrijk is" in b for b in buttons), "the menu's own buttons"


async def test_a_long_run_of_answers_goes_on_in_a_new_message_at_the_cap(
    bot: RunningBot, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past GROWN_MAX the message stops growing: the choice goes on it as before, and the
    next question comes as a new message, which grows from there."""
    bas = Person(api, 1012)
    await bas.onboard("Bas")
    await bas.taps("Wonen")
    await bas.taps("Beginnen", wait="nog ongeveer")
    grown = api.messages(1012)[-1]
    monkeypatch.setattr(telegram_format, "GROWN_MAX", len(grown["text"]) + 30)
    mark = api.mark()
    await bas.taps("In mijn eigen huis", wait="Denkt u erover om te verhuizen?")
    chat_bound = [c.method for c in api.calls[mark:] if c.chat_id == 1012]
    assert chat_bound == ["editMessageText", "sendMessage"], chat_bound
    old = api.message(1012, grown["message_id"])
    assert old is not None and old["text"] == grown["text"] + "\n\n✓ In mijn eigen huis"
    assert not old.get("reply_markup"), "the full message keeps its answers, not its buttons"
    new = api.messages(1012)[-1]
    assert new["text"].endswith("Denkt u erover om te verhuizen?") and new.get("reply_markup")
    assert "✓" not in new["text"]

    monkeypatch.undo()
    await bas.taps("Ja", wait="Waar zou u naartoe willen?")
    assert api.messages(1012)[-1]["message_id"] == new["message_id"], "that one grows now"
    assert "✓ Ja" in api.messages(1012)[-1]["text"]


async def test_ticking_an_option_keeps_the_answers_above_the_question(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """A multiple choice is re-drawn in place when an option is ticked; in a grown message
    only the question at its end changes."""
    rik = Person(api, 1013)
    await rik.onboard("Rik")
    await rik.taps("Wat voor u belangrijk is")
    await rik.taps("Beginnen", wait="Hoe ziet een goede dag")
    await rik.says("Koffie op het balkon", wait="Wat vindt u belangrijker?")
    await rik.taps("4", wait="Wat doet u graag?")
    grown = api.messages(1013)[-1]
    assert "✓ 4" in grown["text"]
    mark = api.mark()
    api.push_callback(1013, rik.find_button("Wandelen")[1], message_id=grown["message_id"])
    await api.wait_for(lambda: "✓ Wandelen" in rik.last_buttons or None)
    assert [c.method for c in api.calls[mark:] if c.chat_id == 1013] == ["editMessageText"]
    assert api.message(1013, grown["message_id"])["text"] == grown["text"]
    await rik.taps("Klaar", wait="Klaar: Wat voor u belangrijk is")


async def test_a_typed_answer_is_one_send_and_old_buttons_go_when_the_budget_has_room(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typed answer sends the next question; taking the buttons off the question it
    answered is a tidy-up, made a moment later when the send budget is idle (TIDY), else
    left undone."""
    ina = Person(api, 1010)
    await ina.onboard("Ina")
    await ina.taps("Wonen")
    await ina.taps("Beginnen", wait="nog ongeveer")
    question = api.messages(1010)[-1]
    assert question.get("reply_markup")
    mark = api.mark()
    await ina.says("thuis", wait="Denkt u erover om te verhuizen?")
    sent = api.mark()
    assert [c.method for c in api.calls[mark:sent] if c.chat_id == 1010] == ["sendMessage"]
    await api.wait_for(lambda: not api.message(1010, question["message_id"]).get("reply_markup"))
    tidied = [
        c
        for c in api.calls[sent:]
        if c.chat_id == 1010 and int(c.params.get("message_id", 0)) == question["message_id"]
    ]
    assert [c.method for c in tidied] == ["editMessageReplyMarkup"], "then the tidy-up"
    assert tidied[0].time - api.calls[sent - 1].time >= 0.9, "a second later"
    assert api.messages(1010)[-1].get("reply_markup"), "the new question has its buttons"

    async def busy(self: SharedFloodLimiter) -> None:
        return None  # the budget's next slot is taken: no room for tidying

    monkeypatch.setattr(SharedFloodLimiter, "_next_slot_or_none", busy)
    answered = api.messages(1010)[-1]
    mark = api.mark()
    await ina.taps("Ja", wait="Waar zou u naartoe willen?")
    await ina.says("Naar zee", wait="Goed om te weten")
    await ina.says("/verder", wait="Goed om te weten")  # in order: after any tidy-up
    chat_bound = [c.method for c in api.calls[mark:] if c.chat_id == 1010]
    assert chat_bound[:2] == ["editMessageText", "sendMessage"], chat_bound
    assert "editMessageReplyMarkup" not in chat_bound, chat_bound
    old = api.message(1010, answered["message_id"])
    assert old is not None and old.get("reply_markup"), "its buttons were left as they were"
    # A tap on those old buttons is answered kindly and changes nothing.
    data = next(
        b["callback_data"]
        for row in old["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Overslaan"
    )
    mark = api.mark()
    api.push_callback(1010, data, message_id=old["message_id"])
    sent = await ina.replies(mark, "al beantwoord", pressed=old)
    assert "Goed om te weten" in texts(sent)
    assert await count_answers(tg_settings) == 3


@EACH_DATABASE
async def test_a_double_tap_records_one_answer(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings
) -> None:
    piet = Person(api, 1002)
    await piet.onboard("Piet")
    await piet.taps("Wonen")
    await piet.taps("Beginnen", wait="nog ongeveer")
    message, data = piet.find_button("Waar zorg is")
    mark = api.mark()
    api.push_callback(1002, data, message_id=message["message_id"])
    api.push_callback(1002, data, message_id=message["message_id"])
    sent = await piet.replies(mark, "al beantwoord")
    await api.wait_for(lambda: len(api.answered_callbacks) >= 6 or None)
    assert await count_answers(tg_settings) == 1
    assert texts(sent).count("Denkt u erover om te verhuizen?") >= 1
    answered = [c for c in api.answered_callbacks]
    assert len(answered) >= 2, "every callback query is answered"
    # The first tap grew the question into the next one; the second, on the same message,
    # was told kindly where we are, with the next question and its buttons below.
    grown = api.message(1002, message["message_id"])
    assert grown is not None and "✓ Waar zorg is" in grown["text"]
    assert api.messages(1002)[-1]["text"].endswith("Denkt u erover om te verhuizen?")
    assert "Ja" in piet.last_buttons


async def test_a_redelivered_update_is_handled_once(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings
) -> None:
    kees = Person(api, 1003)
    await kees.onboard("Kees")
    await kees.taps("Wat voor u belangrijk is")
    await kees.taps("Beginnen", wait="Hoe ziet een goede dag")
    mark = api.mark()
    update = api.push_message(1003, "Koffie met de buren")
    await kees.replies(mark, "Wat vindt u belangrijker?")
    mark = api.mark()
    api.redeliver(update)
    await api.wait_for(lambda: api.pending_updates == [] or None, timeout=5)
    await kees.says("/samenvatting", wait="Koffie met de buren")
    assert await count_answers(tg_settings) == 1
    # Handled once, the duplicate gets no reply at all: the first thing said since it
    # arrived is the answer to /samenvatting (handled again, it would meet the next
    # question, or the database's own guard, and the person would hear about it).
    since = api.sent_messages(1003, since=mark)
    assert since[0]["text"].startswith("Samenvatting voor Kees"), texts(since)


async def test_an_old_button_never_answers_the_current_question(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings
) -> None:
    mies = Person(api, 1004)
    await mies.onboard("Mies")
    await mies.taps("Wonen")
    await mies.taps("Beginnen", wait="nog ongeveer")
    first_question, old_data = mies.find_button("Weet ik nog niet")
    await mies.says("thuis", wait="Denkt u erover om te verhuizen?")
    # The first question still has its keyboard (it was answered by typing); press it now.
    mark = api.mark()
    api.push_callback(1004, old_data, message_id=first_question["message_id"])
    sent = await mies.replies(mark, "al beantwoord")
    assert "Denkt u erover om te verhuizen?" in texts(sent), "it shows where the conversation is"
    sent = await mies.says("/samenvatting", wait="Samenvatting")
    assert "In mijn eigen huis" in texts(sent)
    assert "Weet ik nog niet" not in texts(sent)
    assert await count_answers(tg_settings) == 1


@EACH_DATABASE
async def test_two_people_at_the_same_time_keep_their_own_answers(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    a, b = Person(api, 2001), Person(api, 2002)
    await asyncio.gather(a.onboard("Aad"), b.onboard("Bep"))
    await asyncio.gather(a.taps("Wonen"), b.taps("Wonen"))
    await asyncio.gather(a.taps("Beginnen"), b.taps("Beginnen"))
    await asyncio.gather(
        a.taps("In mijn eigen huis", wait="verhuizen"), b.taps("Waar zorg is", wait="verhuizen")
    )
    await asyncio.gather(a.taps("Ja", wait="naartoe"), b.taps("Nee", wait="Goed om te weten"))
    await a.says("Friesland", wait="Goed om te weten")
    summary_a, summary_b = await asyncio.gather(
        a.says("/samenvatting", wait="Samenvatting"), b.says("/samenvatting", wait="Samenvatting")
    )
    assert "In mijn eigen huis" in texts(summary_a) and "Friesland" in texts(summary_a)
    assert "Waar zorg is" in texts(summary_b) and "Friesland" not in texts(summary_b)
    assert "Aad" in texts(summary_a) and "Bep" in texts(summary_b)


@EACH_DATABASE
async def test_a_restart_mid_topic_continues_at_the_right_question(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    jo = Person(api, 3001)
    await jo.onboard("Jo")
    await jo.taps("Wonen")
    await jo.taps("Beginnen", wait="nog ongeveer")
    await jo.taps("Waar zorg is", wait="Denkt u erover om te verhuizen?")
    await bot.stop()
    await bot.start()
    await jo.taps("Ja", wait="Waar zou u naartoe willen?")
    sent = await jo.says("/samenvatting", wait="Samenvatting")
    assert "Waar zorg is" in texts(sent) and "Ja" in texts(sent)


async def test_odd_input_gets_kind_replies_and_nothing_is_lost(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    lies = Person(api, 4001)
    await lies.onboard("Lies")
    await lies.taps("Wonen")
    await lies.taps("Beginnen", wait="nog ongeveer")
    mark = api.mark()
    api.push_sticker(4001)
    sent = await lies.replies(mark, "een sticker")
    assert "Waar wilt u het liefst wonen" in texts(sent)
    mark = api.mark()
    api.push_photo(4001)
    sent = await lies.replies(mark, "een foto")
    sent = await lies.says("x" * 5000, wait="Ik begrijp uw antwoord niet helemaal")
    await lies.taps("In mijn eigen huis", wait="verhuizen")
    await lies.taps("Ja", wait="naartoe")
    long_answer = ("Ik wil graag aan zee wonen. " * 200).strip()
    assert len(long_answer) > 5000
    await lies.says(long_answer, wait="Goed om te weten")
    sent = await lies.says("/samenvatting", wait="Samenvatting")
    joined = "".join(m["text"] for m in sent)
    assert all(len(m["text"]) <= 4096 for m in sent), "long replies are split"
    assert long_answer.replace(" ", "") in joined.replace(" ", "").replace("\n", "")


async def test_a_voice_note_answers_a_text_question(bot: RunningBot, api: FakeBotAPI) -> None:
    wim = Person(api, 4002)
    await wim.onboard("Wim")
    await wim.taps("Wat voor u belangrijk is")
    await wim.taps("Beginnen", wait="Hoe ziet een goede dag")
    mark = api.mark()
    api.push_voice(4002)
    await wim.replies(mark, "ingesproken bericht")
    sent = await wim.says("/samenvatting", wait="Samenvatting")
    assert "Een goede dag: (ingesproken bericht)" in texts(sent)


async def test_group_chats_and_edits_get_a_kind_explanation(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    mark = api.mark()
    api.push_message(-500, "/start", user_id=5001, chat_type="group")
    sent = await api.wait_for_sent(-500, since=mark)
    assert "persoonlijk gesprek" in sent[0]["text"]
    kim = Person(api, 5002)
    await kim.onboard("Kim")
    mark = api.mark()
    api.push_edited_message(5002, 1, "Anders")
    sent = await kim.replies(mark, "aangepast", buttons=False)
    assert "Terug" in sent[0]["text"]


async def test_my_data_is_sent_as_a_json_document_and_commands_are_registered(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    assert {c["command"] for c in api.commands[None]} >= {
        "start",
        "verder",
        "overzicht",
        "samenvatting",
        "taal",
        "privacy",
        "mijngegevens",
        "verwijderen",
        "help",
        "stop",
    }
    if "en" in api.commands:
        english = {c["command"]: c["description"] for c in api.commands["en"]}
        assert english["samenvatting"] != "Al uw antwoorden op een rij"
    ria = Person(api, 6001)
    await ria.onboard("Ria")
    mark = api.mark()
    api.push_message(6001, "/mijngegevens")
    calls = await api.wait_for_call("sendDocument", chat_id=6001, since=mark)
    (received,) = calls[0].files.values()
    data = json.loads(received.content)
    assert data["person"]["name"] == "Ria"


@EACH_DATABASE
async def test_deleting_removes_everything_and_a_blocked_chat_is_not_retried(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings
) -> None:
    tom = Person(api, 7001)
    await tom.onboard("Tom")
    await tom.says("/verwijderen", wait="Weet u het zeker?")
    await tom.taps("Ja, verwijder alles", wait="Alles is verwijderd", buttons=False)
    (count,) = await from_database(tg_settings, select(func.count()).select_from(Participant))
    assert count == 0

    ben = Person(api, 7002)
    await ben.onboard("Ben")
    api.block_chat(7002)
    mark = api.mark()
    api.push_message(7002, "/overzicht")
    await api.wait_for_call("sendMessage", chat_id=7002, since=mark)
    # the refused send is noted in its own transaction, just after the 403: wait for it
    for _ in range(100):
        blocked = await from_database(tg_settings, select(Participant.blocked_at))
        if blocked and blocked[0] is not None:
            break
        await asyncio.sleep(0.05)
    assert blocked and blocked[0] is not None


async def test_blocking_the_bot_is_noticed_without_a_failed_send(
    bot: RunningBot, api: FakeBotAPI, tg_settings: Settings
) -> None:
    uma = Person(api, 7101)
    await uma.onboard("Uma")
    member = {"user": {"id": 123456789, "is_bot": True, "first_name": "Tijdig"}}
    api.push_update(
        {
            "my_chat_member": {
                "chat": {"id": 7101, "type": "private", "first_name": "Uma"},
                "from": {"id": 7101, "is_bot": False, "first_name": "Uma"},
                "date": 1,
                "old_chat_member": {**member, "status": "member"},
                "new_chat_member": {**member, "status": "kicked", "until_date": 0},
            }
        }
    )

    async def blocked() -> bool:
        rows = await from_database(tg_settings, select(Participant.blocked_at))
        return any(row is not None for row in rows)

    for _ in range(100):
        if await blocked():
            break
        await asyncio.sleep(0.05)
    assert await blocked()
    assert api.calls_for("sendMessage", chat_id=7101)[-1].ok, "no failed send was needed"


def test_python_m_bot_run_refuses_a_missing_or_malformed_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    env["PYTHONPATH"] = str(ROOT)  # this checkout's bot, not the editable install's
    for token, expected in ((None, "TELEGRAM_BOT_TOKEN is not set"), ("nonsense", "does not look")):
        run_env = dict(env)
        if token:
            run_env["TELEGRAM_BOT_TOKEN"] = token
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@contextlib.asynccontextmanager
async def bot_run_process(
    api: FakeBotAPI, tmp_path: Path, **settings: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real `python -m bot run` against the fake Bot API, polling once this yields; on
    leaving it is stopped with SIGTERM and must exit cleanly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        FLOWS_DIR=str(DEMO_FLOWS),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        WEB_PORT="0",
        **settings,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for(lambda: api.active_polls > 0 or None, timeout=30)
        yield process
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0


async def test_python_m_bot_run_serves_a_user(api: FakeBotAPI, tmp_path: Path) -> None:
    async with bot_run_process(api, tmp_path):
        user = Person(api, 8001)
        await user.says("/start", wait="Wilt u meedoen?")


async def test_an_error_is_logged_without_personal_data_and_the_person_is_told(
    bot: RunningBot, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    eva = Person(api, 9001)
    await eva.onboard("Eva Geheimnaam")
    await eva.taps("Wat voor u belangrijk is")
    await eva.taps("Beginnen", wait="Hoe ziet een goede dag")
    # An error whose message quotes personal text must not carry it into the log.
    api.fail_next("sendMessage", error_code=400, description="Bad Request: Geheimnaam said x")
    mark = api.mark()
    api.push_message(9001, "Mijn geheime antwoord 4711")
    sent = await eva.replies(mark, "er ging iets mis", buttons=False)
    assert "Uw antwoorden zijn bewaard" in texts(sent)
    await eva.says("/samenvatting", wait="Mijn geheime antwoord 4711")
    logged = caplog.text
    assert "error while handling" in logged
    for secret in ("Mijn geheime antwoord 4711", "Geheimnaam", TOKEN, TOKEN.split(":")[1]):
        assert secret not in logged


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_listening(port: int, seconds: float = 10) -> None:
    """The web app binds right after Telegram is told about the webhook; wait for it."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


async def test_webhook_mode_checks_the_secret_and_serves_the_update(
    api: FakeBotAPI, sqlite_url: str, data_key: str
) -> None:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = load_settings(
        database_url=sqlite_url,
        data_key=data_key,
        flows_dir=DEMO_FLOWS,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api.base_url,
        telegram_webhook_url=url,
        telegram_webhook_secret="s3cret-webhook-value",
        web_port=port,
        _env_file=None,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_channel(settings, TelegramChannel(settings), stop=stop))
    try:
        await api.wait_for_call("setWebhook", timeout=15)
        assert api.webhook_url == url
        await wait_until_listening(port)
        update = {
            "update_id": 424242,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 9100, "type": "private"},
                "from": {"id": 9100, "is_bot": False, "first_name": "W", "language_code": "nl"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            assert wrong.status_code == 403
            assert api.sent_messages(9100) == []
            right = await client.post(
                url,
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-value"},
            )
            assert right.status_code == 200
            sent = await api.wait_for_sent(9100)
            assert "Wilt u meedoen?" in sent[0]["text"]
            page = await client.get(f"http://127.0.0.1:{port}/robots.txt")
            assert "Disallow: /s/" in page.text, "the summary web app shares the port"
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_share_link_is_sent_with_a_qr_code_and_no_preview(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    sam = Person(api, 9200)
    await sam.onboard("Sam")
    mark = api.mark()
    api.push_message(9200, "/delen")
    photos = await api.wait_for_call("sendPhoto", chat_id=9200, since=mark)
    link_messages = [
        c
        for c in api.calls_for("sendMessage", chat_id=9200, since=mark)
        if "/s/" in c.params["text"]
    ]
    assert link_messages, "the link is sent as a message"
    assert link_messages[0].params["link_preview_options"]["is_disabled"] is True
    (photo,) = photos[0].files.values()
    assert photo.content.startswith(b"\x89PNG")


async def test_a_daughter_joins_from_her_own_phone_and_her_mother_adopts_her_view(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """Issue 9 end to end: /uitnodigen gives a t.me deep link; the daughter opens it on
    her own phone (Telegram sends "/start <code>"), consents, names herself, answers in
    her own voice; her mother is told, sees the view and takes it over with one button."""
    mother = Person(api, 9300)
    await mother.onboard("Anna")
    await mother.says("/uitnodigen", wait="Wat mag die persoon doen?")
    await mother.taps("Een eigen kijk geven", wait="Mag deze persoon uw antwoorden lezen?")
    sent = await mother.taps("Ja, mag meelezen", wait="t.me/", buttons=False)
    link = next(m for m in sent if "t.me/" in (m.get("text") or ""))
    assert link["link_preview_options"]["is_disabled"] is True
    url = next(word for word in link["text"].split() if word.startswith("https://t.me/"))
    assert url.startswith("https://t.me/tijdig_test_bot?start=")
    code = url.split("start=")[1]
    await api.wait_for_call("sendPhoto", chat_id=9300)  # the same link as a QR code

    daughter = Person(api, 9301)
    await daughter.says(f"/start {code}", wait="Anna nodigt u uit")
    await daughter.taps("Ja, ik doe mee", wait="Hoe heet u?", buttons=False)
    await daughter.says("Els", wait="Wat bent u van Anna?")
    await daughter.taps("Dochter", wait="Uw kijk op de wensen van Anna")
    await daughter.taps("Wonen")
    await daughter.taps("Beginnen", wait="Wat denkt u: waar wil Anna het liefst wonen")
    mark = api.mark()
    await daughter.taps("Waar zorg is", wait="denkt Anna erover om te verhuizen?")
    told = await api.wait_for_sent(9300, since=mark)
    assert any("Els (dochter) heeft een eigen kijk" in (m.get("text") or "") for m in told)

    await mother.says("/overzicht", wait="Kies een onderwerp")
    await mother.taps("Wonen")
    await mother.taps("Beginnen", wait="Els (dochter) denkt: Waar zorg is")
    await mother.taps("Overnemen van Els (dochter)", wait="Overgenomen")

    stranger = Person(api, 9302)
    await stranger.says(f"/start {code}", wait="werkt niet", buttons=False)
    assert "Anna" not in texts(api.sent_messages(9302))
