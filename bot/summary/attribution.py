"""Who gave an answer, in words: the same label on the page, in the PDF and in the text."""

from __future__ import annotations

from bot.i18n import Translator


def who_label(who: str, tr: Translator, by: str | None = None) -> str:
    """`who` is a summary item's self | relative | together; `by` names the relative or
    the companion ("Els (dochter)") when Tijdig knows them."""
    if who == "together":
        if by:
            return tr.gettext("samen met {who}").format(who=by)
        return tr.gettext("samen ingevuld")
    if who == "relative":
        if by:
            return tr.gettext("ingevuld door {who}").format(who=by)
        return tr.gettext("ingevuld door een naaste")
    return tr.gettext("ingevuld door de persoon zelf")


def view_label(who: str, tr: Translator) -> str:
    """A relative's own view, marked as such: never the person's answer."""
    return tr.gettext("{who} denkt").format(who=who)
