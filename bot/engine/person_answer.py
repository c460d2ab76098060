"""A `person` question in three small steps: name (typed), relation (a button or typed),
phone (typed, or "Weet ik niet"). The steps live in the conversation's draft until the last
one, so /stop in between loses nothing and nothing half-made is recorded."""

from __future__ import annotations

import re

from bot.engine.answer_value import person_value
from bot.engine.matching import match_one
from bot.engine.screens.base import Option
from bot.engine.topic_walk import advance
from bot.engine.turn import Turn

MAX_NAME = 60
PHONE = re.compile(r"^\+?[\d\s().-]{6,20}$")
NO_PHONE = "_none"


def step(turn: Turn) -> str:
    return turn.conv.step or "name"


def options(turn: Turn) -> list[Option]:
    if step(turn) == "relation":
        return []  # the question's own options; the screen adds them
    if step(turn) == "phone":
        return [Option(NO_PHONE, turn._("Weet ik niet"), (turn._("geen"),))]
    return []


def prompt(turn: Turn) -> str:
    if step(turn) == "name":
        return turn._("Wat is de naam? Typ de naam.")
    if step(turn) == "relation":
        return turn._("Wat is deze persoon van u?")
    return turn._("Wat is het telefoonnummer? Typ het nummer.")


def expects_text(turn: Turn) -> bool:
    return turn.conv.step in (None, "name", "phone")


def typed(turn: Turn, text: str) -> None:
    """Text typed at the name or phone step."""
    if step(turn) == "name":
        turn.conv.draft["name"] = " ".join(text.split())[: MAX_NAME * 2]
        turn.conv.step = "relation"
        turn.draw()
    elif not PHONE.match(text):
        choices = turn.options()
        index = match_one(text, [(o.label, *o.words) for o in choices])
        if index is not None:
            turn.screen.choose(turn, choices[index].id)
            return
        turn.notice(
            turn._("Dat lijkt geen telefoonnummer. Typ alleen de cijfers, of kies 'Weet ik niet'.")
        )
        turn.draw()
    else:
        turn.conv.draft["phone"] = " ".join(text.split())
        finish(turn)


def typed_relation(turn: Turn, text: str) -> bool:
    """A relation typed in words that match no button ("buurvrouw") is kept as written."""
    if step(turn) != "relation":
        return False
    choices = turn.options()
    if match_one(text, [(o.label, *o.words) for o in choices]) is not None:
        return False
    turn.conv.draft["relation"] = None
    turn.conv.draft["relation_text"] = " ".join(text.split())[:MAX_NAME]
    turn.conv.step = "phone"
    turn.draw()
    return True


def chosen(turn: Turn, option: str) -> None:
    """A button at the relation or phone step."""
    if step(turn) == "relation":
        turn.conv.draft["relation"] = option
        turn.conv.step = "phone"
        turn.draw()
    elif step(turn) == "phone" and option == NO_PHONE:
        finish(turn)
    else:
        turn.draw()


def step_back(turn: Turn) -> bool:
    """ "Terug" inside the question goes one step back; at the name step it leaves it."""
    if turn.conv.step in (None, "name"):
        return False
    turn.conv.step = "name" if turn.conv.step == "relation" else "relation"
    turn.draw()
    return True


def finish(turn: Turn) -> None:
    draft = turn.conv.draft
    value = person_value(
        name=draft.get("name", ""),
        relation=draft.get("relation"),
        phone=draft.get("phone"),
        relation_text=draft.get("relation_text"),
    )
    turn.record(turn.question, value)
    advance(turn)
