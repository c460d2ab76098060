"""Who gave an answer, in words: the same label on the page, in the PDF and in the text."""

from __future__ import annotations

from bot.i18n import Translator


def who_label(who: str, tr: Translator) -> str:
    """`who` is a summary item's self | relative | together."""
    if who == "together":
        return tr.gettext("samen ingevuld")
    if who == "relative":
        return tr.gettext("ingevuld door een naaste")
    return tr.gettext("ingevuld door de persoon zelf")
