"""Name: how Tijdig addresses the person whose wishes these are (optional)."""

from __future__ import annotations

from bot.engine.controls import SKIP
from bot.engine.matching import normalize
from bot.engine.replies import SetProfile
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn

MAX_NAME = 60


class Name(Screen):
    name = "name"
    resumable = True
    arrivals = (
        Arrival("choose_mode", ("who",)),
        Arrival("companion_given", ("companion",)),
    )

    def options(self, turn: Turn) -> list[Option]:
        return [Option(SKIP, turn._("Liever niet"), (turn._("geen naam"),))]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.mode == "for_other":
            text = turn._(
                "Voor wie vult u dit in? Typ de naam, bijvoorbeeld 'mijn moeder' of 'Anna'."
            )
        elif turn.conv.mode == "together":
            text = turn._("Hoe mag ik u noemen? Het gaat om de persoon wiens wensen dit zijn.")
        else:
            text = turn._("Hoe mag ik u noemen? Typ uw naam.")
        turn.say(text, self.options(turn))

    def choose(self, turn: Turn, option: str) -> None:
        self.set_name(turn, None)

    def typed(self, turn: Turn, text: str) -> None:
        self.set_name(turn, text)

    def set_name(self, turn: Turn, name: str | None) -> None:
        clean = " ".join(name.split())[:MAX_NAME] if name else None
        no_name = {normalize(w) for o in self.options(turn) for w in (o.label, *o.words)}
        if clean and (turn.control_word(clean) == SKIP or normalize(clean) in no_name):
            clean = None  # "Liever niet" typed instead of pressed is not a name
        if clean and turn.conv.mode == "for_other":
            clean = addressed(turn, clean)
        turn.conv.name = clean
        turn.effect(SetProfile(mode=turn.conv.mode or "alone", name=clean))
        if clean and turn.conv.mode == "for_other":  # never "Dank u wel, mijn moeder"
            turn.notice(turn._("Dank u wel. We vullen het in voor {name}.").format(name=clean))
        elif clean:
            turn.notice(turn._("Dank u wel, {name}.").format(name=clean))
        turn.fire("give_name")


def addressed(turn: Turn, name: str) -> str:
    """A relative types "mijn moeder"; the bot, speaking to them, says "uw moeder"."""
    first, _, rest = name.partition(" ")
    # TRANSLATORS: the words for "my" that a relative may type before the name of the
    # person they fill this in for ("mijn moeder"), separated by |
    mine = {normalize(word) for word in turn._("mijn|m'n|mn").split("|")}
    if not rest or normalize(first) not in mine:
        return name
    # TRANSLATORS: "your", put in place of "my" before the person's name ("uw moeder")
    your = turn._("uw")
    return f"{your} {rest}"


SCREEN = Name()
