"""Reminders on Telegram, end to end against the fake Bot API: with the real `python -m bot
run`, a person who stops in the middle of a topic gets the reminder within seconds
(REMINDER_AFTER=3), and its button continues at the right question. A 403 on a reminder
marks the chat blocked and nothing more is sent."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.storage.models import OutboxMessage, Participant
from tests.conftest import DEMO_FLOWS, ROOT
from tests.fakebotapi import FakeBotAPI
from tests.test_telegram import TOKEN, Person, RunningBot, from_database

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        FLOWS_DIR=str(DEMO_FLOWS),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        WEB_PORT="0",
        REMINDER_AFTER="3",
        REMINDER_SECOND_AFTER="3600",
        QUIET_HOURS="off",
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
        els = Person(api, 9001)
        await stop_halfway(els)
        mark = api.mark()
        reminder = await els.replies(mark, REMINDER, buttons=True)  # waits up to 10 s
        assert len([m for m in reminder if REMINDER in (m.get("text") or "")]) == 1
        await els.taps("Verder", wait="Wat vindt u belangrijker?")
        await asyncio.sleep(1.5)  # a second reminder would be due 3 s after the tap, not yet
        sent = [m for m in api.sent_messages(9001, since=0) if REMINDER in (m.get("text") or "")]
        assert len(sent) == 1, "one reminder, once"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0


async def test_a_403_on_a_reminder_marks_the_chat_blocked(
    api: FakeBotAPI, tg_settings: Settings
) -> None:
    settings = tg_settings.model_copy(
        update={
            "reminder_after": timedelta(seconds=2),
            "quiet_hours": None,
        }
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
