"""Whose wishes a screen is about, and the question worded for whoever answers it.

The person answers in their own words ("Waar wilt u wonen?"). Someone filling it in for
the person, or a relative, gets the flow's third-person wording (`about`) with the
person's name; a relative giving their own view is asked what they think.
"""

from __future__ import annotations

from bot.content.model import Question, Topic
from bot.engine.turn import Turn


def subject(turn: Turn) -> str | None:
    """The person whose wishes these are, when someone else is answering."""
    if turn.conv.role in ("helper", "view"):
        return turn.conv.subject or turn._("deze persoon")
    if turn.conv.mode == "for_other":
        return turn.conv.name
    return None


def question_text(turn: Turn, question: Question) -> str:
    name = subject(turn)
    if name is None or question.about is None:
        return turn.t(question.text)
    about = turn.t(question.about).format(name=name)
    if turn.conv.role != "view":
        return about
    if not about.startswith(name):  # "Wat denkt u: waar zou Anna het liefst wonen?"
        about = about[:1].lower() + about[1:]
    return turn._("Wat denkt u: {question}").format(question=about)


def proxy_note(turn: Turn, topic: Topic) -> str | None:
    name = subject(turn)
    if name is None or topic.proxy_note is None:
        return None
    return turn.t(topic.proxy_note).format(name=name)


def whose_line(turn: Turn) -> str | None:
    """A short line that says whose wishes are being filled in, for every screen."""
    if turn.conv.role == "view":
        return turn._("Uw kijk op de wensen van {name}").format(name=subject(turn))
    name = subject(turn)
    return turn._("voor {name}").format(name=name) if name else None
