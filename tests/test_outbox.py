"""Reminders to continue and notices, through the database outbox, with a controllable clock.

Why: a person who stops halfway should get one kind reminder after the set time, never
at night, never twice, never after they said stop or erased everything, and its button
must continue exactly where they were. And a notice ("your summary was opened") must
reach the chat even when the link was opened in a process that cannot send it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings, load_settings
from bot.engine.replies import Message, Reply
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.models import OutboxMessage, Participant, ShareLink
from bot.testing import ChatDriver, CollectingChannel
from tests.conftest import DEMO_FLOWS
from tests.summary_support import FrozenClock, link_of
from tests.test_family import invite

EVENING = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 21:30 in Amsterdam (CET)


@dataclass
class Box:
    service: ConversationService
    channel: CollectingChannel
    clock: FrozenClock
    chat: ChatDriver

    async def send(self) -> list[Message]:
        """Let the outbox send what is due now; the messages that reached the chat."""
        before = len(self.channel.pushed)
        while await self.service.outbox.send_due():
            pass
        return [r for _a, replies in self.channel.pushed[before:] for r in replies]

    async def rows(self) -> list[OutboxMessage]:
        async with self.service.runtime.sessions() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            return list((await session.execute(query)).scalars())


async def make_box(runtime: Runtime, now: datetime | None = None) -> Box:
    clock = FrozenClock(now) if now else FrozenClock()
    service = ConversationService(runtime, clock=clock)
    channel = CollectingChannel()
    await channel.start(service, web_running=False)
    service.outbox.register(channel.name, channel.push)
    return Box(service, channel, clock, channel.chat("anna"))


@pytest.fixture
async def box(runtime: Runtime) -> AsyncIterator[Box]:
    yield await make_box(runtime)


async def stop_halfway(chat: ChatDriver) -> None:
    """Consent, a name, one topic started: one question answered, more to come."""
    await chat.ready()
    await chat.open_topic("belangrijk")
    await chat.say("Koffie in de tuin")
    assert "Wat vindt u belangrijker?" in chat.last_text


# -- reminders ----------------------------------------------------------------------------------


async def test_a_reminder_is_sent_once_when_due_then_a_second_then_none(box: Box) -> None:
    await stop_halfway(box.chat)
    box.clock.advance(days=2, hours=23)
    assert await box.send() == []
    box.clock.advance(hours=1)
    (first,) = await box.send()
    assert first.text.startswith("Dag Anna,\nU was een paar dagen geleden bezig met Tijdig.")
    assert [b.label for b in first.flat_buttons] == ["Verder", "Geen herinneringen meer"]
    assert await box.send() == []  # never twice for one due moment
    box.clock.advance(days=6, hours=23)
    assert await box.send() == []
    box.clock.advance(hours=1)  # ten days after they stopped
    (second,) = await box.send()
    assert "Nog één keer" in second.text
    box.clock.advance(days=60)
    assert await box.send() == []  # then none unless they ask


async def test_the_reminder_button_continues_where_continue_would(box: Box) -> None:
    await stop_halfway(box.chat)
    await box.chat.command("stop")
    box.clock.advance(days=3)
    (reminder,) = await box.send()
    await box.chat.press(reminder.flat_buttons[0])  # "Verder", pressed days later
    assert "Wat vindt u belangrijker?" in box.chat.last_text
    via_button = box.chat.last_text
    other = await make_box(box.service.runtime)
    other.chat = other.channel.chat("bert")
    await stop_halfway(other.chat)
    await other.chat.command("stop")
    await other.chat.command("verder")
    assert other.chat.last_text == via_button


async def test_quiet_hours_hold_a_reminder_until_morning(runtime: Runtime) -> None:
    box = await make_box(runtime, EVENING)
    await stop_halfway(box.chat)
    box.clock.advance(days=3)  # due at 21:30 Dutch time
    assert await box.send() == []
    box.clock.now = datetime(2026, 3, 6, 7, 59, tzinfo=UTC)  # 08:59 in Amsterdam
    assert await box.send() == []
    box.clock.advance(minutes=1)  # 09:00
    (reminder,) = await box.send()
    assert "U was een paar dagen geleden bezig" in reminder.text


async def test_stop_reminders_from_the_reminder_and_with_the_command(box: Box) -> None:
    await stop_halfway(box.chat)
    box.clock.advance(days=3)
    (reminder,) = await box.send()
    await box.chat.press(reminder.flat_buttons[1])  # "Geen herinneringen meer"
    assert any("geen herinneringen meer" in n for n in box.chat.notices)
    box.clock.advance(days=30)
    assert await box.send() == []
    await box.chat.command("herinneringen")
    await box.chat.press("Elke week")
    box.clock.advance(days=6)
    assert await box.send() == []
    box.clock.advance(days=1)
    assert len(await box.send()) == 1
    box.clock.advance(days=7)
    assert len(await box.send()) == 1  # weekly goes on while they are halfway


async def test_a_chat_that_blocked_the_bot_is_marked_and_gets_nothing_more(box: Box) -> None:
    await stop_halfway(box.chat)
    box.channel.blocked.add("anna")
    box.clock.advance(days=3)
    assert await box.send() == []
    async with box.service.runtime.sessions() as session:
        (participant,) = (await session.execute(select(Participant))).scalars()
        assert participant.blocked_at is not None
    assert [(r.kind, r.outcome) for r in await box.rows()] == [("reminder", "blocked")]
    box.channel.blocked.clear()
    box.clock.advance(days=30)
    assert await box.send() == []


async def test_nothing_is_sent_to_a_chat_known_to_have_blocked_the_bot(box: Box) -> None:
    await stop_halfway(box.chat)
    await box.service.mark_blocked(box.channel.name, "anna")  # Telegram said so meanwhile
    box.clock.advance(days=3)
    assert await box.send() == []
    assert [(r.kind, r.outcome) for r in await box.rows()] == [("reminder", "blocked")]


async def test_writing_again_after_unblocking_brings_reminders_back(box: Box) -> None:
    await stop_halfway(box.chat)
    await box.service.mark_blocked(box.channel.name, "anna")
    await box.chat.press("3")  # she unblocked the bot and answers again, then stops
    box.clock.advance(days=3)
    [reminder] = await box.send()
    assert "Verder" in [b.label for b in reminder.flat_buttons]


async def test_nothing_before_consent_and_nothing_after_erasing(box: Box) -> None:
    stranger = box.channel.chat("stranger")
    await stranger.start()  # only looked; said nothing yet
    await stop_halfway(box.chat)
    await box.chat.command("verwijderen")
    await box.chat.press("Ja, verwijder alles")
    assert await box.rows() == []  # erasing deleted the due reminder
    box.clock.advance(days=30)
    assert await box.send() == []


async def test_a_reminder_claimed_before_an_erase_is_not_sent(box: Box) -> None:
    await stop_halfway(box.chat)
    box.clock.advance(days=3)
    outbox = box.service.outbox
    original = outbox._send

    async def erase_first(record: object) -> str:
        await box.chat.command("verwijderen")
        await box.chat.press("Ja, verwijder alles")
        return await original(record)  # type: ignore[arg-type]

    outbox._send = erase_first  # type: ignore[method-assign]
    assert await box.send() == []


async def test_a_restart_between_due_and_send_sends_it_once(settings: Settings) -> None:
    first = await Runtime.create(settings)
    try:
        box = await make_box(first)
        await stop_halfway(box.chat)  # the process stops before the reminder is due
    finally:
        await first.close()
    sent: list[Message] = []
    for _restart in range(2):
        runtime = await Runtime.create(settings)
        try:
            again = await make_box(runtime, box.clock.now + timedelta(days=3, minutes=5))
            sent += await again.send()
        finally:
            await runtime.close()
    assert len(sent) == 1 and "U was een paar dagen geleden bezig" in sent[0].text


# -- notices ("your summary was opened") ----------------------------------------------------------


async def test_a_notice_waits_for_the_process_with_the_channel_and_counts_once_sent(
    runtime: Runtime,
) -> None:
    """Issue 12, point 5: an opening through a process without the person's channel (like
    `serve` for the terminal) is not lost and does not use up the hourly notice."""
    chat_process = await make_box(runtime)
    await chat_process.chat.ready()
    path = link_of(await chat_process.chat.command("delen")).url.split("/s/")[1]
    web_only = ConversationService(runtime, clock=chat_process.clock)  # no channel here
    async with runtime.transaction() as session:
        access = await web_only.link_opening.open(
            session, path, fmt="html", client="198.51.100.1", cookies={}, locale=None
        )
    assert access.outcome == "ok"
    assert await web_only.outbox.send_due() == 0  # nobody to send it to here
    async with runtime.sessions() as session:
        (link,) = (await session.execute(select(ShareLink))).scalars()
        assert link.notified_at is None  # not told, so not counted
    chat_process.clock.advance(minutes=5)
    (notice,) = await chat_process.send()
    assert notice.text.startswith("Uw samenvatting is geopend op 2 maart 2026 om 10:30")
    async with runtime.transaction() as session:  # within the hour: no second notice
        await web_only.link_opening.open(
            session, path, fmt="pdf", client="198.51.100.1", cookies={}, locale=None
        )
    assert await chat_process.send() == []


async def test_a_relatives_change_asks_the_person_about_their_gp_never_the_relative(
    box: Box,
) -> None:
    """Issue 10, point 4: after the GP opened the link, a helper's change is the person's
    to tell (so the person is asked); a relative's own view is not a wish: nobody is."""
    anna = await box.chat.ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    mays = ("Een eigen kijk geven", "Mijn antwoorden invullen")
    codes = [await invite(anna, may=may) for may in mays]
    path = link_of(await anna.command("delen")).url.split("/s/")[1]
    async with box.service.runtime.transaction() as session:
        await box.service.link_opening.open(
            session, path, fmt="html", client="198.51.100.1", cookies={}, locale=None
        )
    asked: list[str] = []
    for user, code in zip(("piet", "els"), codes, strict=True):  # a view, then a helper
        relative = box.channel.chat(user)
        await relative.start(code)
        await relative.press("Ja, ik doe mee")
        await relative.say(user.title())
        await relative.press("Zoon" if user == "piet" else "Dochter")
        await relative.open_topic("Wonen")
        await relative.press("Waar zorg is" if user == "piet" else "Nee")  # Els: next open one
        box.clock.advance(minutes=31)
        before = len(box.channel.notices)
        await box.send()
        asked += [
            address
            for address, text in box.channel.notices[before:]
            if "Uw huisarts had uw samenvatting al geopend." in text
        ]
        assert asked == ([] if user == "piet" else ["anna"])
    tell_gp = [row for row in await box.rows() if row.kind == "tell_gp"]
    assert len(tell_gp) == 1


