"""Invite (/uitnodigen): what a relative may do, and whether they may read the answers.
Then the service makes a single-use code that the channel turns into a link."""

from __future__ import annotations

from bot.engine.replies import CreateInvite
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn


class Invite(Screen):
    name = "invite"
    arrivals = (Arrival("ask_invite", ("menu", "intro", "question", "paused")),)

    def options(self, turn: Turn) -> list[Option]:
        if turn.conv.step == "see":
            return [
                Option("see", turn._("Ja, mag meelezen"), (turn._("ja"),)),
                Option("private", turn._("Nee, alleen eigen antwoorden"), (turn._("nee"),)),
            ]
        return [
            Option("helper", turn._("Mijn antwoorden invullen"), (turn._("invullen"),)),
            Option("view", turn._("Een eigen kijk geven"), (turn._("eigen kijk"),)),
        ]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.step == "see":
            text = turn._("Mag deze persoon uw antwoorden lezen?")
        else:
            text = turn._(
                "U nodigt iemand uit om mee te doen, op de eigen telefoon. Wat mag die persoon "
                "doen?\n\n"
                "• Mijn antwoorden invullen: samen met u, of voor u. Er staat bij wie het "
                "invulde.\n"
                "• Een eigen kijk geven: wat die persoon denkt dat u wilt. Dat staat naast uw "
                "eigen antwoord, nooit in plaats ervan."
            )
        turn.say(text, self.options(turn))

    def typed(self, turn: Turn, text: str) -> None:
        turn.press_typed(text, numbered_only=False)

    def choose(self, turn: Turn, option: str) -> None:
        if turn.conv.step != "see":
            turn.conv.draft = {"invite_mode": option}
            turn.conv.step = "see"
            turn.draw()
            return
        mode = turn.conv.draft.get("invite_mode", "view")
        turn.conv.draft, turn.conv.step = {}, None
        turn.effect(CreateInvite(mode=mode, may_see=option == "see"))
        turn.resume()


SCREEN = Invite()
