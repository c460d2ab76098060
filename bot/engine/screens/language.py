"""The language list (/taal): its buttons work from any older message."""

from __future__ import annotations

from bot.engine.matching import normalize
from bot.engine.screens.base import Option
from bot.engine.turn import Turn

KEY = "_taal"


def ask(turn: Turn, args: str) -> None:
    """/taal en switches at once; /taal alone shows the languages as buttons."""
    wanted = normalize(args)
    if wanted in turn.locales:
        press(turn, wanted)
        return
    options = [Option(code, turn.language_name(code)) for code in turn.locales]
    turn.say(turn._("In welke taal wilt u verder?"), options, key=KEY, lasting=True)


def press(turn: Turn, code: str) -> None:
    if code not in turn.locales:
        turn.show()
        return
    turn.conv.locale = code
    turn.notice(turn._("Goed, we gaan verder in het Nederlands."))
    turn.show()
