"""/wissel: one chat can fill in the person's own wishes and, as a relative, someone
else's. The list names whose wishes each is; its buttons work from any older message."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.replies import Button, ListRoles, Message, Notice, Reply, SwitchTo
from bot.engine.turn import Turn
from bot.i18n import Translator

KEY = "_wissel"


@dataclass(frozen=True)
class RoleView:
    participant_id: int
    own: bool  # the chat user's own wishes
    subject: str | None  # whose wishes, for a relative link
    active: bool


def ask(turn: Turn, args: str) -> None:
    turn.effect(ListRoles())


def press(turn: Turn, option: str) -> None:
    if option.isdigit():
        turn.effect(SwitchTo(int(option)))
    else:
        turn.show()


def render(tr: Translator, roles: list[RoleView]) -> list[Reply]:
    if len(roles) < 2:
        return [
            Notice(
                tr.gettext(
                    "U vult nu alleen deze wensen in. Als iemand u uitnodigt, "
                    "kiest u hier wiens wensen u invult."
                )
            )
        ]
    buttons = []
    for role in roles:
        label = (
            tr.gettext("Mijn eigen wensen")
            if role.own
            else tr.gettext("Wensen van {name}").format(name=role.subject or tr.gettext("iemand"))
        )
        mark = "✓ " if role.active else ""
        buttons.append((Button(mark + label, KEY, str(role.participant_id)),))
    text = tr.gettext("Wiens wensen wilt u nu invullen?")
    return [Message(text, tuple(buttons), lasting=True)]
