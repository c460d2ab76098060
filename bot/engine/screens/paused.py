"""Paused: /stop keeps everything; /verder or any message continues where it was."""

from __future__ import annotations

from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn


class Paused(Screen):
    name = "paused"
    arrivals = (
        Arrival(
            "pause",
            (
                *("menu", "intro", "question", "who", "name", "deleting"),
                *("companion", "relative", "invite", "review"),
            ),
        ),
    )

    def options(self, turn: Turn) -> list[Option]:
        return [Option("resume", turn._("Verder gaan"), (turn._("verder"),))]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        turn.say(
            turn._(
                "Goed, we stoppen voor nu. Alles wat u heeft gezegd is bewaard. "
                "Typ /verder wanneer u weer wilt."
            ),
            self.options(turn),
        )

    def choose(self, turn: Turn, option: str) -> None:
        turn.resume()

    def typed(self, turn: Turn, text: str) -> None:
        turn.resume()


SCREEN = Paused()