# -- several processes ----------------------------------------------------------------------------


def slowly(push: Callable[[str, list[Reply]], Awaitable[None]]) -> Any:
    async def slow_push(address: str, replies: list[Reply]) -> None:
        await asyncio.sleep(0.05)
        await push(address, replies)

    return slow_push


@pytest.mark.postgres
async def test_two_processes_on_postgres_send_each_reminder_exactly_once(
    postgres_url: str, data_key: str
) -> None:
    settings = load_settings(
        database_url=postgres_url, data_key=data_key, flows_dir=DEMO_FLOWS, _env_file=None
    )
    one, two = await Runtime.create(settings), await Runtime.create(settings)
    try:
        first = await make_box(one)
        people = [first.channel.chat(f"p{n}") for n in range(24)]
        for chat in people:
            await stop_halfway(chat)
        later = first.clock.now + timedelta(days=3, minutes=1)
        boxes = [await make_box(one, later), await make_box(two, later)]

        for box in boxes:  # a slow chat service, so claims overlap with sending
            box.channel.push = slowly(box.channel.push)  # type: ignore[method-assign]
            box.service.outbox.register(box.channel.name, box.channel.push)

        # two workers in each process, all at once
        await asyncio.gather(*(box.send() for box in boxes for _worker in range(2)))
        got = [[address for address, _replies in box.channel.pushed] for box in boxes]
        assert sorted(got[0] + got[1]) == sorted(f"p{n}" for n in range(24))
        assert got[0] and got[1], "both processes took part"
        async with one.sessions() as session:
            sent = select(func.count()).where(OutboxMessage.outcome == "sent")
            assert (await session.execute(sent)).scalar_one() == 24
    finally:
        await one.close()
        await two.close()


