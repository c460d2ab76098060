"""Reminders to continue, and the choice of how often (/herinneringen).

A reminder is sent by the scheduler, not in a turn, so its message is drawn here by
`reminder_message` / `review_message` and its buttons ("Verder", "Geen herinneringen
meer", "Nakijken") are a side list: they work from any older message.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.content.model import Flow
from bot.engine import progress
from bot.engine.replies import Button, CreateShareLink, Message
from bot.engine.screens import review
from bot.engine.screens.base import Option
from bot.engine.state import AnswerView, Conversation
from bot.engine.turn import Turn
from bot.i18n import Translator

KEY = "_remind"
CHOICES = ("default", "weekly", "monthly", "off")
RESTING = ("welcome", "consent", "who", "name", "deleting")


def wants_reminder(
    flow: Flow,
    conv: Conversation,
    answers: Mapping[str, AnswerView],
    items: list[progress.TopicProgress] | None = None,
) -> bool:
    """Stopped in the middle: consented, a topic started, and topics left. (`items`: the
    flow's progress when the caller has it already.)"""
    if not conv.consented or conv.state in RESTING or conv.reminders == "off":
        return False
    items = items if items is not None else progress.flow_progress(flow, answers)
    return any(item.started for item in items) and not all(item.complete for item in items)


def all_done(
    flow: Flow,
    conv: Conversation,
    answers: Mapping[str, AnswerView],
    items: list[progress.TopicProgress] | None = None,
) -> bool:
    """Every topic had: from now on a review is planned now and then."""
    if not conv.consented or conv.state in RESTING:
        return False
    items = items if items is not None else progress.flow_progress(flow, answers)
    return all(item.complete for item in items)


def ask(turn: Turn, args: str) -> None:
    """/herinneringen: how often Tijdig may remind."""
    current = {
        "default": turn._("Nu: twee keer, na een paar dagen en na ruim een week."),
        "weekly": turn._("Nu: elke week."),
        "monthly": turn._("Nu: elke maand."),
        "off": turn._("Nu: geen herinneringen."),
    }[turn.conv.reminders if turn.conv.reminders in CHOICES else "default"]
    options = [
        Option("default", turn._("Twee keer (standaard)")),
        Option("weekly", turn._("Elke week")),
        Option("monthly", turn._("Elke maand")),
        Option("off", turn._("Geen herinneringen")),
    ]
    text = turn._("Stopt u halverwege? Dan stuur ik u een herinnering. Hoe vaak mag dat?")
    turn.say(f"{text}\n{current}", options, key=KEY, lasting=True)


def press(turn: Turn, option: str) -> None:
    if option == "continue":
        turn.resume()
        return
    if option == "review":
        review.start(turn, "")
        return
    if option == "later":
        turn.notice(turn._("Goed, een andere keer. Met /nakijken kan het altijd."))
        turn.show()
        return
    if option == "tell_gp":
        turn.notice(gp_note(turn))
        turn.effect(CreateShareLink(with_code=False))  # the link to send with it
        return
    if option == "not_gp":
        turn.notice(
            turn._("Goed. Als uw huisarts de link weer opent, ziet die wat er veranderd is.")
        )
        turn.show()
        return
    if option not in CHOICES:
        turn.show()
        return
    turn.conv.reminders = option
    said = {
        "default": turn._("Goed. Ik herinner u er twee keer aan als u halverwege stopt."),
        "weekly": turn._("Goed. Ik herinner u er elke week aan als u halverwege stopt."),
        "monthly": turn._("Goed. Ik herinner u er elke maand aan als u halverwege stopt."),
        "off": turn._(
            "Goed, u krijgt geen herinneringen meer. Met /herinneringen zet u ze weer aan."
        ),
    }
    turn.notice(said[option])
    if turn.state not in ("welcome", "consent"):
        turn.show()


def reminder_message(tr: Translator, conv: Conversation, step: int) -> Message:
    """The kind nudge to continue; the second one is a little shorter."""
    greeting = tr.gettext("Dag {name},").format(name=conv.name) if conv.name else ""
    if step <= 1:
        body = tr.gettext(
            "U was een paar dagen geleden bezig met Tijdig. Wilt u verder? "
            "Het mag ook later, of helemaal niet."
        )
    else:
        body = tr.gettext(
            "Nog één keer: u kunt verdergaan waar u was. Daarna stuur ik geen herinnering meer."
        )
    text = f"{greeting}\n{body}" if greeting else body
    buttons = (
        (Button(tr.gettext("Verder"), KEY, "continue"),),
        (Button(tr.gettext("Geen herinneringen meer"), KEY, "off"),),
    )
    return Message(text, buttons, lasting=True)


def review_message(tr: Translator, conv: Conversation) -> Message:
    """After REVIEW_AFTER: are the wishes still right?"""
    greeting = tr.gettext("Dag {name},").format(name=conv.name) if conv.name else ""
    body = tr.gettext(
        "Het is een tijd geleden dat u uw wensen heeft opgeschreven. "
        "Kloppen ze nog? Nakijken duurt maar een paar minuten."
    )
    text = f"{greeting}\n{body}" if greeting else body
    buttons = (
        (Button(tr.gettext("Nakijken"), KEY, "review"),),
        (Button(tr.gettext("Nu niet"), KEY, "later"),),
    )
    return Message(text, buttons, lasting=True)


def tell_gp_message(tr: Translator, conv: Conversation) -> Message:
    """Something changed after the GP opened a link: do they want to tell the GP?"""
    text = tr.gettext(
        "Er is iets veranderd in uw wensen. Uw huisarts had uw samenvatting al geopend. "
        "Wilt u het uw huisarts laten weten?"
    )
    buttons = (
        (Button(tr.gettext("Ja, geef mij de link met een berichtje"), KEY, "tell_gp"),),
        (Button(tr.gettext("Nee, dank u"), KEY, "not_gp"),),
    )
    return Message(text, buttons, lasting=True)


def gp_note(turn: Turn) -> str:
    """A short note to forward with a new link (the GP's old one keeps working; only a
    hash of a link's token is kept, so the same link cannot be sent again)."""
    note = turn._(
        "Beste dokter, ik heb mijn wensen in Tijdig aangepast. Via deze link ziet u ze. Wat "
        "veranderd is, staat gemarkeerd."
    )
    return turn._(
        "Hier is een kort bericht, en hieronder een nieuwe link. Stuur ze samen door naar uw "
        "huisarts:\n\n{note}\n\nDe link die uw huisarts al heeft, blijft ook werken."
    ).format(note=note)
