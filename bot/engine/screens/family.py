"""/familie: the relatives who take part, what each may do, when they were last active,
and open invitations; a button removes a relative (keeping or erasing what they gave) or
withdraws an invitation. Its buttons work from any older message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.dates import day
from bot.engine.relations import who
from bot.engine.replies import (
    Button,
    ListFamily,
    Message,
    Notice,
    RemoveRelative,
    Reply,
    RevokeInvite,
)
from bot.engine.turn import Turn
from bot.i18n import Translator

KEY = "_familie"


@dataclass(frozen=True)
class RelativeLine:
    participant_id: int
    name: str | None
    relation: str | None
    mode: str | None  # helper | view
    may_see: bool
    last_active_at: datetime | None


@dataclass(frozen=True)
class InviteLine:
    id: str
    mode: str
    expires_at: datetime


def ask(turn: Turn, args: str) -> None:
    turn.effect(ListFamily())


def press(turn: Turn, option: str) -> None:
    """rm.<id> asks what happens with their answers; keep.<id> / drop.<id> removes;
    inv.<id> withdraws an invitation."""
    action, _, target = option.partition(".")
    if action == "rm" and target.isdigit():
        text = turn._(
            "Wat gebeurt er met wat deze persoon heeft ingevuld? Bewaren: het blijft "
            "staan, zonder naam. Wissen: het verdwijnt."
        )
        buttons = (
            (Button(turn._("Bewaren"), KEY, f"keep.{target}"),),
            (Button(turn._("Wissen"), KEY, f"drop.{target}"),),
        )
        turn.effect(Message(text, buttons, lasting=True))
    elif action in ("keep", "drop") and target.isdigit():
        turn.effect(RemoveRelative(int(target), keep_answers=action == "keep"))
        turn.show()
    elif action == "inv" and target:
        turn.effect(RevokeInvite(target))
        turn.show()
    else:
        turn.show()


def render(
    tr: Translator, locale: str, relatives: list[RelativeLine], invites: list[InviteLine]
) -> list[Reply]:
    if not relatives and not invites:
        text = tr.gettext("Er doet nog niemand mee. Met /uitnodigen nodigt u iemand uit.")
        return [Notice(text)]
    blocks, buttons = [tr.gettext("Wie meedoet:")], []
    for line in relatives:
        name = who(line.name, line.relation, tr)
        what = (
            tr.gettext("vult uw antwoorden in")
            if line.mode == "helper"
            else tr.gettext("geeft een eigen kijk")
        )
        see = tr.gettext("mag meelezen") if line.may_see else tr.gettext("leest niet mee")
        parts = [f"{name}: {what}, {see}"]
        if line.last_active_at:
            parts.append(
                tr.gettext("laatst actief op {date}").format(date=day(line.last_active_at, locale))
            )
        blocks.append(" · ".join(parts))
        label = tr.gettext("{name} verwijderen").format(name=line.name or name)
        buttons.append((Button(label, KEY, f"rm.{line.participant_id}"),))
    for number, invite in enumerate(invites, start=1):
        blocks.append(
            tr.gettext("Uitnodiging {number}, nog niet gebruikt, werkt tot {date}").format(
                number=number, date=day(invite.expires_at, locale)
            )
        )
        label = tr.gettext("Uitnodiging {number} intrekken").format(number=number)
        buttons.append((Button(label, KEY, f"inv.{invite.id}"),))
    return [Message("\n\n".join(blocks), tuple(buttons), lasting=True)]
