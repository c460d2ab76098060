"""One event handled for one conversation: the model the shared state machine drives.

What every screen shares lives here: saying things, recording answers, moving through a
trigger of the machine, and turning events into presses. What a screen shows and what its
buttons do is in its own module under `bot/engine/screens/`; commands are in `commands.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from transitions import EventData, Machine

from bot.content.model import Flow, Question, Topic
from bot.engine.controls import control_word
from bot.engine.events import Choice, Command, Event, Media, MediaKind, Start, Text
from bot.engine.matching import match_many, match_one
from bot.engine.replies import Button, Message, Notice, Outcome, RecordAnswer
from bot.engine.screens.base import Option, Screen
from bot.engine.state import AnswerView, Conversation, TurnContext
from bot.engine.texts import invitation_problem, media_thanks
from bot.i18n import Translator

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT = 10_000  # characters kept in one free-text answer; longer asks to shorten


SideListPress = Callable[["Turn", str], None]
Move = tuple[str, str, str]  # (from, to, trigger)


class Turn:
    """The machine's model for one event; it lives only while that event is handled."""

    state: str  # the stored state; the machine moves it
    machine: Machine  # the engine's shared machine
    review_items: tuple[str, ...] = ()  # what /nakijken walks first (the engine sets it)

    def __init__(
        self,
        flow: Flow,
        conversation: Conversation,
        answers: dict[str, AnswerView],
        translator: Callable[[str], Translator],
        locales: tuple[str, ...],
        language_name: Callable[[str], str],
        screens: Mapping[str, Screen],
        side_lists: Mapping[str, SideListPress],
        on_command: Callable[[Turn, Command], None],
        context: TurnContext,
    ) -> None:
        self.flow = flow
        self.conv = conversation
        self.answers = answers
        self._translator = translator
        self.locales = locales  # the languages Tijdig speaks (codes)
        self.language_name = language_name  # a language's own name, for the /taal buttons
        self.screens = screens
        self.side_lists = side_lists
        self._on_command = on_command
        self.context = context
        self.outcome = Outcome()
        self.moves: list[Move] = []  # every state change this turn, for the diagram check
        self._quiet = False

    # -- text -----------------------------------------------------------------------------
    @property
    def tr(self) -> Translator:
        return self._translator(self.conv.locale)

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    def t(self, text: Any) -> str:
        """A flow text in the conversation's language."""
        return self.tr.pgettext(text.context, text.source)

    # -- saying ---------------------------------------------------------------------------
    def say(
        self,
        text: str,
        options: list[Option] | None = None,
        *,
        redraw: bool = False,
        key: str | None = None,
        lasting: bool = False,
    ) -> None:
        """A message with buttons for the current screen (or for a side list's `key`)."""
        screen = key or self.key()
        buttons = tuple((Button(o.label, screen, o.id),) for o in options or [])
        rows = buttons if lasting else self._rows(buttons)
        self.outcome.items.append(Message(text, rows, redraw=redraw, lasting=lasting))

    @staticmethod
    def _rows(rows: tuple[tuple[Button, ...], ...]) -> tuple[tuple[Button, ...], ...]:
        """Options one per row (a scale on one row); controls (skip, later...) two per row."""
        options = [row for row in rows if not row[0].option.startswith("_")]
        if options and all(row[0].option.isdigit() for row in options):
            options = [tuple(row[0] for row in options)]
        controls = [row[0] for row in rows if row[0].option.startswith("_")]
        paired = [tuple(controls[i : i + 2]) for i in range(0, len(controls), 2)]
        return (*options, *paired)

    def notice(self, text: str) -> None:
        self.outcome.items.append(Notice(text))

    def effect(self, item: Any) -> None:
        self.outcome.items.append(item)

    def record(self, question: Question, value: dict[str, Any], *, skipped: bool = False) -> None:
        self.outcome.items.append(RecordAnswer(question.id, value, skipped))
        self.answers[question.id] = AnswerView(value=value, skipped=skipped)

    # -- where we are -----------------------------------------------------------------------
    @property
    def screen(self) -> Screen:
        return self.screens[self.state]

    def key(self) -> str:
        return self.screen.key(self)

    def options(self) -> list[Option]:
        return self.screen.options(self)

    @property
    def topic(self) -> Topic:
        topic = self.flow.topic(self.conv.topic or "")
        assert topic is not None, "a topic screen without a topic"
        return topic

    @property
    def question(self) -> Question:
        question = self.flow.question(self.conv.question or "")
        assert question is not None, "a question screen without a question"
        return question

    # -- moving ---------------------------------------------------------------------------
    def fire(self, trigger: str, *, draw: bool = True, **kwargs: Any) -> None:
        """Move through the shared machine; the new screen is drawn unless `draw=False`."""
        quiet, self._quiet = self._quiet, not draw
        try:
            self.machine.events[trigger].trigger(self, **kwargs)
        finally:
            self._quiet = quiet

    def entered(self, event: EventData) -> None:
        """The machine's after-state-change callback: remember the move, draw the screen."""
        assert event.transition is not None
        self.moves.append((event.transition.source, event.transition.dest, event.event.name))
        self.conv.state = self.state
        if not self._quiet:
            self.draw()

    def draw(self, *, redraw: bool = False) -> None:
        self.screen.draw(self, redraw=redraw)

    def show(self) -> None:
        """Show where we are: the current screen, or the consent for someone new."""
        if self.state == "welcome":
            self.fire("ask_consent")
        else:
            self.draw()

    # -- events ---------------------------------------------------------------------------
    def handle(self, event: Event) -> Outcome:
        if isinstance(event, Text) and LONE_SURROGATE.search(event.text):
            # JSON can carry half a character; it could never be stored or shown again.
            event = replace(event, text=LONE_SURROGATE.sub("\ufffd", event.text))
        self.repair()
        if isinstance(event, Command):
            self._on_command(self, event)
        elif isinstance(event, Start):
            self.on_start()
        elif isinstance(event, Choice):
            self.on_choice(event)
        elif isinstance(event, Text):
            self.on_text(event.text)
        elif isinstance(event, Media):
            self.on_media(event)
        return self.outcome

    def repair(self) -> None:
        """A stored place that no longer exists (the flow changed) falls back a level."""
        if self.state in ("question", "intro") and self.flow.topic(self.conv.topic or "") is None:
            self.conv.topic = self.conv.question = None
            self.fire("place_gone", draw=False)
        elif self.state == "question" and self.flow.question(self.conv.question or "") is None:
            self.conv.question = None
            self.fire("question_gone", draw=False)

    def on_start(self) -> None:
        invitation = self.context.invitation
        if invitation is not None and invitation.status == "ok" and self.state == "welcome":
            self.fire("ask_join")
            return
        if invitation is not None:
            self.notice(invitation_problem(self.tr, invitation.status))
        if self.state == "welcome":
            self.fire("ask_consent")
        elif self.state in ("consent", "deleting"):
            self.draw()
        else:
            self.notice(self._("Welkom terug! We gaan verder waar we waren."))
            self.resume()

    def on_choice(self, event: Choice) -> None:
        side_list = self.side_lists.get(event.question_id)
        if side_list is not None:  # a language or a link to revoke: safe from any message
            side_list(self, event.option_id)
            return
        if event.question_id.startswith("join.") and self.state != "joining":
            status = self.context.invitation.status if self.context.invitation else "unknown"
            if status != "ok" or self.state != "welcome":
                self.notice(invitation_problem(self.tr, status))
                self.show()
                return
        self.screen.before_press(self, event.question_id)
        options = {o.id: o for o in self.options()}
        if event.question_id != self.key() or event.option_id not in options:
            self.old_button(event)
            return
        self.outcome.echo = options[event.option_id].label
        self.screen.choose(self, event.option_id)

    def old_button(self, event: Choice) -> None:
        """A button of an earlier screen never answers the current one; say where we are."""
        self.outcome.stale = True
        if event.question_id in self.answers:
            self.notice(self._("Deze vraag is al beantwoord. Hier zijn we nu:"))
        else:
            self.notice(self._("Die knop hoort bij een eerder bericht. Hier zijn we nu:"))
        self.show()

    def on_text(self, text: str) -> None:
        if len(text) > MAX_TEXT:
            self.notice(
                self._(
                    "Dat bericht is te lang voor mij ({count} tekens). "
                    "Wilt u het in kortere stukken sturen? Er is niets verloren."
                ).format(count=len(text))
            )
            self.show()
            return
        if not text.strip():
            self.show()
            return
        self.screen.typed(self, text)

    def on_media(self, event: Media) -> None:
        if event.kind is MediaKind.VOICE and self.screen.voice(self, event.ref):
            return
        self.notice(media_thanks(self.tr, event.kind))
        self.show()

    def press_typed(self, text: str, *, numbered_only: bool = True) -> None:
        """Typed text that names one of the screen's buttons presses it; else a kind re-ask."""
        options = self.options()
        choices = [(o.label, *o.words) for o in options]
        numbered = sum(1 for o in options if not o.id.startswith("_")) or None
        index = match_one(text, choices, numbered if numbered_only else None)
        if index is None:
            self.notice(
                self._(
                    "Ik begrijp uw antwoord niet helemaal. "
                    "Kies een van de knoppen, of typ het nummer ervan."
                )
            )
            self.draw()
            return
        self.outcome.echo = options[index].label
        self.screen.choose(self, options[index].id)

    def typed_many(self, text: str) -> list[str] | None:
        """Several options typed at once ("1, 3" or "thuis en familie"), or None."""
        options = self.options()
        choices = [(o.label, *o.words) for o in options]
        numbered = sum(1 for o in options if not o.id.startswith("_")) or None
        picked = match_many(text, choices, numbered)
        if picked and all(not options[i].id.startswith("_") for i in picked):
            return [options[i].id for i in picked]
        return None

    def control_word(self, text: str) -> str | None:
        """Typed "overslaan", "terug", "later" or "uitleg" where text is expected."""
        return control_word(text, self.tr)

    def resume(self) -> None:
        """Back to where the person was before /stop or /verwijderen, or show where we are."""
        if self.state in ("paused", "deleting", "invite"):
            target = self.conv.resume_state
            if target not in self.screens or not self.screens[target].resumable:
                target = "menu"
            self.conv.resume_state = None
            self.fire("come_back", target=target)
        else:
            self.show()
