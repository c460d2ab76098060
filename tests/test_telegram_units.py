"""Small Telegram pieces: button data, message splitting, per-chat ordering."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram import Chat, Message, Update, User

from bot.channels.telegram_format import decode_button, encode_button, split_text
from bot.channels.telegram_order import ChatOrderedProcessor
from bot.content.loader import load_flows
from bot.engine.replies import Button
from tests.conftest import DEMO_FLOWS, ROOT


@pytest.mark.parametrize("flows_dir", [DEMO_FLOWS, ROOT / "flows"], ids=["demo", "shipped"])
def test_every_button_of_every_flow_fits_in_64_bytes(flows_dir: Path) -> None:
    for flow in load_flows(flows_dir).values():
        for topic in flow.topics:
            screens = [f"i.{topic.id}", *(q.id for q in topic.questions)]
            options = [o.id for q in topic.questions for o in q.options] + ["_skip", "begin"]
            for screen in screens:
                for option in options:
                    button = Button("label", screen, option)
                    data = encode_button(button)
                    assert len(data.encode()) <= 64
                    assert decode_button(data) == (screen, option)


def test_button_data_over_64_bytes_is_refused_not_sent() -> None:
    """Telegram rejects the whole message for one button over 64 bytes: say which."""
    with pytest.raises(ValueError, match="over 64 bytes"):
        encode_button(Button("label", "s" * 60, "option"))


def test_unreadable_button_data_is_recognised_not_guessed() -> None:
    assert decode_button("0|menu|1|x") is None  # another version
    assert decode_button("1|menu|zz|x") is None
    assert decode_button("garbage") is None


def test_buttons_from_before_the_revision_went_still_work() -> None:
    """Version 1 data (`1|screen|revision|option`) stays in people's chats; its screen and
    option still count, so an old message of the same open question still answers it."""
    assert decode_button("1|woonplek|1f|thuis") == ("woonplek", "thuis")


def test_long_text_is_split_under_the_limit_without_losing_a_character() -> None:
    text = "\n\n".join(f"Alinea {n}. " + "woord " * 300 for n in range(10))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(chunk) <= 4096 for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    one_long_word = "x" * 9000
    assert [len(c) for c in split_text(one_long_word)] == [4096, 4096, 808]
    assert split_text("kort") == ["kort"]


def _update(update_id: int, chat_id: int) -> Update:
    user = User(id=chat_id, first_name="T", is_bot=False)
    chat = Chat(id=chat_id, type="private")
    message = Message(message_id=update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id=update_id, message=message)


async def test_one_chat_is_handled_in_order_while_chats_run_side_by_side() -> None:
    processor = ChatOrderedProcessor()
    log: list[tuple[int, str]] = []
    both_running = asyncio.Event()
    running: set[int] = set()

    async def work(chat_id: int, update_id: int, delay: float) -> None:
        log.append((update_id, "start"))
        running.add(chat_id)
        if len(running) == 2:
            both_running.set()
        await asyncio.sleep(delay)
        log.append((update_id, "end"))
        running.discard(chat_id)

    await asyncio.gather(
        processor.process_update(_update(1, 10), work(10, 1, 0.05)),
        processor.process_update(_update(2, 10), work(10, 2, 0.0)),
        processor.process_update(_update(3, 20), work(20, 3, 0.01)),
    )
    chat_10 = [entry for entry in log if entry[0] in (1, 2)]
    assert chat_10 == [(1, "start"), (1, "end"), (2, "start"), (2, "end")]
    assert both_running.is_set(), "another chat was not held up"
    assert processor.active_chats == 0, "locks are cleaned up after use"
