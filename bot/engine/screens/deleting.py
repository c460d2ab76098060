"""Deleting: /verwijderen asks once more before everything is erased."""

from __future__ import annotations

from bot.engine.replies import DeleteEverything
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.state import Conversation
from bot.engine.turn import Turn


class Deleting(Screen):
    name = "deleting"
    arrivals = (
        Arrival(
            "ask_delete",
            (
                *("menu", "intro", "question", "who", "name", "paused"),
                *("companion", "relative", "invite", "review"),
            ),
        ),
    )

    def options(self, turn: Turn) -> list[Option]:
        return [
            Option("yes", turn._("Ja, verwijder alles"), (turn._("ja"), "ja", "yes")),
            Option("no", turn._("Nee, toch niet"), (turn._("nee"), "nee", "no")),
        ]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.role != "self":
            text = turn._(
                "Weet u het zeker? Dan wis ik uw deelname: uw naam en wat u heeft ingevuld. "
                "De eigen antwoorden van {name} blijven staan."
            ).format(name=turn.conv.subject or turn._("de persoon"))
        else:
            text = turn._(
                "Weet u het zeker? Dan wis ik al uw antwoorden, uw naam en uw links. "
                "Dat kan niet ongedaan worden gemaakt."
            )
        turn.say(text, self.options(turn))

    def choose(self, turn: Turn, option: str) -> None:
        if option == "yes":
            turn.effect(DeleteEverything())
            if turn.conv.role != "self":
                text = turn._("Uw deelname is verwijderd: uw naam en wat u heeft ingevuld.")
            else:
                text = turn._(
                    "Alles is verwijderd: uw antwoorden, uw naam en uw links. "
                    "Typ /start als u ooit opnieuw wilt beginnen."
                )
            turn.notice(text)
            turn.conv = Conversation(locale=turn.conv.locale)
            turn.fire("forget")
        else:
            turn.notice(turn._("Goed, er is niets verwijderd."))
            turn.resume()


SCREEN = Deleting()
