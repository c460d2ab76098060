"""Per-chat ordering inside one process: a chat's updates one after another, chats side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of one chat run one after another; different chats run at the same time.

    A lock exists only while a chat has updates in flight, so a bot with many thousands of
    chats holds locks for the few that are active.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        after: Callable[[object], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._after = after  # told once an update has been handled (the inbox forgets it)

    @property
    def active_chats(self) -> int:
        return len(self._locks)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """The chat's turn first, then one of the process's slots: a chat's later updates
        wait without holding a slot, so one busy chat never keeps the others waiting."""
        key = _chat_key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine  # PTB's error handlers catch what fails
        if self._after is not None:
            await self._after(update)

    async def initialize(self) -> None:
        """Nothing to set up; locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to tear down; locks go with their last update."""


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None
