"""The longer texts more than one screen or command shows."""

from __future__ import annotations

from bot.engine.events import MediaKind
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
        "/uitnodigen – iemand uitnodigen om mee te doen\n"
        "/familie – wie meedoet\n"
        "/wissel – kiezen wiens wensen u invult\n"
        "/nakijken – nagaan of uw wensen nog kloppen\n"
        "/herinneringen – hoe vaak ik u herinner\n"
        "/taal – een andere taal kiezen\n"
        "/profiel – wie invult en hoe ik u noem\n"
        "/privacy – wat ik bewaar en wie het ziet\n"
        "/mijngegevens – alles wat ik van u bewaar\n"
        "/verwijderen – alles wissen\n"
        "/stop – stoppen voor nu\n\n"
        "Bij elke vraag kunt u 'Overslaan', 'Later' of 'Terug' kiezen."
    )


def invitation_problem(tr: Translator, status: str) -> str:
    """One kind sentence for a code that cannot be used; it says nothing about anyone."""
    if status == "slow":
        return tr.gettext(
            "Er zijn een paar codes geprobeerd die niet werken. "
            "Probeer het over tien minuten nog eens."
        )
    if status == "ok":
        return tr.gettext("U doet al mee. Met /wissel kiest u wiens wensen u invult.")
    return tr.gettext(
        "Deze uitnodiging werkt niet (meer). Vraag degene die u uitnodigde om een nieuwe link."
    )


def media_thanks(tr: Translator, kind: MediaKind) -> str:
    """A photo, sticker or the like where an answer was expected: thanks, and what works."""
    names = {
        MediaKind.PHOTO: tr.gettext("een foto"),
        MediaKind.STICKER: tr.gettext("een sticker"),
        MediaKind.VOICE: tr.gettext("een ingesproken bericht"),
        MediaKind.DOCUMENT: tr.gettext("een bestand"),
        MediaKind.LOCATION: tr.gettext("een locatie"),
        MediaKind.CONTACT: tr.gettext("een contact"),
        MediaKind.VIDEO: tr.gettext("een video"),
    }
    what = names.get(kind, tr.gettext("dit soort bericht"))
    return tr.gettext(
        "Dank u wel voor {what}! Daar kan ik helaas niets mee. "
        "U kunt een knop kiezen of een antwoord typen."
    ).format(what=what)
