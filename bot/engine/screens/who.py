"""Who fills it in: alone, together with someone, or for someone else."""

from __future__ import annotations

from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn


class Who(Screen):
    name = "who"
    resumable = True
    arrivals = (
        Arrival("agree", ("consent",)),
        Arrival(
            "change_profile",
            ("menu", "intro", "question", "name", "paused", "deleting", "companion", "review"),
        ),
    )

    def options(self, turn: Turn) -> list[Option]:
        return [
            Option("alone", turn._("Ik vul het zelf in"), (turn._("zelf"),)),
            Option("together", turn._("Samen met iemand"), (turn._("samen"),)),
            Option("for_other", turn._("Voor iemand anders"), (turn._("voor iemand"),)),
        ]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        turn.say(
            turn._(
                "Fijn dat u meedoet. Wie vult dit in?\n\n"
                "U kunt het alleen doen, of samen met bijvoorbeeld uw kind. "
                "U kunt het ook invullen voor iemand anders, zoals uw vader of moeder."
            ),
            self.options(turn),
        )

    def choose(self, turn: Turn, option: str) -> None:
        turn.conv.mode = option
        if option == "together":
            turn.fire("ask_companion")  # who sits with the person today
            return
        turn.conv.companion = None
        turn.fire("choose_mode")


SCREEN = Who()
