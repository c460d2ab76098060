"""The terminal chat: the same conversation as on Telegram, in a terminal or from a script.

Buttons are shown numbered; typing a number presses that button, anything else is sent as
text (so "ja" or "weet ik niet" work too). Standard input may be piped: one line per turn,
and the end of input ends the chat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from bot.engine import Choice, Command, Event, Start, Text
from bot.engine.replies import Button, Document, InviteReply, LinkReply, Message, Notice, Reply
from bot.services.conversation import ConversationService, Handled
from bot.services.outbox import NotHere

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

CHANNEL = "terminal"
# C0 controls but tab and newline, DEL and the C1 controls (CSI, OSC, ...).
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Control characters as their visible Unicode symbol (␛ for ESC), or U+FFFD."""
    return TERMINAL_CONTROLS.sub(_symbol, text)


def _symbol(control: re.Match[str]) -> str:
    code = ord(control.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


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
            return Choice(question_id=button.screen, option_id=button.option, **ids)
        return Text(text=line.rstrip("\n"), **ids)

    async def send(self, event: Event) -> None:
        handled = await self.handle(CHANNEL, event)
        if handled.echo and not handled.stale:
            self.print(f"  ✓ {handled.echo}")
        for reply in handled.replies:
            self.render(reply)

    async def start(self, payload: str | None = None) -> None:
        ids = {"user_id": self.user, "chat_id": self.user, "event_id": uuid.uuid4().hex}
        await self.send(Start(payload=payload, **ids))

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
        elif isinstance(reply, InviteReply):
            self.print("")
            self.print(reply.text)
            self.print(f"  python -m bot chat --user NAAM --join={reply.code}")
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
        # What people typed comes back in echoes and quoted answers: a control character
        # (ESC starts a terminal's escape sequences) is shown as a symbol, never obeyed.
        self.out.write(visible(text) + "\n")
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


class TerminalChannel:
    """The terminal as a channel: reads lines until the end of input or /stop."""

    name = CHANNEL
    interactive = True  # Ctrl-C interrupts the prompt directly

    def __init__(self, user: str, *, web: bool = True, join: str | None = None) -> None:
        self.join = join  # an invitation code: this chat joins as a relative
        self.user = user
        self.wants_web = web
        self.chat: TerminalChat | None = None
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self, service: ConversationService, *, web_running: bool) -> None:
        if isinstance(sys.stdin, io.TextIOWrapper):
            # Under a UTF-8 locale Python decodes stdin strictly: one byte that is not
            # UTF-8 raised UnicodeDecodeError and ended the chat. Escaped, it becomes a
            # lone surrogate, which `line` shows as U+FFFD.
            sys.stdin.reconfigure(errors="surrogateescape")
        interactive = sys.stdin.isatty()
        self.chat = TerminalChat(service.handle, self.user, sys.stdout, echo_input=not interactive)
        await self.chat.start(self.join)
        self._task = asyncio.create_task(self._read(interactive), name="tijdig-terminal")

    async def _read(self, interactive: bool) -> None:
        assert self.chat is not None
        while True:
            line = await read_line(interactive)
            if line is None:
                break
            await self.chat.line(line)
            if line.strip() == "/stop":
                break

    async def finished(self) -> None:
        assert self._task is not None
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def push(self, address: str, replies: list[Reply]) -> None:
        """Messages from outside the conversation (a reminder, "your summary was opened");
        a reminder's buttons get numbers like any other."""
        if self.chat is None or address != self.user:
            raise NotHere  # another user's chat: it waits until they chat here
        for reply in replies:
            self.chat.render(reply)


# -- what `python -m bot` asks of a channel module ----------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="local", help="who is chatting (default: local)")
    parser.add_argument(
        "--join", metavar="CODE", help="join someone's wishes with the code of an invitation"
    )
    parser.add_argument(
        "--no-web",
        action="store_true",
        help="do not start the web app that opens share links (WEB_PORT)",
    )


def create(settings: Settings, args: argparse.Namespace) -> TerminalChannel:
    return TerminalChannel(args.user, web=not args.no_web, join=args.join)


async def open_notifier(settings: Settings) -> None:
    """Nobody reads this terminal while only the web app runs."""
    return None
