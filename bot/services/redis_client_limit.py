"""The share-link rate limit in Redis (with REDIS_URL): the `limits` library's moving
window, shared by every web process. Imported only when REDIS_URL is set, so a process
without Redis never loads `limits` (about 1 MB)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def limit_storage(redis_url: str) -> Storage:
    """The `limits` library's storage in Redis, under Tijdig's own key prefix."""
    storage = storage_from_string(
        "async+" + redis_url, implementation="redispy", key_prefix="tijdig"
    )
    assert isinstance(storage, Storage)
    return storage


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
