"""Sending a short message to a person outside a conversation turn (e.g. "your summary was
opened"). The host registers each running channel's sender; whoever needs to notify calls
`notify` on the registry it was given.

A notification must never break what triggered it: a missing sender or a failing one is
logged (channel and exception type only, never the text or the address) and swallowed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

Sender = Callable[[str, str], Awaitable[None]]
SEND_TIMEOUT_SECONDS = 15


class Notifier(Protocol):
    async def notify(self, channel: str, address: str, text: str) -> None: ...


class NotifierRegistry:
    """A `Notifier` that hands each message to the sender its channel registered."""

    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}

    def register(self, channel: str, sender: Sender) -> None:
        self._senders[channel] = sender

    def unregister(self, channel: str, sender: Sender | None = None) -> None:
        if sender is None or self._senders.get(channel) is sender:
            self._senders.pop(channel, None)

    async def notify(self, channel: str, address: str, text: str) -> None:
        sender = self._senders.get(channel)
        if sender is None:
            log.warning("no notification sender for channel=%s; message not sent", channel)
            return
        try:
            await asyncio.wait_for(sender(address, text), SEND_TIMEOUT_SECONDS)
        except Exception as exc:  # a notification never breaks the request that caused it
            log.warning("notification failed channel=%s: %s", channel, type(exc).__name__)
