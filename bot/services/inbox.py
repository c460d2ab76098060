"""The webhook inbox as a service: store before acknowledging, remove after answering,
and hand back what a process that died left behind. See bot/storage/inbox.py."""

from __future__ import annotations

from bot.services.runtime import Runtime
from bot.storage import inbox
from bot.storage.inbox import InboxItem

# How long the receiving process holds an update before others may take it over: far
# longer than a turn takes, even behind the flood limiter, so a live process is not raced.
DEFAULT_LEASE_SECONDS = 60.0


class Inbox:
    def __init__(self, runtime: Runtime, channel: str, *, lease: float = DEFAULT_LEASE_SECONDS):
        self.runtime = runtime
        self.channel = channel
        self.lease = lease

    async def store(self, update_id: int, payload: bytes) -> bool:
        """Committed when this returns: from now on the update survives this process."""
        async with self.runtime.transaction() as session:
            return await inbox.store(
                session, self.runtime.cipher, self.channel, update_id, payload, self.lease
            )

    async def done(self, update_id: int) -> None:
        async with self.runtime.transaction() as session:
            await inbox.remove(session, self.channel, update_id)

    async def claim_expired(self, limit: int = 50) -> list[InboxItem]:
        async with self.runtime.transaction() as session:
            return await inbox.claim_expired(
                session, self.runtime.cipher, self.channel, self.lease, limit
            )

    async def pending(self) -> int:
        async with self.runtime.sessions() as session:
            return await inbox.pending(session, self.channel)
