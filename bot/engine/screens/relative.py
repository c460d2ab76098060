"""Relative: a relative who just joined says their first name and how they are related,
so the person and the professional see who gave what."""

from __future__ import annotations

from bot.engine.relations import NameThenRelation
from bot.engine.replies import SetRelative
from bot.engine.screens.base import Arrival
from bot.engine.turn import Turn


class Relative(NameThenRelation):
    name = "relative"
    resumable = True
    arrivals = (
        Arrival("join", ("joining",)),
        Arrival("change_relative", ("menu", "intro", "question", "paused", "deleting")),
    )

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        subject = turn.conv.subject or turn._("deze persoon")
        if turn.conv.step == "relation":
            text = turn._("Wat bent u van {name}?").format(name=subject)
        else:
            text = turn._("Welkom! Hoe heet u? Typ uw voornaam, zodat {name} weet wie meedenkt.")
            text = text.format(name=subject)
        turn.say(text, self.options(turn))

    def given(self, turn: Turn, person: dict[str, str | None]) -> None:
        turn.conv.relative = person
        turn.effect(SetRelative(name=person["name"], relation=person["relation"]))
        turn.fire("relative_done")


SCREEN = Relative()
