"""Welcome: nothing is stored about this chat yet. Any first move shows the consent."""

from __future__ import annotations

from bot.engine.matching import match_one
from bot.engine.screens.base import Arrival, Screen
from bot.engine.screens.consent import consent_options
from bot.engine.turn import Turn


class Welcome(Screen):
    name = "welcome"
    arrivals = (
        Arrival("decline", ("consent",)),  # "Nee, liever niet", or /verwijderen before consent
        Arrival("forget", ("deleting",)),  # everything erased
        Arrival("decline_join", ("joining",)),  # an invitation declined: nothing stored
    )

    def choose(self, turn: Turn, option: str) -> None:
        turn.fire("ask_consent")

    def before_press(self, turn: Turn, key: str) -> None:
        """A press on a consent screen we showed before: nothing is stored before consent,
        so the button's key carries the language that screen was shown in."""
        locale = key.partition(".")[2] if key.startswith("consent.") else ""
        if locale in turn.locales:
            turn.conv.locale = locale
        if key.startswith("consent."):
            turn.fire("ask_consent", draw=False)
        elif key.startswith("join."):
            turn.fire("ask_join", draw=False)

    def typed(self, turn: Turn, text: str) -> None:
        """A typed "ja" answers the consent screen we showed before, in whichever language
        (or the join screen, for someone who arrived with an invitation)."""
        invitation = turn.context.invitation
        if invitation is not None and invitation.status == "ok":
            turn.fire("ask_join", draw=False)
            turn.screen.typed(turn, text)
            return
        others = [code for code in turn.locales if code != turn.conv.locale]
        for locale in [turn.conv.locale, *others]:
            previous, turn.conv.locale = turn.conv.locale, locale
            labels = [(o.label, *o.words) for o in consent_options(turn)]
            if match_one(text, labels) is not None:
                turn.fire("ask_consent", draw=False)
                turn.screen.typed(turn, text)
                return
            turn.conv.locale = previous
        turn.fire("ask_consent")


SCREEN = Welcome()
