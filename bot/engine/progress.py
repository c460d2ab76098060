"""Which questions apply (ask_if), and how far a person is, per topic and overall."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.content.model import Condition, Flow, Question, Topic
from bot.engine.state import AnswerView

Answers = Mapping[str, AnswerView]


def condition_holds(condition: Condition, answers: Answers) -> bool:
    answer = answers.get(condition.question)
    given = () if answer is None or answer.skipped else answer.option_ids
    if condition.answered is True and (answer is None or answer.skipped):
        return False
    if condition.answered is False and answer is not None and not answer.skipped:
        return False
    if condition.any_of and not set(condition.any_of) & set(given):
        return False
    return not (condition.none_of and set(condition.none_of) & set(given))


def applies(question: Question, answers: Answers) -> bool:
    return all(condition_holds(c, answers) for c in question.ask_if)


def might_apply(topic: Topic, question: Question, answers: Answers) -> bool:
    """Still possible: a condition on a question not answered yet counts as met, as long
    as that question itself may still be asked.

    Used for counting, so "vraag 2 van 6" can only shrink as answers rule follow-up
    questions out; a count that grows feels like the finish line moving away.
    """
    for condition in question.ask_if:
        target = next((q for q in topic.questions if q.id == condition.question), None)
        open_target = condition.question not in answers and (
            target is None or might_apply(topic, target, answers)
        )
        if not open_target and not condition_holds(condition, answers):
            return False
    return True


def applicable(topic: Topic, answers: Answers) -> list[Question]:
    """The questions of a topic that are asked, given the answers so far (info included)."""
    return [q for q in topic.questions if applies(q, answers)]


@dataclass(frozen=True)
class TopicProgress:
    topic: Topic
    done: int
    total: int
    skipped: int

    @property
    def complete(self) -> bool:
        return self.done >= self.total

    @property
    def started(self) -> bool:
        return self.done > 0


def topic_progress(topic: Topic, answers: Answers) -> TopicProgress:
    # One pass, no lists: this runs for every topic several times a turn.
    total = done = skipped = 0
    for question in topic.questions:
        if not question.is_asked or (question.ask_if and not might_apply(topic, question, answers)):
            continue
        total += 1
        answer = answers.get(question.id)
        if answer is not None:
            done += 1
            skipped += answer.skipped
    return TopicProgress(topic=topic, done=done, total=total, skipped=skipped)


def flow_progress(flow: Flow, answers: Answers) -> list[TopicProgress]:
    return [topic_progress(topic, answers) for topic in flow.topics]


def first_open(topic: Topic, answers: Answers) -> Question | None:
    for question in applicable(topic, answers):
        if question.is_asked and question.id not in answers:
            return question
    return None


BAR_CELLS = 8


def bar(item: TopicProgress) -> str:
    """A bar that only fills: answers only add to `done`, and `total` only shrinks."""
    filled = BAR_CELLS if item.total == 0 else round(BAR_CELLS * item.done / item.total)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def minutes_left(topic: Topic, item: TopicProgress) -> int:
    """The topic's announced minutes, for the part still open (at least one)."""
    if item.total == 0:
        return 1
    return max(1, -(-topic.minutes * (item.total - item.done) // item.total))


def next_topic(flow: Flow, after: str, answers: Answers) -> Topic | None:
    """The first topic after `after` (then from the start) that is not done yet."""
    ids = [t.id for t in flow.topics]
    start = ids.index(after) + 1 if after in ids else 0
    for topic in [*flow.topics[start:], *flow.topics[:start]]:
        if topic.id != after and not topic_progress(topic, answers).complete:
            return topic
    return None
