"""Limits shared by every process of one deployment: the Telegram send budget per bot token
and the share-link rate limit per client.

With `REDIS_URL` set, the counters live in Redis (the `limits` library's moving window,
one Lua script per hit, so N processes share one budget); without it, in this process's
memory, which is right for the single process that SQLite allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from bot.config import Settings


def limit_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        storage = storage_from_string(
            "async+" + settings.redis_url, implementation="redispy", key_prefix="tijdig"
        )
        assert isinstance(storage, Storage)
        return storage
    return MemoryStorage()


def namespace(secret: str) -> str:
    """A key per bot token that does not reveal the token to whoever reads Redis."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


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
    never sees more than the limit in any second. Each caller reserves its own slot, in
    Redis when REDIS_URL is set (an atomic script: a GCRA schedule), else in memory.

    A reply takes the next slot however far off. A notice takes a slot only when replies
    are not queued for more than a fifth of a second, so notifications never make a
    person who is chatting wait.

    (The `limits` library counts hits in windows but cannot hand out spaced slots; a
    moving window lets a full second's calls go at once, and the jitter after them made
    the fake Bot API see more than the limit in a second.)
    """

    MARGIN = 1.1  # slots 10% further apart than the limit says: jitter on the way there
    NOTICE_MAX_QUEUE_MS = 200

    def __init__(self, per_second: int, redis_url: str | None, key: str) -> None:
        self.per_second = per_second
        self.interval_ms = 1000.0 / per_second * self.MARGIN
        self.key = f"tijdig:{key}"
        self._redis: Any = None
        self._script: Any = None
        self._local_tat = 0.0
        self._lock = asyncio.Lock()
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url)
            self._script = self._redis.register_script(_RESERVE)

    async def _reserve(self, max_wait_ms: float) -> float | None:
        now = time.time() * 1000
        if self._script is not None:
            wait = int(
                await self._script(keys=[self.key], args=[now, self.interval_ms, max_wait_ms])
            )
            return None if wait < 0 else wait / 1000
        async with self._lock:
            tat = max(self._local_tat, now)
            if tat - now > max_wait_ms:
                return None
            self._local_tat = tat + self.interval_ms
            return (tat - now) / 1000

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


@dataclass
class SharedClientLimit:
    """The share-link rate limit: `burst` requests per client per minute (a moving window:
    a burst of `burst`, then as the window moves, about one every 60/burst seconds)."""

    storage: Storage
    burst: int = 30

    def __post_init__(self) -> None:
        self.item: RateLimitItem = RateLimitItemPerMinute(self.burst)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def take(self, client: str) -> int | None:
        """None when allowed, else whole seconds to wait."""
        if await self.limiter.hit(self.item, "share", client):
            return None
        stats = await self.limiter.get_window_stats(self.item, "share", client)
        return max(1, int(stats.reset_time - time.time() + 0.999))
