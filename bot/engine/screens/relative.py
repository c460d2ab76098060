"""Relative: a relative who just joined says their first name and how they are related,
so the person and the professional see who gave what."""

from __future__ import annotations

from bot.engine.relations import relation_options
from bot.engine.replies import SetRelative
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn

MAX_NAME = 60


class Relative(Screen):
    name = "relative"
    resumable = True
    arrivals = (
        Arrival("join", ("joining",)),
        Arrival("change_relative", ("menu", "intro", "question", "paused", "deleting")),
    )

    def options(self, turn: Turn) -> list[Option]:
        return relation_options(turn.tr) if turn.conv.step == "relation" else []

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        subject = turn.conv.subject or turn._("deze persoon")
        if turn.conv.step == "relation":
            text = turn._("Wat bent u van {name}?").format(name=subject)
        else:
            text = turn._("Welkom! Hoe heet u? Typ uw voornaam, zodat {name} weet wie meedenkt.")
            text = text.format(name=subject)
        turn.say(text, self.options(turn))

    def typed(self, turn: Turn, text: str) -> None:
        if turn.conv.step != "relation":
            turn.conv.draft = {"name": " ".join(text.split())[:MAX_NAME]}
            turn.conv.step = "relation"
            turn.draw()
            return
        turn.press_typed(text, numbered_only=False)

    def choose(self, turn: Turn, option: str) -> None:
        name = turn.conv.draft.get("name")
        turn.conv.relative = {"name": name, "relation": option}
        turn.conv.draft, turn.conv.step = {}, None
        turn.effect(SetRelative(name=name, relation=option))
        turn.fire("relative_done")


SCREEN = Relative()
