"""A token bucket per client, in this process's memory.

Good for one process (SQLite). With several web processes behind a load balancer each
would keep its own buckets, so the app then uses a limit all processes share (the same
`take`): `SharedClientLimit` in Redis when REDIS_URL is set
(bot.services.redis_client_limit), else `DatabaseClientLimit` in PostgreSQL
(bot.services.limits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class ClientLimit(Protocol):
    """A rate limit per client: this one, or one shared by every process."""

    async def take(self, client: str) -> int | None:
        """None when allowed, else whole seconds to wait."""
        ...


@dataclass
class RateLimiter:
    capacity: float = 30.0  # requests in a burst
    refill_per_second: float = 0.5  # then one every two seconds
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 50_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str) -> bool:
        """Take one token for this client; False when its bucket is empty."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1, now)
        if len(self._buckets) > self.max_clients:
            self._forget_full(now)
        return True

    async def take(self, client: str) -> int | None:
        """None when allowed, else whole seconds to wait (the shared limiter's interface)."""
        return None if self.allow(client) else self.retry_after(client)

    def retry_after(self, client: str) -> int:
        """Whole seconds until this client has a token again."""
        tokens, _last = self._buckets.get(client, (self.capacity, 0.0))
        missing = max(0.0, 1 - tokens)
        return max(1, int(missing / self.refill_per_second + 0.999))

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they behave exactly like new ones."""
        for client, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.refill_per_second >= self.capacity:
                del self._buckets[client]
