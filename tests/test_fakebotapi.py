"""Tests of the fake Bot API, driven by the real python-telegram-bot over real HTTP.

Why: the Telegram channel tests rely on the fake behaving like Telegram as PTB sees it; if
the fake drifts (wrong encoding, missing fields), these tests fail before the channel tests
give misleading results.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.fakebotapi import FakeBotAPI

pytestmark = pytest.mark.asyncio

CHAT = 4242


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest_asyncio.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def test_get_me(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "tijdig_test_bot"
    assert me.id == 123456789
    assert [call.method for call in api.calls] == ["getMe", "getMe"]  # initialize + ours


async def test_send_message_with_keyboard_round_trips(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Kies maar", reply_markup=keyboard("Ja", "Nee"))
    assert sent.text == "Kies maar"
    assert sent.chat.id == CHAT
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup == keyboard("Ja", "Nee")

    second = await bot.send_message(CHAT, "Nog een")
    assert second.message_id == sent.message_id + 1

    [call, _] = api.calls_for("sendMessage", CHAT)
    assert call.params["chat_id"] == CHAT
    assert call.params["text"] == "Kies maar"
    buttons = call.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["ja", "nee"]
    assert [m["text"] for m in api.sent_messages(CHAT)] == ["Kies maar", "Nog een"]
    assert api.last_text(CHAT) == "Nog een"


async def test_numeric_text_stays_a_string(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "123")
    assert sent.text == "123"
    assert api.calls_for("sendMessage")[0].params["text"] == "123"


async def test_html_is_parsed_and_bad_html_rejected(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Hallo <b>Anna</b> &amp; co", parse_mode="HTML")
    assert sent.text == "Hallo Anna & co"
    assert sent.entities[0].type == "bold"
    assert (sent.entities[0].offset, sent.entities[0].length) == (6, 4)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "a <script>x</script>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, " ")


async def test_edits_change_the_recorded_message(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Vraag", reply_markup=keyboard("A", "B"))

    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("C"))
    [current] = api.messages(CHAT)
    assert current["reply_markup"]["inline_keyboard"][0][0]["text"] == "C"

    edited = await bot.edit_message_text(
        "Vraag (beantwoord)", CHAT, sent.message_id, reply_markup=keyboard("C")
    )
    assert not isinstance(edited, bool) and edited.text == "Vraag (beantwoord)"
    assert api.last_text(CHAT) == "Vraag (beantwoord)"
    assert "reply_markup" in api.messages(CHAT)[0]

    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "Vraag (beantwoord)", CHAT, sent.message_id, reply_markup=keyboard("C")
        )

    await bot.edit_message_reply_markup(CHAT, sent.message_id)
    [current] = api.messages(CHAT)
    assert "reply_markup" not in current
    assert current["text"] == "Vraag (beantwoord)"
    # The snapshot as sent is unchanged.
    assert api.sent_messages(CHAT)[0]["text"] == "Vraag"

    await bot.edit_message_text("Zonder knoppen", CHAT, sent.message_id)
    assert api.message(CHAT, sent.message_id)["text"] == "Zonder knoppen"

    assert await bot.delete_message(CHAT, sent.message_id)
    assert api.messages(CHAT) == []
    assert api.deleted_messages == [(CHAT, sent.message_id)]
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("weg", CHAT, sent.message_id)


async def test_get_updates_parses_messages_and_callbacks(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Kies", reply_markup=keyboard("Ja"))
    pushed_message = api.push_message(CHAT, "/start hallo")
    pushed_callback = api.push_callback(CHAT, "ja", message_id=sent.message_id)

    updates = await bot.get_updates()
    assert all(isinstance(update, Update) for update in updates)
    assert [u.update_id for u in updates] == [
        pushed_message["update_id"],
        pushed_callback["update_id"],
    ]
    message = updates[0].message
    assert message is not None and message.text == "/start hallo"
    assert message.from_user is not None and message.from_user.id == CHAT
    assert message.from_user.language_code == "nl"
    assert message.message_id > sent.message_id
    assert message.entities[0].type == "bot_command"

    query = updates[1].callback_query
    assert query is not None and query.data == "ja"
    assert query.message is not None and query.message.text == "Kies"
    assert query.message.reply_markup == keyboard("Ja")
    assert await query.answer("Dank je", show_alert=True)
    assert api.answered_callbacks[0].id == query.id
    assert api.answered_callbacks[0].text == "Dank je"
    assert api.answered_callbacks[0].show_alert is True

    # Not confirmed yet: Telegram sends them again; the offset confirms them.
    assert len(await bot.get_updates()) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert api.pending_updates == []
    assert await bot.get_updates() == ()

    later = api.push_message(CHAT, "nog iets")
    assert later["update_id"] > pushed_callback["update_id"]


async def test_get_updates_limit(api: FakeBotAPI, bot: Bot) -> None:
    for n in range(3):
        api.push_message(CHAT, f"bericht {n}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["bericht 0", "bericht 1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["bericht 2"]


async def test_long_poll_returns_when_an_update_arrives(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for(lambda: api.active_polls > 0)
    api.push_message(CHAT, "wakker worden")
    updates = await polling
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["wakker worden"]


async def test_long_poll_times_out_empty(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=300)) == ()
    assert 0.25 < time.monotonic() - started < 2


async def test_redeliver_repeats_the_same_update(api: FakeBotAPI, bot: Bot) -> None:
    pushed = api.push_message(CHAT, "dubbel")
    [first] = await bot.get_updates()
    assert await bot.get_updates(offset=first.update_id + 1) == ()
    api.redeliver(pushed)
    [again] = await bot.get_updates(offset=first.update_id + 1)
    assert again.update_id == first.update_id
    assert again.message.text == "dubbel"
    assert await bot.get_updates(offset=first.update_id + 1) == ()


async def test_user_media_and_groups(api: FakeBotAPI, bot: Bot) -> None:
    api.push_sticker(CHAT)
    api.push_photo(CHAT, b"jpegdata", caption="foto")
    api.push_voice(CHAT, b"oggdata", duration=4)
    api.push_message(CHAT, location={"latitude": 52.1, "longitude": 5.1})
    group = api.push_message(-100123, "hoi allemaal", chat_type="supergroup", user_id=77)
    updates = await bot.get_updates()
    sticker, photo, voice, location, in_group = (u.effective_message for u in updates)
    assert sticker.sticker is not None and sticker.sticker.emoji == "👍"
    assert photo.photo[-1].width == 800 and photo.caption == "foto"
    assert voice.voice is not None and voice.voice.file_size == len(b"oggdata")
    assert location.location is not None and location.location.latitude == 52.1
    assert in_group.chat.type == "supergroup" and in_group.from_user.id == 77
    assert group["message"]["chat"]["id"] == -100123

    voice_file = await voice.voice.get_file()
    assert bytes(await voice_file.download_as_bytearray()) == b"oggdata"

    reply = await bot.send_message(-100123, "hallo groep")
    assert reply.chat.type == "supergroup"

    api.push_edited_message(CHAT, location.message_id, "aangepast")
    [edited] = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert edited.edited_message is not None and edited.edited_message.text == "aangepast"


async def test_send_document_and_photo_arrive_as_files(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_document(
        CHAT, b"%PDF-1.4 data", filename="samenvatting.pdf", caption="Uw samenvatting"
    )
    assert sent.document is not None
    assert sent.document.file_name == "samenvatting.pdf"
    assert sent.caption == "Uw samenvatting"
    [call] = await api.wait_for_call("sendDocument", chat_id=CHAT)
    upload = call.files["document"]
    assert upload.content == b"%PDF-1.4 data"
    assert upload.filename == "samenvatting.pdf"
    assert call.params["caption"] == "Uw samenvatting"

    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"%PDF-1.4 data"

    photo = await bot.send_photo(CHAT, b"\x89PNG fake", caption="QR")
    assert photo.photo and photo.photo[-1].file_id
    assert api.calls_for("sendPhoto")[0].files["photo"].content == b"\x89PNG fake"
    assert [m.get("caption") for m in api.sent_messages(CHAT)] == ["Uw samenvatting", "QR"]
    assert api.last_text(CHAT) == "QR"


async def test_blocked_chat_raises_forbidden(api: FakeBotAPI, bot: Bot) -> None:
    api.block_chat(CHAT)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(CHAT, "hallo?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT, "typing")
    assert await bot.send_message(CHAT + 1, "andere chat")
    assert api.sent_messages(CHAT) == []
    assert not api.calls_for("sendMessage", CHAT)[0].ok


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_raises_retry_after_once(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "te snel")
    assert "3" in str(caught.value)
    assert await bot.send_message(CHAT, "nu wel")
    first, second = api.calls_for("sendMessage", CHAT)
    assert first.error == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert second.ok


async def test_wrong_token_and_unknown_method(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=api.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_commands_per_language(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin opnieuw")], language_code="nl")
    await bot.set_my_commands([("start", "Start again")])
    assert api.commands["nl"] == [{"command": "start", "description": "Begin opnieuw"}]
    assert api.commands[None][0]["description"] == "Start again"
    [command] = await bot.get_my_commands(language_code="nl")
    assert command.description == "Begin opnieuw"
    with pytest.raises(BadRequest):
        await bot.set_my_commands([("Start!", "fout")])


async def test_wait_for_call_reports_what_arrived(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(CHAT, "iets anders")
    with pytest.raises(AssertionError, match=r"expected 1 sendDocument(?s:.*)iets anders"):
        await api.wait_for_call("sendDocument", timeout=0.1)
    mark = api.mark()
    waiting = asyncio.create_task(api.wait_for_call("sendMessage", CHAT, since=mark))
    await bot.send_message(CHAT, "nieuw")
    [call] = await waiting
    assert call.params["text"] == "nieuw"


async def test_application_replies_to_start(api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        await update.message.reply_text(f"Hallo {update.effective_user.first_name}!")

    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        api.push_message(CHAT, "/start", first_name="Anna")
        [reply] = await api.wait_for_sent(CHAT)
        assert reply["text"] == "Hallo Anna!"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    methods = [call.method for call in api.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" in methods
