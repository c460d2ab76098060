"""Per-chat ordering inside one process: a chat's updates one after another, chats side by side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# How long the long poll waits at most for the turns in flight before it asks for more.
# Measured (bench/telegram_bench.py, 50 people back to back): getUpdates per answer 0.94
# to 0.35 and about 10% less CPU per answer; at light load nothing is in flight, so no
# wait at all.
POLL_GATHER_SECONDS = 0.02


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
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def active_chats(self) -> int:
        return len(self._locks)

    async def settled(self, at_most: float) -> None:
        """Return once no update is in flight, or after `at_most` seconds.

        The long poll waits here before it asks for more (`UpdatesRequest`): while turns
        are running, the updates that arrive meanwhile come in one getUpdates instead of
        one each. When nothing is in flight it returns at once, so a quiet bot answers as
        fast as before."""
        if self._in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), at_most)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._in_chat_order(update, coroutine)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _in_chat_order(self, update: object, coroutine: Awaitable[Any]) -> None:
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
