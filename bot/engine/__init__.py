"""Pure conversation logic: events in, effects and replies out. No Telegram, no SQL, no I/O."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

from bot.content.model import Flow
from bot.engine.commands import on_command
from bot.engine.events import Choice, Command, Event, Media, MediaKind, Start, Text
from bot.engine.machine import build_machine
from bot.engine.replies import Outcome
from bot.engine.screens import SCREENS, SIDE_LISTS
from bot.engine.sitting import begin_sitting
from bot.engine.state import AnswerView, Conversation, TurnContext
from bot.engine.turn import Move, Turn
from bot.i18n import Translator
from bot.i18n import language_name as own_language_name

__all__ = [
    "AnswerView",
    "Choice",
    "Command",
    "Conversation",
    "Engine",
    "Event",
    "Media",
    "MediaKind",
    "Outcome",
    "Start",
    "Text",
]


class Engine:
    """One flow's conversation logic, shared by every conversation of every channel."""

    def __init__(
        self,
        flow: Flow,
        translator: Callable[[str], Translator],
        locales: Sequence[str],
        language_name: Callable[[str], str] = own_language_name,
    ) -> None:
        self.flow = flow
        self.translator = translator
        self.locales = tuple(locales)
        self.language_name = language_name
        self.machine = build_machine(SCREENS.values())
        # The questions /nakijken walks first: those on the professional's first screen
        # (the service knows the summary and sets them at start-up).
        self.review_items: tuple[str, ...] = ()
        # The moves of the last event, for the test that checks them against the diagram.
        self.last_moves: list[Move] = []

    def handle(
        self,
        conversation: Conversation,
        answers: Mapping[str, AnswerView],
        event: Event,
        context: TurnContext | None = None,
    ) -> tuple[Conversation, Outcome]:
        """Apply one event; the inputs are left untouched, the new conversation is returned."""
        conv = copy.deepcopy(conversation)
        if conv.state not in SCREENS:  # stored by a version with other states
            conv.state = "menu" if conv.consented else "welcome"
        turn = Turn(
            self.flow,
            conv,
            dict(answers),
            self.translator,
            self.locales,
            self.language_name,
            SCREENS,
            SIDE_LISTS,
            on_command,
            context or TurnContext(),
        )
        turn.review_items = self.review_items
        # The turn stands at the stored state; its moves are the shared machine's events,
        # fired on it directly (binding ~30 trigger methods per event cost 40% of a turn).
        turn.state = conv.state
        turn.machine = self.machine
        begin_sitting(turn)
        outcome = turn.handle(event)
        self.last_moves = turn.moves
        turn.conv.state = turn.state
        return turn.conv, outcome
