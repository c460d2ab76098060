"""Consent: what Tijdig stores, who sees it, how to erase it; then yes or no."""

from __future__ import annotations

from bot.engine.replies import DeleteEverything, RecordConsent
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.texts import privacy_text
from bot.engine.turn import Turn


def consent_options(turn: Turn) -> list[Option]:
    return [
        Option("yes", turn._("Ja, ik doe mee"), (turn._("ja"),)),
        Option("no", turn._("Nee, liever niet"), (turn._("nee"),)),
        Option("privacy", turn._("Meer over privacy"), ("privacy",)),
    ]


class Consent(Screen):
    name = "consent"
    arrivals = (Arrival("ask_consent", ("welcome", "consent")),)

    def key(self, turn: Turn) -> str:
        # Nothing is stored before consent, so the screen's key carries its language.
        return f"consent.{turn.conv.locale}"

    def options(self, turn: Turn) -> list[Option]:
        return consent_options(turn)

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        turn.say(
            turn._(
                "Welkom bij Tijdig.\n\n"
                "Ik help u nadenken over later. Waar wilt u wonen? Wie helpt u? "
                "Wat wilt u in de zorg? U kiest zelf waarover u praat.\n\n"
                "Eerst iets over uw gegevens:\n"
                "• Ik bewaar uw antwoorden. Ze worden versleuteld opgeslagen.\n"
                "• Niemand ziet ze. Alleen als u zelf een link deelt, met /delen, "
                "kan bijvoorbeeld uw huisarts ze lezen.\n"
                "• Met /mijngegevens ziet u alles wat ik van u bewaar.\n"
                "• Met /verwijderen wist u alles, meteen en voorgoed.\n\n"
                "Ik ben geen arts. Uw wensen worden pas afspraken "
                "na een gesprek met uw huisarts of verpleegkundige.\n\n"
                "Wilt u meedoen?"
            ),
            self.options(turn),
        )

    def choose(self, turn: Turn, option: str) -> None:
        if option == "yes":
            turn.conv.consented = True
            turn.effect(RecordConsent())
            turn.fire("agree")
        elif option == "no":
            turn.effect(DeleteEverything())
            turn.notice(
                turn._(
                    "Dat is goed. Er is niets van u bewaard. "
                    "Als u later toch wilt beginnen, typ dan /start."
                )
            )
            turn.fire("decline")
        else:
            turn.notice(privacy_text(turn.tr))
            turn.draw()


SCREEN = Consent()
