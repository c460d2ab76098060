"""How a relative or a companion is related to the person, as buttons and as words."""

from __future__ import annotations

from bot.engine.screens.base import Option
from bot.i18n import N_, Translator

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
