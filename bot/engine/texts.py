"""The longer texts more than one screen or command shows."""

from __future__ import annotations

from bot.i18n import Translator


def privacy_text(tr: Translator) -> str:
    return tr.gettext(
        "Over uw gegevens:\n"
        "• Uw antwoorden en namen worden versleuteld bewaard.\n"
        "• Alleen u ziet ze. Een zorgverlener ziet ze alleen via een link "
        "die u zelf maakt met /delen. U kunt zo'n link altijd intrekken met /links.\n"
        "• /mijngegevens stuurt u alles wat ik van u bewaar.\n"
        "• /verwijderen wist alles, meteen en voorgoed."
    )


def help_text(tr: Translator) -> str:
    return tr.gettext(
        "Dit kan ik voor u doen:\n"
        "/verder – verder waar u was\n"
        "/overzicht – alle onderwerpen en hoe ver u bent\n"
        "/samenvatting – al uw antwoorden op een rij\n"
        "/delen – een link maken voor uw huisarts\n"
        "/links – uw links bekijken of intrekken\n"
        "/taal – een andere taal kiezen\n"
        "/profiel – wie invult en hoe ik u noem\n"
        "/privacy – wat ik bewaar en wie het ziet\n"
        "/mijngegevens – alles wat ik van u bewaar\n"
        "/verwijderen – alles wissen\n"
        "/stop – stoppen voor nu\n\n"
        "Bij elke vraag kunt u 'Overslaan', 'Later' of 'Terug' kiezen."
    )
