"""Telegram's flood limit as one budget for the whole bot, shared by every process.

`TELEGRAM_RATE_LIMIT` chat-bound calls (those with a `chat_id`: sends and edits) in any
one second, spaced evenly, scheduled in Redis when `REDIS_URL` is set, else in PostgreSQL,
else (SQLite) in memory (bot.services.limits). Calls without a chat (answering a button
press, getMe) are not counted, as Telegram does not count them.
Replies go first: a notice (`rate_limit_args=NOTICE`) waits while replies are queued,
and a tidy-up (`rate_limit_args=TIDY`: taking the buttons off a question already answered)
is made only when the budget is idle (its next slot is free now), else skipped
(`Skipped`), so it never makes a reply or a notice wait behind it.
When Telegram still answers 429, the call waits `retry_after` and tries again.

Slots are handed out spaced, but a call goes out only when the event loop gets to it:
after the loop was busy for a moment, every call whose slot passed meanwhile would go at
once, more than a second's worth in a second. `SendWindow` holds each process to fewer
than the limit in any second by the moments its calls actually go out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.services.limits import REPLY, SendBudget

log = logging.getLogger(__name__)

# Below NOTICE (bot.services.limits): worth doing only when nobody waits for the slot.
TIDY = 2


class Skipped(TelegramError):
    """A tidy-up call was not made: no send slot was free at once."""

    def __init__(self) -> None:
        super().__init__("skipped: no free send slot for a tidy-up")


JSONish = bool | dict[str, Any] | list[dict[str, Any]]


class SendWindow:
    """At most `limit` calls in any one second, counted when they go out (monotonic)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.sent: deque[float] = deque(maxlen=max(1, limit))
        self.clock = clock
        self._turn = asyncio.Lock()  # one waiter at a time: after its wait, its call fits

    def wait(self) -> float:
        """Seconds until one more call fits (0: now)."""
        if len(self.sent) < (self.sent.maxlen or 1):
            return 0.0
        return max(0.0, self.sent[0] + 1.0 - self.clock())

    async def enter(self) -> None:
        """Wait until one more call fits, and count it as going out now."""
        async with self._turn:
            wait = self.wait()
            if wait > 0:
                await asyncio.sleep(wait)
            self.sent.append(self.clock())


class SharedFloodLimiter(BaseRateLimiter[int]):
    def __init__(self, budget: SendBudget, *, max_retries: int = 2) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.waited = 0.0  # seconds spent waiting for the budget (the benchmark reads it)
        # One below the limit: the budget's own spacing never reaches it, so it only holds
        # back calls bunched up by a busy moment.
        self.window = SendWindow(budget.per_second - 1)

    async def initialize(self) -> None:
        """Nothing to open: the storage connects on first use."""

    async def shutdown(self) -> None:
        await self.budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONish]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONish:
        chat_bound = data.get("chat_id") is not None
        priority = REPLY if rate_limit_args is None else rate_limit_args
        if priority == TIDY and chat_bound:
            wait = await self._next_slot_or_none()
            if wait is None or self.window.wait() > 0:
                raise Skipped
            await asyncio.sleep(wait)
            await self.window.enter()  # it fitted a moment ago: seldom a wait
            try:
                return await callback(*args, **kwargs)
            except RetryAfter:
                raise Skipped from None  # only tidying: not worth a retry
        for attempt in range(self.max_retries + 1):
            if chat_bound:
                self.waited += await self.budget.take(priority)
                await self.window.enter()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                wait = retry_after_seconds(exc)
                log.info("Telegram asked to wait %s s (flood limit)", wait)
                await asyncio.sleep(wait + 0.1)
        raise AssertionError("unreachable")

    async def _next_slot_or_none(self) -> float | None:
        """The next send slot, only if it is free now (no call holds it or waits for it):
        seconds to wait (0), or None. Near the flood limit the budget is seldom idle, and
        the tidy-ups wait for nobody; when few people chat it nearly always is."""
        return await self.budget.try_take(0)


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for. PTB 22 hands it as an int with a deprecation warning
    (a timedelta when PTB_TIMEDELTA is set); either way, seconds, and no warning in the log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
