"""Companion: "samen met iemand" asks who sits with the person today (name, relation), so
every answer of this sitting says "samen met Els (dochter)"."""

from __future__ import annotations

from bot.engine.relations import NameThenRelation
from bot.engine.screens.base import Arrival
from bot.engine.turn import Turn


class Companion(NameThenRelation):
    name = "companion"
    resumable = True
    arrivals = (Arrival("ask_companion", ("who",)),)

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.step == "relation":
            text = turn._("Wat is {name} van u?").format(name=turn.conv.draft.get("name", ""))
        else:
            text = turn._("Wie helpt u vandaag? Typ de voornaam, bijvoorbeeld 'Els'.")
        turn.say(text, self.options(turn))

    def given(self, turn: Turn, person: dict[str, str | None]) -> None:
        turn.conv.companion = person
        turn.fire("companion_given")


SCREEN = Companion()
