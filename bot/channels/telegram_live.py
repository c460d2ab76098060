"""The one message per chat whose buttons are the current screen's, and tidying the one
before it.

When a new screen is sent, the previous screen's buttons are taken off, so a stray tap on
them is less likely (a tap there is still answered kindly by the engine). That edit is
cosmetic, and every chat-bound call counts against Telegram's flood limit, so it waits
TIDY_AFTER seconds and is made only when the send budget is idle at that moment
(`rate_limit_args=TIDY`, bot/channels/telegram_limits.py); when people are waiting for
replies it is left undone. Kept in memory only: after a restart old buttons are still
handled safely by the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict

from telegram import Bot
from telegram.error import TelegramError

from bot.channels.telegram_limits import TIDY

MAX_CHATS = 10_000  # chats remembered; the oldest go first
TIDY_AFTER = 1.0  # seconds after the new screen: its reply has gone, the budget may be idle


class LiveKeyboards:
    def __init__(self, max_chats: int = MAX_CHATS) -> None:
        self.max_chats = max_chats
        self._by_chat: OrderedDict[int, int] = OrderedDict()
        self._tidying: set[asyncio.Task[None]] = set()

    def get(self, chat_id: int) -> int | None:
        return self._by_chat.get(chat_id)

    def drop(self, chat_id: int, message_id: int) -> None:
        """The message's buttons go now (the caller edits it): not again later."""
        if self._by_chat.get(chat_id) == message_id:
            del self._by_chat[chat_id]

    def replace(self, bot: Bot, chat_id: int, message_id: int) -> None:
        """`message_id` holds the chat's buttons now; the one before loses its own later."""
        previous = self._by_chat.pop(chat_id, None)
        self._by_chat[chat_id] = message_id
        while len(self._by_chat) > self.max_chats:
            self._by_chat.popitem(last=False)
        if previous is not None and previous != message_id:
            task = asyncio.get_running_loop().create_task(self._tidy(bot, chat_id, previous))
            self._tidying.add(task)
            task.add_done_callback(self._tidying.discard)

    async def _tidy(self, bot: Bot, chat_id: int, message_id: int) -> None:
        await asyncio.sleep(TIDY_AFTER)
        tidy = {"rate_limit_args": TIDY} if getattr(bot, "rate_limiter", None) else {}
        # Skipped (the budget was busy), too old to edit, or the network: it stays as it is.
        with contextlib.suppress(TelegramError):
            await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None, **tidy)

    async def close(self) -> None:
        """Tidy-ups not yet made are dropped (before the Bot API client closes)."""
        for task in list(self._tidying):
            task.cancel()
        await asyncio.gather(*self._tidying, return_exceptions=True)
