"""Joining: a relative arrived with an invitation code. Their own short consent first;
nothing about them is stored before a yes. The button's key carries the code, because
nothing else remembers it yet."""

from __future__ import annotations

from bot.engine.replies import JoinFamily
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn


class Joining(Screen):
    name = "joining"
    arrivals = (Arrival("ask_join", ("welcome",)),)

    def key(self, turn: Turn) -> str:
        invitation = turn.context.invitation
        return f"join.{invitation.code}" if invitation else self.name

    def options(self, turn: Turn) -> list[Option]:
        return [
            Option("yes", turn._("Ja, ik doe mee"), (turn._("ja"),)),
            Option("no", turn._("Nee, liever niet"), (turn._("nee"),)),
        ]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        invitation = turn.context.invitation
        subject = invitation.subject if invitation and invitation.subject else turn._("iemand")
        if invitation is not None and invitation.mode == "helper":
            task = turn._("U helpt {name} met het invullen van de eigen wensen.")
        else:
            task = turn._("U geeft uw eigen kijk: wat denkt u dat {name} zou willen?")
        turn.say(
            turn._("{name} nodigt u uit om mee te denken over later.").format(name=subject)
            + "\n\n"
            + task.format(name=subject)
            + "\n\n"
            + turn._(
                "Wat ik van u bewaar: uw voornaam, wat u van {name} bent, en wat u invult. "
                "Alles versleuteld. {name} ziet wat u invult. Met /verwijderen wist u uw "
                "deelname, meteen en voorgoed.\n\n"
                "Wilt u meedoen?"
            ).format(name=subject),
            self.options(turn),
        )

    def choose(self, turn: Turn, option: str) -> None:
        invitation = turn.context.invitation
        if option != "yes" or invitation is None:
            turn.notice(turn._("Goed. Er is niets van u bewaard."))
            turn.fire("decline_join")
            return
        turn.conv.consented = True
        turn.conv.role = invitation.mode or "view"
        turn.conv.subject = invitation.subject
        turn.conv.mode = "for_other"
        turn.effect(JoinFamily(invitation.code))
        turn.fire("join")


SCREEN = Joining()
