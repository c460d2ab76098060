"""An in-process chat for tests and experiments: type text, press a button by its label,
read the replies and buttons. It talks to the conversation service (a real database) or
to the engine alone (answers kept in memory the way the service keeps them).

    chat = ChatDriver.on_service(service, user="anna")
    await chat.ready()                    # consent, who fills it in, a name
    await chat.press("Wonen")             # a button of the last screen, by its label
    await chat.say("In mijn eigen huis")  # typed text
    assert "Waar wilt u" in chat.last_text
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.engine import (
    AnswerView,
    Choice,
    Command,
    Conversation,
    Engine,
    Event,
    Media,
    MediaKind,
    Outcome,
    Start,
    Text,
)
from bot.engine.replies import Button, DeleteEverything, Message, Notice, RecordAnswer, Reply
from bot.engine.turn import Move
from bot.services.conversation import ConversationService, Handled
from bot.services.outbox import Unreachable

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

Handler = Callable[[str, Event], Awaitable[Handled]]
_event_ids = itertools.count(1)


class EngineOnly:
    """The engine with a conversation and answers in memory: a service without a database."""

    def __init__(
        self,
        engine: Engine,
        conversation: Conversation | None = None,
        answers: Mapping[str, AnswerView] | None = None,
    ) -> None:
        self.engine = engine
        self.conv = conversation or Conversation()
        self.answers: dict[str, AnswerView] = dict(answers or {})
        self.moves: list[Move] = []
        self.outcome = Outcome()  # the engine's last outcome, effects and replies interleaved

    async def handle(self, channel: str, event: Event) -> Handled:
        before = self.conv
        self.conv, outcome = self.engine.handle(before, self.answers, event)
        self.outcome = outcome
        self.moves = list(self.engine.last_moves)
        for effect in outcome.effects:
            if isinstance(effect, RecordAnswer):
                self.answers[effect.question_id] = AnswerView(effect.value, effect.skipped)
            elif isinstance(effect, DeleteEverything):
                self.answers.clear()
        return Handled(
            replies=outcome.replies,
            effects=outcome.effects,
            echo=outcome.echo,
            stale=outcome.stale,
            locale=self.conv.locale,
        )


class ChatDriver:
    """One person in one chat, talking like a person does."""

    def __init__(
        self,
        handle: Handler,
        *,
        user: str = "anna",
        chat_id: str | None = None,
        channel: str = "terminal",
        engine_only: EngineOnly | None = None,
    ) -> None:
        self.handle = handle
        self.user = user
        self.chat_id = chat_id or user
        self.channel = channel
        self.engine_only = engine_only
        self.outcome = Handled()  # what the last event brought back
        self.message: Message | None = None  # the last screen with buttons or text
        self.messages: list[Message] = []

    @classmethod
    def on_service(cls, service: ConversationService, **options: Any) -> ChatDriver:
        return cls(service.handle, **options)

    @classmethod
    def on_engine(cls, engine: Engine, conversation: Conversation | None = None) -> ChatDriver:
        backend = EngineOnly(engine, conversation)
        return cls(backend.handle, user="42", engine_only=backend)

    # -- doing ------------------------------------------------------------------------------
    def ids(self) -> dict[str, str]:
        event_id = f"ev{next(_event_ids)}"
        return {"user_id": self.user, "chat_id": self.chat_id, "event_id": event_id}

    async def send(self, event: Event) -> Handled:
        self.outcome = await self.handle(self.channel, event)
        for reply in self.outcome.replies:
            if isinstance(reply, Message):
                self.message = reply
                self.messages.append(reply)
        return self.outcome

    async def start(self, payload: str | None = None) -> Handled:
        return await self.send(Start(payload=payload, **self.ids()))

    async def say(self, text: str) -> Handled:
        return await self.send(Text(text=text, **self.ids()))

    async def command(self, name: str, args: str = "") -> Handled:
        return await self.send(Command(name=name, args=args, **self.ids()))

    async def media(self, kind: MediaKind, ref: str = "file-1") -> Handled:
        return await self.send(Media(kind=kind, ref=ref, **self.ids()))

    async def press(self, label_or_option: str | Button) -> Handled:
        """A button of the last screen, by label, option id, or a unique part of its label."""
        return await self.send(self.choice(label_or_option))

    def choice(self, label_or_option: str | Button) -> Choice:
        """The event a press makes (to send later, or twice)."""
        button = (
            label_or_option if isinstance(label_or_option, Button) else self.button(label_or_option)
        )
        return Choice(question_id=button.screen, option_id=button.option, **self.ids())

    def button(self, label_or_option: str) -> Button:
        """A menu label's ✓ mark and progress ("· 2/5") are ignored; then a unique,
        case-insensitive part of a label is enough ("ik doe mee")."""
        buttons = [b for m in self._recent_messages() for b in m.flat_buttons]
        for button in buttons:
            bare = button.label.removeprefix("✓ ").split(" · ")[0]
            if label_or_option in (button.label, bare, button.option):
                return button
        wanted = label_or_option.casefold()
        partial = [b for b in buttons if wanted in b.label.casefold()]
        if partial:
            return partial[0]
        raise AssertionError(f"no button {label_or_option!r} in {self.buttons}")

    def _recent_messages(self) -> list[Message]:
        """The last event's messages (newest first), else the last screen."""
        recent = [r for r in reversed(self.outcome.replies) if isinstance(r, Message)]
        return recent or ([self.message] if self.message else [])

    # -- reading ----------------------------------------------------------------------------
    @property
    def replies(self) -> list[Reply]:
        return self.outcome.replies

    @property
    def last_text(self) -> str:
        assert self.message is not None, "nothing with text shown yet"
        return self.message.text

    @property
    def buttons(self) -> list[str]:
        return [b.label for b in self.message.flat_buttons] if self.message else []

    @property
    def notices(self) -> list[str]:
        return [r.text for r in self.outcome.replies if isinstance(r, Notice)]

    @property
    def said(self) -> str:
        """Everything the last event showed, in order."""
        return "\n".join(r.text for r in self.outcome.replies if isinstance(r, Message | Notice))

    @property
    def recorded(self) -> list[RecordAnswer]:
        return [e for e in self.outcome.effects if isinstance(e, RecordAnswer)]

    # engine-only views (the service keeps these in the database) ---------------------------
    @property
    def conv(self) -> Conversation:
        assert self.engine_only is not None, "the conversation is in the database"
        return self.engine_only.conv

    @property
    def answers(self) -> dict[str, AnswerView]:
        assert self.engine_only is not None, "the answers are in the database"
        return self.engine_only.answers

    # -- getting somewhere ------------------------------------------------------------------
    async def ready(
        self,
        mode: str = "Ik vul het zelf in",
        name: str = "Anna",
        companion: tuple[str, str] = ("Els", "Dochter"),
    ) -> ChatDriver:
        """Consent given, who fills it in chosen (with whom, for "Samen met iemand"), a name
        given: at the menu."""
        await self.start()
        await self.press("Ja, ik doe mee")
        await self.press(mode)
        if "Wie helpt u vandaag?" in self.last_text:
            await self.say(companion[0])
            await self.press(companion[1])
        await self.say(name)
        return self

    async def open_topic(self, title: str) -> ChatDriver:
        await self.press(title)
        await self.press("begin")
        return self


