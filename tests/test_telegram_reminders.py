"""Reminders on Telegram, end to end against the fake Bot API: with the real `python -m bot
run`, a person who stops in the middle of a topic gets the reminder within seconds
(REMINDER_AFTER=3), and its button continues at the right question. A 403 on a reminder
marks the chat blocked and nothing more is sent."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.config import Settings
from bot.storage.models import OutboxMessage, Participant
from tests.fakebotapi import FakeBotAPI
from tests.test_telegram import Person, RunningBot, bot_run_process, from_database

# the Telegram tests' fixtures, re-exported so pytest finds them here
from tests.test_telegram import api as api
from tests.test_telegram import tg_database as tg_database
from tests.test_telegram import tg_settings as tg_settings

REMINDER = "U was een paar dagen geleden bezig met Tijdig"


async def stop_halfway(person: Person) -> None:
    await person.onboard("Els")
    await person.taps("Wat voor u belangrijk is", wait="Dit duurt ongeveer 3 minuten")
    await person.taps("Beginnen", wait="Hoe ziet een goede dag")
    await person.says("Een wandeling en koffie", wait="Wat vindt u belangrijker?")


async def test_python_m_bot_run_sends_the_reminder_and_its_button_continues(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    settings = {"REMINDER_AFTER": "3", "REMINDER_SECOND_AFTER": "3600", "QUIET_HOURS": "off"}
    async with bot_run_process(api, tmp_path, **settings):
        els = Person(api, 9001)
        await stop_halfway(els)
        mark = api.mark()
        reminder = await els.replies(mark, REMINDER, buttons=True)  # waits up to 10 s
        assert len([m for m in reminder if REMINDER in (m.get("text") or "")]) == 1
        await els.taps("Verder", wait="Wat vindt u belangrijker?")
        await asyncio.sleep(1.5)  # a second reminder would be due 3 s after the tap, not yet
        sent = [m for m in api.sent_messages(9001, since=0) if REMINDER in (m.get("text") or "")]
        assert len(sent) == 1, "one reminder, once"


async def test_a_403_on_a_reminder_marks_the_chat_blocked(
    api: FakeBotAPI, tg_settings: Settings
) -> None:
    settings = dataclasses.replace(
        tg_settings, reminder_after=timedelta(seconds=2), quiet_hours=None
    )
    bot = RunningBot(settings, api)
    await bot.start()
    try:
        fenna = Person(api, 9101)
        await stop_halfway(fenna)
        await asyncio.sleep(0.5)  # the turn's last calls are done; only the reminder hits 403
        api.block_chat(9101)

        async def outcome() -> list[str | None]:
            return await from_database(settings, select(OutboxMessage.outcome))

        for _ in range(100):
            if "blocked" in await outcome():
                break
            await asyncio.sleep(0.05)
        assert "blocked" in await outcome()
        (blocked_at,) = await from_database(settings, select(Participant.blocked_at))
        assert blocked_at is not None
    finally:
        await bot.stop()


async def test_a_link_opened_through_serve_alone_is_told_on_telegram(
    api: FakeBotAPI, tg_settings: Settings
) -> None:
    """`python -m bot serve` with a bot token sends the outbox's notices for Telegram."""
    from bot.channels import telegram
    from bot.host import run_channel
    from tests.test_host import free_port

    bot = RunningBot(tg_settings, api)
    await bot.start()
    try:
        sam = Person(api, 9300)
        await sam.onboard("Sam")
        replies = await sam.says("/delen", wait="/s/", buttons=False)
        url = next(m["text"] for m in replies if "/s/" in (m.get("text") or ""))
        path = "/s/" + url.split("/s/", 1)[1].split()[0]
    finally:
        await bot.stop()  # only the web app runs from here on
    port = free_port()
    settings = dataclasses.replace(tg_settings, web_port=port, quiet_hours=None)
    notifier = await telegram.open_notifier(settings)
    assert notifier is not None
    stop = asyncio.Event()
    serve = asyncio.create_task(run_channel(settings, None, notifiers=[notifier], stop=stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                try:
                    assert (await client.get(path)).status_code == 200
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        mark = 0
        told = await sam.replies(mark, "Uw samenvatting is geopend op", buttons=False)
        assert told
    finally:
        stop.set()
        await asyncio.wait_for(serve, 20)
