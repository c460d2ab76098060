"""Companion: "samen met iemand" asks who sits with the person today (name, relation), so
every answer of this sitting says "samen met Els (dochter)"."""

from __future__ import annotations

from bot.engine.relations import relation_options
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn

MAX_NAME = 60


class Companion(Screen):
    name = "companion"
    resumable = True
    arrivals = (Arrival("ask_companion", ("who",)),)

    def options(self, turn: Turn) -> list[Option]:
        return relation_options(turn.tr) if turn.conv.step == "relation" else []

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.step == "relation":
            text = turn._("Wat is {name} van u?").format(name=turn.conv.draft.get("name", ""))
        else:
            text = turn._("Wie helpt u vandaag? Typ de voornaam, bijvoorbeeld 'Els'.")
        turn.say(text, self.options(turn))

    def typed(self, turn: Turn, text: str) -> None:
        if turn.conv.step != "relation":
            turn.conv.draft = {"name": " ".join(text.split())[:MAX_NAME]}
            turn.conv.step = "relation"
            turn.draw()
            return
        turn.press_typed(text, numbered_only=False)

    def choose(self, turn: Turn, option: str) -> None:
        turn.conv.companion = {"name": turn.conv.draft.get("name"), "relation": option}
        turn.conv.draft, turn.conv.step = {}, None
        turn.fire("companion_given")


SCREEN = Companion()