class CollectingChannel:
    """A channel the host can run, driven from a test: chats made with `chat(user)`,
    notifications collected in `notices`, and `finish()` ends it like the end of input."""

    name = "test"
    wants_web = True
    interactive = False

    def __init__(self) -> None:
        self.service: ConversationService | None = None
        self.web_running = False
        self.started = asyncio.Event()
        self.stopped = False
        self.notices: list[tuple[str, str]] = []  # (address, text) of everything pushed
        self.pushed: list[tuple[str, list[Reply]]] = []  # (address, replies) from the outbox
        self.blocked: set[str] = set()  # addresses whose chat "blocked the bot"
        self._done = asyncio.Event()

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self, service: ConversationService, *, web_running: bool) -> None:
        self.service, self.web_running = service, web_running
        self.started.set()

    async def finished(self) -> None:
        await self._done.wait()

    def finish(self) -> None:
        self._done.set()

    async def stop(self) -> None:
        self.stopped = True

    async def push(self, address: str, replies: list[Reply]) -> None:
        if address in self.blocked:
            raise Unreachable
        self.pushed.append((address, list(replies)))
        for reply in replies:
            if isinstance(reply, Message | Notice):
                self.notices.append((address, reply.text))

    def chat(self, user: str) -> ChatDriver:
        assert self.service is not None, "the host has not started the channel yet"
        return ChatDriver.on_service(self.service, user=user, channel=self.name)
