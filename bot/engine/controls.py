"""The controls every question has (skip, later, back, explain...) and their typed words."""

from __future__ import annotations

from bot.engine.matching import normalize
from bot.i18n import N_, Translator

# Option ids of the controls; flow ids cannot start with "_".
SKIP, LATER, BACK, EXPLAIN, DONE, CONTINUE = "_skip", "_later", "_back", "_help", "_done", "_next"

CONTROL_WORDS = {
    SKIP: N_("overslaan|sla over|skip"),
    BACK: N_("terug|vorige"),
    LATER: N_("later|straks"),
    EXPLAIN: N_("uitleg|wat betekent dit"),
}


def control_word(text: str, tr: Translator) -> str | None:
    """Typed "overslaan", "terug", "later" or "uitleg" (in Dutch or the person's language)."""
    wanted = normalize(text)
    for option, spelling in CONTROL_WORDS.items():
        words = f"{spelling}|{tr.gettext(spelling)}".split("|")
        if wanted in {normalize(word) for word in words}:
            return option
    return None
