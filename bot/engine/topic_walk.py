"""Moving through a topic: begin, next, back, skip, later. Shared by the intro and the
question screens, so "what happens when someone presses Overslaan" is found here."""

from __future__ import annotations

from typing import Any

from bot.content.model import Question, QuestionType
from bot.engine import progress
from bot.engine.turn import Turn


def begin_topic(turn: Turn) -> None:
    """ "Beginnen": the first open question, or from the top to look answers over."""
    if turn.conv.topic in turn.conv.parked:
        turn.conv.parked.remove(turn.conv.topic)
    first = progress.first_open(turn.topic, turn.answers)
    turn.conv.draft = {"reviewing": first is None}
    start = first or next(iter(progress.applicable(turn.topic, turn.answers)), None)
    if start is None:
        turn.fire("show_menu")
        return
    go_to_question(turn, start, trigger="begin_topic")


def advance(turn: Turn) -> None:
    """To the next question that needs an answer, or back to the menu when done."""
    if turn.conv.draft.get("in_review"):  # a change made during /nakijken: back to it
        turn.conv.question = None
        turn.conv.draft = {}
        turn.fire("back_to_review")
        return
    topic = turn.topic
    current = turn.question
    questions = progress.applicable(topic, turn.answers)
    ids = [q.id for q in questions]
    after = questions[ids.index(current.id) + 1 :] if current.id in ids else questions
    reviewing = bool(turn.conv.draft.get("reviewing"))
    upcoming = [q for q in after if reviewing or not q.is_asked or q.id not in turn.answers]
    target = upcoming[0] if upcoming else progress.first_open(topic, turn.answers)
    if target is not None:
        go_to_question(turn, target, trigger="next_question", draft={"reviewing": reviewing})
        return
    title = turn.t(topic.title)
    turn.notice(turn._("Klaar: {topic}. Dank u wel!").format(topic=title))
    turn.conv.question = None
    following = progress.next_topic(turn.flow, topic.id, turn.answers)
    turn.conv.draft = {"suggest": following.id} if following else {}
    if topic.id in turn.conv.parked:
        turn.conv.parked.remove(topic.id)
    turn.fire("show_menu")


def go_to_question(
    turn: Turn, question: Question, *, trigger: str, draft: dict[str, Any] | None = None
) -> None:
    conv = turn.conv
    conv.question = question.id
    conv.step = "name" if question.type is QuestionType.PERSON else None
    keep = {"reviewing": conv.draft.get("reviewing", False)}
    conv.draft = {**keep, **(draft or {})}
    previous = turn.answers.get(question.id)
    if question.type is QuestionType.MULTI and previous and not previous.skipped:
        conv.draft["selected"] = list(previous.option_ids)
    if not conv.trail or conv.trail[-1] != question.id:
        conv.trail.append(question.id)
    turn.fire(trigger)


def skip_question(turn: Turn) -> None:
    """ "Overslaan": remembered as skipped (so it is not asked again), never as an answer."""
    question = turn.question
    if question.is_asked:
        turn.record(question, {}, skipped=True)
    advance(turn)


def park_topic(turn: Turn) -> None:
    """ "Later": the topic waits in the menu; nothing is lost."""
    topic = turn.conv.topic
    if topic and topic not in turn.conv.parked:
        turn.conv.parked.append(topic)
    turn.notice(turn._("Goed, dit onderwerp bewaren we voor later."))
    turn.conv.review, turn.conv.review_stage = [], None
    turn.conv.question = None
    turn.conv.draft = {}
    turn.fire("show_menu")


def go_back(turn: Turn) -> None:
    """ "Terug": the question before this one in this topic, or the topic's intro."""
    question = turn.question
    trail = turn.conv.trail
    while trail and trail[-1] == question.id:
        trail.pop()
    while trail:
        previous = turn.flow.question(trail.pop())
        if previous is not None and progress.applies(previous, turn.answers):
            go_to_question(turn, previous, trigger="next_question")
            return
    # Nothing shown before in this visit (the topic was resumed half-way): the question
    # before this one in the topic, so answers from an earlier visit can be changed.
    questions = progress.applicable(turn.topic, turn.answers)
    ids = [q.id for q in questions]
    index = ids.index(question.id) if question.id in ids else 0
    if index > 0:
        go_to_question(turn, questions[index - 1], trigger="next_question")
        return
    turn.conv.question = None
    turn.fire("back_to_intro")
