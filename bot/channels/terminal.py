"""The terminal chat: the same conversation as on Telegram, in a terminal or from a script.

Buttons are shown numbered; typing a number presses that button, anything else is sent as
text (so "ja" or "weet ik niet" work too). Standard input may be piped: one line per turn,
and the end of input ends the chat.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.config import Settings
from bot.engine import Choice, Command, Event, Start, Text
from bot.engine.replies import Button, Document, LinkReply, Message, Notice, Reply
from bot.services.conversation import ConversationService, Handled
from bot.services.runtime import Runtime

CHANNEL = "terminal"


class TerminalChat:
    """Turns typed lines into events and replies into printed text."""

    def __init__(
        self,
        handle: Callable[[str, Event], Awaitable[Handled]],
        user: str,
        out: TextIO,
        *,
        echo_input: bool,
    ) -> None:
        self.handle = handle
        self.user = user
        self.out = out
        self.echo_input = echo_input
        self.buttons: list[Button] = []

    def event(self, line: str) -> Event:
        ids = {"user_id": self.user, "chat_id": self.user, "event_id": uuid.uuid4().hex}
        stripped = line.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, args = stripped[1:].partition(" ")
            return Command(name=name, args=args, **ids)
        if stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            button = self.buttons[int(stripped) - 1]
            return Choice(
                question_id=button.screen,
                revision=button.revision,
                option_id=button.option,
                **ids,
            )
        return Text(text=line.rstrip("\n"), **ids)

    async def send(self, event: Event) -> None:
        handled = await self.handle(CHANNEL, event)
        if handled.echo and not handled.stale:
            self.print(f"  ✓ {handled.echo}")
        for reply in handled.replies:
            self.render(reply)

    async def start(self) -> None:
        await self.send(Start(user_id=self.user, chat_id=self.user, event_id=uuid.uuid4().hex))

    async def line(self, line: str) -> None:
        line = re.sub("[\ud800-\udfff]", "\ufffd", line)  # bytes stdin could not decode
        if self.echo_input:
            self.print(f"> {line.rstrip()}")
        await self.send(self.event(line))

    def render(self, reply: Reply) -> None:
        if isinstance(reply, Message):
            self.print("")
            self.print(reply.text)
            self.buttons = list(reply.flat_buttons)
            for number, button in enumerate(self.buttons, start=1):
                self.print(f"  [{number}] {button.label}")
        elif isinstance(reply, Notice):
            self.print("")
            self.print(reply.text)
        elif isinstance(reply, LinkReply):
            self.print("")
            self.print(reply.text)
            self.print(f"  {reply.url}")
        elif isinstance(reply, Document):
            self.print("")
            if reply.caption:
                self.print(reply.caption)
            if reply.mime_type.startswith(("application/json", "text/")):
                self.print(reply.content.decode())
            else:
                with open(reply.filename, "wb") as handle:
                    handle.write(reply.content)
                self.print(f"  → {reply.filename}")

    def print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


async def read_line(interactive: bool) -> str | None:
    """One line from standard input, without blocking the event loop; None at the end."""
    if interactive:
        try:
            return await asyncio.to_thread(input, "> ")
        except EOFError:
            return None
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None


async def run_terminal_chat(settings: Settings, user: str, *, web: bool = True) -> int:
    from bot.services import notify

    runtime = await Runtime.create(settings)
    interactive = sys.stdin.isatty()
    web_app = None
    chat: TerminalChat | None = None

    async def show_notification(address: str, text: str) -> None:
        """A message from outside the conversation (e.g. "your summary was opened")."""
        if chat is not None and address == user:
            chat.print("")
            chat.print(text)

    notify.register(CHANNEL, show_notification)
    try:
        for notice in runtime.notices:
            print(notice, file=sys.stderr)
        service = ConversationService(runtime)
        if web:
            from bot.web.server import start_background

            web_app = await start_background(runtime, service)
        chat = TerminalChat(service.handle, user, sys.stdout, echo_input=not interactive)
        await chat.start()
        while True:
            line = await read_line(interactive)
            if line is None:
                break
            if line.strip() == "/stop":
                await chat.line(line)
                break
            await chat.line(line)
    finally:
        if web_app is not None:
            await web_app.stop()
        notify.unregister(CHANNEL, show_notification)
        await runtime.close()
    return 0
