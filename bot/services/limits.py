"""Limits shared by every process of one deployment: the Telegram send budget per bot token
and the share-link rate limit per client.

Where the counters live follows the database: with `REDIS_URL` set, in Redis (a Lua
script per send slot; for share links the `limits` library's moving window, in
bot/services/redis_client_limit.py, loaded only then); else, on
PostgreSQL, in the database's `rate_schedule` table (one atomic upsert per slot, see
bot/storage/rate_schedule.py), so several processes need nothing beside the database they
already share; on SQLite (one process), in this process's memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.config import Settings
from bot.storage import rate_schedule

log = logging.getLogger(__name__)


def namespace(secret: str) -> str:
    """A key per bot token that does not reveal the token to whoever reads Redis."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def budget_engine(database_url: str) -> AsyncEngine:
    """The send budget's own few connections, in autocommit: a slot is one round trip (no
    BEGIN/COMMIT, no ping), and turns never wait for a pool connection behind sends."""
    return rate_schedule.autocommit(
        create_async_engine(
            database_url,
            pool_size=2,
            max_overflow=3,
            pool_timeout=5,
            connect_args={"timeout": 5, "command_timeout": 5},
        )
    )


# Priorities of what is sent: replies to people who are chatting first, then the rest.
REPLY = 0
NOTICE = 1


# Reserve the next free send slot: slots are `interval` apart; returns the wait in ms.
# Runs atomically inside Redis, so processes never get the same slot.
_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return -1 end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(wait + interval) + 1000)
return math.floor(wait)
"""


class SendBudget:
    """At most `per_second` chat-bound calls in any one second, across every process.

    Calls are spaced (one slot every 1/per_second s, a little more for the jitter between
    taking a slot and the call reaching Telegram) rather than sent in bursts, so Telegram
    never sees more than the limit in any second. Each caller reserves its own slot on one
    GCRA schedule: in Redis when `redis_url` is given (an atomic script), else in
    PostgreSQL when `database_url` is given (an atomic upsert), else in memory.

    A reply takes the next slot however far off. A notice takes a slot only when replies
    are not queued for more than a fifth of a second, so notifications never make a
    person who is chatting wait.

    When the shared store does not answer, a call takes a slot from this process's own
    schedule instead (and says so once in the log): a reply is never lost to a hiccup of
    Redis or the database, and Telegram's 429 with retry_after covers what overlaps.

    (The `limits` library counts hits in windows but cannot hand out spaced slots; a
    moving window lets a full second's calls go at once, and the jitter after them made
    the fake Bot API see more than the limit in a second.)
    """

    MARGIN = 1.1  # slots 10% further apart than the limit says: jitter on the way there
    NOTICE_MAX_QUEUE_MS = 200

    def __init__(
        self,
        per_second: int,
        redis_url: str | None = None,
        key: str = "send",
        *,
        database_url: str | None = None,
    ) -> None:
        self.per_second = per_second
        self.interval_ms = 1000.0 / per_second * self.MARGIN
        self.key = f"tijdig:{key}"
        self._redis: Any = None
        self._script: Any = None
        self._db: AsyncEngine | None = None
        self._local_tat = 0.0
        self._degraded = False
        self.clock = time.time  # Redis and memory schedule on this clock; PostgreSQL on its own
        self._store_errors: tuple[type[Exception], ...] = ()
        if redis_url:  # imported only when used: Redis is optional
            import redis.asyncio as aioredis
            from redis.exceptions import RedisError

            self._store_errors = (RedisError,)
            self._redis = aioredis.from_url(redis_url)
            self._script = self._redis.register_script(_RESERVE)
            self.backend = "redis"
        elif database_url and database_url.startswith("postgresql"):
            self._db = budget_engine(database_url)
            self.backend = "postgresql"
        else:
            self.backend = "memory"

    @classmethod
    def for_settings(cls, settings: Settings, key: str) -> SendBudget:
        """Redis when REDIS_URL is set, else PostgreSQL, else (SQLite: one process) memory."""
        return cls(
            settings.telegram_rate_limit,
            settings.redis_url,
            key,
            database_url=None if settings.is_sqlite else settings.database_url,
        )

    async def _reserve(self, max_wait_ms: float) -> float | None:
        """Seconds to this caller's slot, or None when it is more than `max_wait_ms` away."""
        if self.backend != "memory":
            try:
                wait_ms = await self._reserve_shared(max_wait_ms)
            except (OSError, DBAPIError, TimeoutError, *self._store_errors) as exc:
                if not self._degraded:
                    log.warning(
                        "send budget: %s not answering (%s); using this process's own",
                        self.backend,
                        type(exc).__name__,
                    )
                self._degraded = True
            else:
                if self._degraded:
                    log.info("send budget: %s answers again", self.backend)
                self._degraded = False
                return None if wait_ms is None else wait_ms / 1000
        now = self.clock() * 1000
        tat = max(self._local_tat, now)
        if tat - now > max_wait_ms:
            return None
        self._local_tat = tat + self.interval_ms
        return (tat - now) / 1000

    async def _reserve_shared(self, max_wait_ms: float) -> float | None:
        if self._script is not None:
            now = self.clock() * 1000
            wait = int(
                await self._script(keys=[self.key], args=[now, self.interval_ms, max_wait_ms])
            )
            return None if wait < 0 else float(wait)
        assert self._db is not None
        try:
            return await rate_schedule.reserve(self._db, self.key, self.interval_ms, max_wait_ms)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The database restarted since the pooled connection was made: a new one.
            return await rate_schedule.reserve(self._db, self.key, self.interval_ms, max_wait_ms)

    async def try_take(self, max_wait_ms: float) -> float | None:
        """A slot at most `max_wait_ms` away (seconds to wait for it), or None and nothing
        taken: for calls that are better skipped than queued."""
        return await self._reserve(max_wait_ms)

    async def take(self, priority: int = REPLY) -> float:
        """Wait for this call's slot; returns how long it waited (seconds)."""
        started = time.monotonic()
        max_wait = 1e12 if priority == REPLY else self.NOTICE_MAX_QUEUE_MS
        while True:
            wait = await self._reserve(max_wait)
            if wait is not None:
                break
            await asyncio.sleep(0.1)  # replies are queued: a notice comes back later
        if wait > 0:
            await asyncio.sleep(wait)
        return time.monotonic() - started

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        if self._db is not None:
            await self._db.dispose()


@dataclass
class DatabaseClientLimit:
    """The share-link rate limit in PostgreSQL: `burst` requests at once per client, then
    one every 60/burst seconds (a GCRA schedule per client: the in-memory token bucket's
    behaviour, shared by every process), in autocommit beside any other transaction."""

    db: AsyncEngine
    burst: int = 30

    def __post_init__(self) -> None:
        self.db = rate_schedule.autocommit(self.db)

    async def take(self, client: str) -> int | None:
        """None when allowed, else whole seconds to wait."""
        interval_ms = 60_000 / self.burst
        tolerance_ms = interval_ms * (self.burst - 1)
        key = f"share:{client}"
        if await rate_schedule.reserve(self.db, key, interval_ms, tolerance_ms) is not None:
            return None
        ahead_ms = await rate_schedule.behind(self.db, key)
        return max(1, math.ceil((ahead_ms - tolerance_ms) / 1000))
