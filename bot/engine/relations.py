"""How a relative or a companion is related to the person, as buttons and as words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.screens.base import Option, Screen
from bot.i18n import N_, Translator

if TYPE_CHECKING:  # the turn is handed in at run time; no import cycle
    from bot.engine.turn import Turn

RELATIONS = {
    "partner": N_("Partner"),
    "dochter": N_("Dochter"),
    "zoon": N_("Zoon"),
    "kleinkind": N_("Kleinkind"),
    "broer_zus": N_("Broer of zus"),
    "vriend_buur": N_("Vriend(in) of buur"),
    "anders": N_("Anders"),
}


def relation_options(tr: Translator) -> list[Option]:
    return [Option(key, tr.gettext(label), (key,)) for key, label in RELATIONS.items()]


def relation_label(relation: str | None, tr: Translator) -> str:
    label = RELATIONS.get(relation or "")
    return tr.gettext(label).lower() if label else ""


def who(name: str | None, relation: str | None, tr: Translator) -> str:
    """ "Els (dochter)", or just the name, or the relation, or "een naaste"."""
    label = relation_label(relation, tr)
    if name and label:
        return f"{name} ({label})"
    return name or label or tr.gettext("een naaste")


class NameThenRelation(Screen):
    """Two small steps: a first name (typed), then how they are related (a button)."""

    MAX_NAME = 60

    def options(self, turn: Turn) -> list[Option]:
        return relation_options(turn.tr) if turn.conv.step == "relation" else []

    def typed(self, turn: Turn, text: str) -> None:
        if turn.conv.step != "relation":
            turn.conv.draft = {"name": " ".join(text.split())[: self.MAX_NAME]}
            turn.conv.step = "relation"
            turn.draw()
            return
        turn.press_typed(text, numbered_only=False)

    def choose(self, turn: Turn, option: str) -> None:
        given = {"name": turn.conv.draft.get("name"), "relation": option}
        turn.conv.draft, turn.conv.step = {}, None
        self.given(turn, given)

    def given(self, turn: Turn, person: dict[str, str | None]) -> None:
        """Both steps done."""
        raise NotImplementedError
