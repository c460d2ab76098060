"""The list of share links (/links), each with a button to revoke it.

The service fetches the links (`LinkView`) and asks this module to draw them, so this
screen is built in the engine like every other; its buttons work from any older message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.dates import day, day_and_time
from bot.engine.replies import Button, ListShareLinks, Message, Notice, Reply, RevokeShareLink
from bot.engine.turn import Turn
from bot.i18n import Translator

KEY = "_links"
LOG_LINES_IN_CHAT = 5


@dataclass(frozen=True)
class LinkView:
    """One working share link as the person sees it in the chat."""

    id: str
    created_at: datetime
    expires_at: datetime
    has_code: bool
    last_opened_at: datetime | None
    openings: list[tuple[datetime, str]] = field(default_factory=list)  # newest first


def ask(turn: Turn, args: str) -> None:
    turn.effect(ListShareLinks())


def press(turn: Turn, link_id: str) -> None:
    turn.effect(RevokeShareLink(link_id))
    turn.show()


def render(tr: Translator, locale: str, links: list[LinkView]) -> list[Reply]:
    if not links:
        return [
            Notice(
                tr.gettext("U heeft nu geen werkende links. Met /delen maakt u een nieuwe link.")
            )
        ]
    blocks = [tr.gettext("Uw werkende links:")]
    buttons = []
    for number, link in enumerate(links, start=1):
        facts = [
            tr.gettext("Link {number}").format(number=number),
            tr.gettext("gemaakt op {date}").format(date=day(link.created_at, locale)),
            tr.gettext("werkt tot {date}").format(date=day(link.expires_at, locale)),
        ]
        if link.has_code:
            facts.append(tr.gettext("met toegangscode"))
        lines = [" · ".join(facts)]
        if link.last_opened_at:
            lines.append(
                tr.gettext("Laatst geopend: {moment}").format(
                    moment=day_and_time(link.last_opened_at, locale)
                )
            )
        if not link.openings:
            lines.append(tr.gettext("Nog niet geopend."))
        for at, what in link.openings[:LOG_LINES_IN_CHAT]:
            lines.append(f"  – {day_and_time(at, locale)}: {what}")
        if len(link.openings) > LOG_LINES_IN_CHAT:
            more = len(link.openings) - LOG_LINES_IN_CHAT
            lines.append("  – " + tr.gettext("en {count} keer eerder").format(count=more))
        blocks.append("\n".join(lines))
        label = tr.gettext("Link {number} intrekken").format(number=number)
        buttons.append((Button(label, KEY, link.id),))
    blocks.append(
        tr.gettext(
            "Wilt u een link intrekken? Kies hieronder welke. Daarna werkt die link niet meer."
        )
    )
    return [Message("\n\n".join(blocks), tuple(buttons), lasting=True)]
