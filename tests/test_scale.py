"""Several processes: order by update_id, the webhook inbox, migrations under a lock.

Why: with webhooks and several processes, a chat's updates can reach different processes
and be handled out of order; an update acknowledged with 200 must survive the process that
received it. These tests run the service and the Telegram channel on a real database.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.config import load_settings
from bot.engine import Choice, Event, Text
from bot.host import run_channel
from bot.services.conversation import ConversationService, Handled
from bot.services.inbox import Inbox
from bot.services.runtime import Runtime
from bot.storage.inbox import InboxRow
from bot.storage.models import utcnow
from bot.storage.repository import Repository
from bot.testing import ChatDriver
from tests.conftest import DEMO_FLOWS
from tests.fakebotapi import FakeBotAPI
from tests.test_telegram import TOKEN, free_port, wait_until_listening
from tests.test_telegram import api as api

CHANNEL = "telegram"


async def answers(runtime: Runtime, user: str) -> list[tuple[str, object]]:
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant(CHANNEL, user)
        assert participant is not None
        rows = await repo.answer_history(participant.person_id)
    return [(r.question_id, r.value) for r in rows]


async def at_first_question(service: ConversationService, user: str) -> ChatDriver:
    async def handle(channel: str, event: Event) -> Handled:
        # Numbered events carry their order, as Telegram's update_id does.
        order = int(event.event_id) if event.event_id.isdigit() else None
        return await service.handle(channel, event, order=order)

    chat = ChatDriver(handle, user=user, channel=CHANNEL)
    await chat.ready()
    await chat.open_topic("Wat voor u belangrijk is")
    assert "Hoe ziet een goede dag" in chat.message.text if chat.message else False
    return chat


async def test_an_older_update_arriving_after_a_newer_one_is_never_recorded(
    service: ConversationService, runtime: Runtime
) -> None:
    """Two typed answers reach two processes; the later one (update 1002) is applied first.
    The earlier one (1001) then arrives: it must not land on the question 1002 moved to."""
    chat = await at_first_question(service, "olga")
    ids = {"user_id": "olga", "chat_id": "olga"}
    newer = await chat.send(Text(text="Tuinieren", event_id="1002", **ids))
    assert not newer.stale, newer
    press = chat.choice("3")  # the scale question that 1002 moved to
    older = await chat.send(Text(text="Wandelen", event_id="1001", **ids))
    assert older.stale
    assert "niet gebruikt" in older.replies[0].text  # type: ignore[union-attr]
    assert await answers(runtime, "olga") == [("goede_dag", {"text": "Tuinieren"})]
    # The conversation goes on from where the newer update left it.
    later = Choice(question_id=press.question_id, option_id=press.option_id, event_id="1003", **ids)
    await chat.send(later)
    assert await answers(runtime, "olga") == [
        ("goede_dag", {"text": "Tuinieren"}),
        ("levenskwaliteit", {"value": 3}),
    ]


async def test_a_double_tap_in_either_order_records_once(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await at_first_question(service, "piet")
    await chat.say("Een wandeling")
    press = chat.choice("4")
    ids = {"user_id": "piet", "chat_id": "piet"}
    second = Choice(question_id=press.question_id, option_id="4", event_id="2002", **ids)
    first = Choice(question_id=press.question_id, option_id="4", event_id="2001", **ids)
    assert not (await chat.send(second)).stale
    quiet = await chat.send(first)
    assert quiet.stale and quiet.replies == []
    assert [q for q, _ in await answers(runtime, "piet")] == ["goede_dag", "levenskwaliteit"]


# -- the webhook inbox --------------------------------------------------------------------------


def update_json(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    message: dict[str, object] = {
        "message_id": update_id % 100000,
        "date": 1,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "W", "language_code": "nl"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def test_the_webhook_keeps_an_update_until_it_is_answered_and_takes_over_a_dead_ones(
    api: FakeBotAPI, sqlite_url: str, data_key: str
) -> None:
    """Why: the 200 tells Telegram never to send the update again. A process that died
    after the 200 leaves the update in the inbox; a live process takes it over once its
    lease runs out, and the person gets their reply."""
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
        inbox_lease_seconds=1,
        _env_file=None,
    )
    # A process that died: it stored update 500001 (and answered 200), then nothing.
    runtime = await Runtime.create(settings)
    try:
        inbox = Inbox(runtime, CHANNEL, lease=0.01)
        assert await inbox.store(500001, json.dumps(update_json(500001, 9301, "/start")).encode())
        assert not await inbox.store(500001, b"{}"), "a redelivery is kept once"
        async with runtime.sessions() as session:
            row = (await session.execute(select(InboxRow))).scalar_one()
            assert b"/start" not in row.payload_enc, "what people type is stored encrypted"
    finally:
        await runtime.close()

    stop = asyncio.Event()
    task = asyncio.create_task(run_channel(settings, TelegramChannel(settings), stop=stop))
    try:
        await api.wait_for_call("setWebhook", timeout=15)
        await wait_until_listening(port)
        taken_over = await api.wait_for_sent(9301, timeout=10)
        assert "Wilt u meedoen?" in taken_over[0]["text"]
        async with httpx.AsyncClient() as client:
            posted = await client.post(
                url,
                json=update_json(500002, 9302, "/start"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-value"},
            )
        assert posted.status_code == 200
        await api.wait_for_sent(9302, timeout=10)
        runtime = await Runtime.create(settings)
        try:
            for _ in range(50):
                if await Inbox(runtime, CHANNEL).pending() == 0:
                    break
                await asyncio.sleep(0.05)
            assert await Inbox(runtime, CHANNEL).pending() == 0, "answered updates are removed"
        finally:
            await runtime.close()
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_a_claimed_update_is_not_claimed_again_until_its_lease_ends(
    runtime: Runtime,
) -> None:
    inbox = Inbox(runtime, CHANNEL, lease=60)
    await inbox.store(7, b'{"update_id": 7}')
    assert await inbox.claim_expired() == [], "the receiver still holds it"
    async with runtime.transaction() as session:
        row = (await session.execute(select(InboxRow))).scalar_one()
        row.lease_until = utcnow() - timedelta(seconds=1)
    [item] = await inbox.claim_expired()
    assert (item.update_id, item.payload, item.attempts) == (7, b'{"update_id": 7}', 2)
    assert await inbox.claim_expired() == [], "now the claimer holds it"
    await inbox.done(7)
    assert await inbox.pending() == 0


async def test_ready_only_when_the_schema_is_current(runtime: Runtime) -> None:
    """Why: during a roll-out the load balancer must not send traffic to a process whose
    database is not yet at the schema it needs; /health only says the process lives."""
    import httpx
    from sqlalchemy import text

    from bot.web.app import create_app

    app = create_app(runtime, ConversationService(runtime))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/ready")).status_code == 200
        async with runtime.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        behind = await client.get("/ready")
        assert behind.status_code == 503 and "not current" in behind.text
        assert (await client.get("/health")).status_code == 200
