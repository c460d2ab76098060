"""The compiled flow: plain, immutable data that the engine walks and the summary reads.

Texts are kept in the source language (Dutch) together with their gettext context, so a
renderer can translate them into any locale at the last moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class QuestionType(StrEnum):
    CHOICE = "choice"
    MULTI = "multi"
    SCALE = "scale"
    TEXT = "text"
    YESNO = "yesno"
    PERSON = "person"
    INFO = "info"


@dataclass(frozen=True)
class Text:
    """A translatable text: the Dutch source plus the context that makes it unique."""

    context: str
    source: str


@dataclass(frozen=True)
class PzpLink:
    """Where an answer belongs on the national PZP form (per option: a `PzpCode`)."""

    link_id: str


@dataclass(frozen=True)
class PzpCode:
    code: str
    system: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    label: Text
    aliases: tuple[Text, ...] = ()
    pzp: PzpCode | None = None
    line: int = 0


@dataclass(frozen=True)
class Condition:
    """`ask_if`: show a question only when an earlier answer is (not) one of some options."""

    question: str
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    answered: bool | None = None
    line: int = 0


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    type: QuestionType
    text: Text
    options: tuple[Option, ...] = ()
    help: Text | None = None
    summary: Text | None = None
    ask_if: tuple[Condition, ...] = ()
    low: Text | None = None
    high: Text | None = None
    pzp: PzpLink | None = None
    # The question asked about someone else ("Waar zou {name} het liefst wonen?"), for a
    # relative filling it in for the person or giving their own view; {name} is the person.
    about: Text | None = None
    line: int = 0

    def option(self, option_id: str) -> Option | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    @property
    def is_asked(self) -> bool:
        """Info messages are shown but expect no answer and do not count as questions."""
        return self.type is not QuestionType.INFO


@dataclass(frozen=True)
class Topic:
    id: str
    title: Text
    intro: Text
    minutes: int
    questions: tuple[Question, ...]
    sensitive: bool = False
    permission: Text | None = None
    # Shown before the topic's questions when someone answers for the person ("answer as
    # {name} would, and ask {name} if you can"); {name} is the person.
    proxy_note: Text | None = None
    line: int = 0
    source: str = ""  # the file the topic is written in (an included file, or the flow's)

    @property
    def asked_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.is_asked)


@dataclass(frozen=True)
class DiscussRule:
    """ "Om te bespreken": answers that do not fit together, for the professional to discuss.

    Not an error for the person: the rule is only shown in the summary. It holds when every
    condition in `when` holds on the answers given (a skipped or unanswered question never
    makes a rule hold, also not for `not`).
    """

    id: str
    text: Text
    when: tuple[Condition, ...]
    line: int = 0

    def holds(self, answers: Mapping[str, tuple[str, ...]]) -> bool:
        """`answers`: question id -> the option ids of a given (not skipped) answer."""
        for condition in self.when:
            given = answers.get(condition.question)
            if condition.answered is False:
                if given is not None:
                    return False
                continue
            if given is None:
                return False
            if condition.any_of and not set(condition.any_of) & set(given):
                return False
            if condition.none_of and set(condition.none_of) & set(given):
                return False
        return True


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: Text
    topics: tuple[Topic, ...]
    source: str = ""
    discuss: tuple[DiscussRule, ...] = ()
    _questions: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for topic in self.topics:
            for question in topic.questions:
                self._questions[question.id] = question

    def topic(self, topic_id: str) -> Topic | None:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        return None

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(self._questions.values())