def test_durations_take_seconds_or_iso_8601_and_quiet_hours_take_off() -> None:
    settings = load_settings(
        reminder_after="3",
        reminder_second_after="P10D",
        review_after="P12M",
        quiet_hours="off",
        _env_file=None,
    )
    assert settings.reminder_after == timedelta(seconds=3)
    assert settings.reminder_second_after == timedelta(days=10)
    assert settings.review_after == timedelta(days=365.25)
    assert settings.quiet_hours is None
    assert load_settings(review_after="PT12H", _env_file=None).review_after == timedelta(hours=12)


async def test_reminders_due_while_down_go_out_spread_out_not_as_a_burst(box: Box) -> None:
    for n in range(5):
        await stop_halfway(box.channel.chat(f"p{n}"))
    box.service.outbox.settings = dataclasses.replace(
        box.service.runtime.settings,
        reminder_rate=2.0,  # rounds of 4: the pace holds across rounds too
    )
    moments: list[float] = []
    push = box.channel.push

    async def timed(address: str, replies: list[Reply]) -> None:
        moments.append(asyncio.get_running_loop().time())
        await push(address, replies)

    box.service.outbox.register(box.channel.name, timed)
    box.clock.advance(days=5)  # the bot was down when they fell due
    assert len(await box.send()) == 5
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert min(gaps) >= 0.45, gaps  # at most REMINDER_RATE (2) a second


