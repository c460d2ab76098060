"""The yardstick: a textbook python-telegram-bot questionnaire (`telegram_bench.py --bot textbook`).

ConversationHandler + PicklePersistence (answers in memory, flushed to a pickle now and
then, so an answer is not durable when it is acknowledged), polling against
TELEGRAM_API_BASE_URL, no flood limiter. Per button answer: answer the callback, edit the
question to show the choice, send the next question (two chat-bound calls). It follows
the bench's script: /start, two buttons, a typed name, then questions with buttons.
Not part of Tijdig; it is here so that "as cheap as a memory-only bot" is measured on the
same machine in the same way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

CONSENT, WHO, NAME, ASK = range(4)
OPTIONS = ("Thuis", "Bij familie", "In een verpleeghuis", "Weet ik nog niet")


def buttons(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=t)] for t in labels])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Welkom. Doet u mee?", reply_markup=buttons("Ja, ik doe mee")
    )
    return CONSENT


def step(asked: str, then: str, labels: tuple[str, ...], state: int) -> Any:
    """A button answer: show the choice on the question, then ask the next one."""

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await query.edit_message_text(f"{asked}\n\n✓ {query.data}")
        await query.message.reply_text(then, reply_markup=buttons(*labels) if labels else None)
        return state

    return handler


consent = step("Welkom. Doet u mee?", "Vult u het zelf in?", ("Ik vul het zelf in",), WHO)
who = step("Vult u het zelf in?", "Hoe mag ik u noemen?", (), NAME)


async def name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message is not None and context.user_data is not None
    context.user_data["name"] = update.effective_message.text
    context.user_data["answers"] = []
    await update.effective_message.reply_text(question(0), reply_markup=buttons(*OPTIONS))
    return ASK


def question(n: int) -> str:
    return f"Vraag {n + 1}: waar wilt u het liefst wonen als u ouder wordt?"


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None and query.message is not None and context.user_data is not None
    answers: list[str] = context.user_data["answers"]
    await query.answer()
    await query.edit_message_text(f"{question(len(answers))}\n\n✓ {query.data}")
    answers.append(str(query.data))
    await query.message.reply_text(question(len(answers)), reply_markup=buttons(*OPTIONS))
    return ASK


def main() -> None:
    base = os.environ["TELEGRAM_API_BASE_URL"]
    store = Path(tempfile.mkdtemp(prefix="textbook-")) / "state.pickle"
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base if "{token}" in base else base + "/bot")
        .persistence(PicklePersistence(store))
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                CONSENT: [CallbackQueryHandler(consent)],
                WHO: [CallbackQueryHandler(who)],
                NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, name)],
                ASK: [CallbackQueryHandler(answer)],
            },
            fallbacks=[CommandHandler("start", start)],
            name="questionnaire",
            persistent=True,
        )
    )
    application.run_polling(timeout=30)


if __name__ == "__main__":
    main()
