"""What a channel is to the host: started with the service, stopped, and able to tell a
person something outside a conversation turn (a reminder, "your summary was opened")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # types only: `python -m bot` reads the registry without loading these
    import argparse
    from collections.abc import Sequence

    from starlette.routing import BaseRoute

    from bot.config import Settings
    from bot.engine.replies import Reply
    from bot.services.conversation import ConversationService


class Channel(Protocol):
    """A way people talk to Tijdig (Telegram, the terminal, ...)."""

    name: str  # stored with each participant, so notifications find their channel
    wants_web: bool  # serve share links from this process too
    interactive: bool  # reads a terminal: Ctrl-C interrupts it rather than stopping politely

    def routes(self) -> Sequence[BaseRoute]:
        """Web routes the channel needs beside the summary pages (a webhook)."""
        ...

    async def start(self, service: ConversationService, *, web_running: bool) -> None:
        """Begin receiving; the web app (if any) is already listening."""
        ...

    async def finished(self) -> None:
        """Returns when the channel ends on its own (end of input); else never."""
        ...

    async def stop(self) -> None: ...

    async def push(self, address: str, replies: list[Reply]) -> None:
        """Messages outside a turn (a reminder with its buttons, "your summary was opened"),
        to the chat address stored with the participant. Raises `Unreachable` when the
        chat blocked the bot; the outbox then marks it and sends nothing more."""
        ...


class ChannelModule(Protocol):
    """What a module in the channel registry offers `python -m bot` (its subcommand and
    help line are in the registry, bot/channels/__init__.py)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def create(self, settings: Settings, args: argparse.Namespace) -> Channel: ...

    async def open_notifier(self, settings: Settings) -> Notifier | None:
        """For `serve` alone: a way to reach this channel's people without running it."""
        ...


class Notifier(Protocol):
    """For `serve` alone: sends the outbox's messages for a channel that is not running."""

    name: str

    async def push(self, address: str, replies: list[Reply]) -> None: ...

    async def close(self) -> None: ...