async def test_a_reminder_waits_while_replies_to_people_chatting_are_made(box: Box) -> None:
    await stop_halfway(box.chat)
    box.clock.advance(days=3)
    activity = box.service.outbox.activity
    with activity:  # someone's message is being handled right now
        sending = asyncio.ensure_future(box.send())
        await asyncio.sleep(0.3)
        assert box.channel.pushed == []
    assert len(await sending) == 1


async def test_after_long_downtime_the_two_reminders_do_not_come_as_a_pair(box: Box) -> None:
    await stop_halfway(box.chat)
    box.clock.advance(days=30)  # the bot was down past both due moments
    (first,) = await box.send()
    assert "U was een paar dagen geleden bezig" in first.text
    box.clock.advance(days=6)
    assert await box.send() == []
    box.clock.advance(days=1)  # the gap between the two, counted from the first
    (second,) = await box.send()
    assert "Nog één keer" in second.text


async def test_the_terminal_shows_a_reminder_with_numbered_buttons_to_its_own_user() -> None:
    from bot.channels.terminal import TerminalChannel, TerminalChat
    from bot.engine import Choice, Conversation
    from bot.engine.screens.reminders import reminder_message
    from bot.i18n import translator
    from bot.services.outbox import NotHere

    async def handle(channel: str, event: object) -> Any:
        raise AssertionError("nothing is handled here")

    out = io.StringIO()
    terminal = TerminalChannel("anna", web=False)
    terminal.chat = TerminalChat(handle, "anna", out, echo_input=False)
    message = reminder_message(translator("nl"), Conversation(name="Anna"), 1)
    await terminal.push("anna", [message])
    assert "[1] Verder" in out.getvalue() and "[2] Geen herinneringen meer" in out.getvalue()
    pressed = terminal.chat.event("1")
    assert isinstance(pressed, Choice) and pressed.option_id == "continue"
    with pytest.raises(NotHere):  # another user's reminder waits until they chat here
        await terminal.push("bert", [message])
