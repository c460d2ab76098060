"""Checks that need the whole flow read first: ids, `ask_if` targets, `about` wording.

Each topic or question on its own can look fine while the flow is not: two topics with one
id, an `ask_if` on a later question, `about` on some questions only. A problem is reported
in the file the topic was read from (the flow file or an included topic file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.content.fields import FieldReader
from bot.content.model import Question, Topic

# Ids a question may not take: the bot uses these names itself.
RESERVED_IDS = {"menu", "profile", "consent"}


def check_flow(
    fields: FieldReader, topics: Sequence[Topic], topic_paths: Mapping[str, Path]
) -> None:
    """Run every whole-flow check; `topic_paths` gives the file each topic id came from."""
    checks = _FlowChecks(fields, topic_paths)
    checks.ids(topics)
    checks.conditions(topics)
    checks.about(topics)


class _FlowChecks:
    def __init__(self, fields: FieldReader, topic_paths: Mapping[str, Path]) -> None:
        self.fields = fields
        self.topic_paths = topic_paths

    def path_of(self, topic: Topic) -> Path:
        return self.topic_paths.get(topic.id, self.fields.path)

    def ids(self, topics: Sequence[Topic]) -> None:
        """Topic ids and question ids are unique in the flow; question ids are not reserved."""
        seen: dict[str, str] = {}
        for topic in topics:
            if topic.id in seen:
                self.fields.problem(
                    self.fields.path, topic.line, f"topic id '{topic.id}' is used twice"
                )
            seen.setdefault(topic.id, "topic")
        questions: dict[str, int] = {}
        for topic in topics:
            for question in topic.questions:
                if question.id in questions or question.id in RESERVED_IDS:
                    self.fields.problem(
                        self.path_of(topic),
                        question.line,
                        f"question id '{question.id}' is used twice or reserved",
                    )
                questions.setdefault(question.id, question.line)

    def conditions(self, topics: Sequence[Topic]) -> None:
        """`ask_if` refers to an earlier question (so the answer is known) and its options."""
        earlier: dict[str, Question] = {}
        for topic in topics:
            for question in topic.questions:
                for cond in question.ask_if:
                    target = earlier.get(cond.question)
                    where = self.path_of(topic)
                    if target is None:
                        self.fields.problem(
                            where,
                            cond.line,
                            f"question '{question.id}': ask_if refers to '{cond.question}', "
                            "which is not an earlier question",
                        )
                        continue
                    known = {o.id for o in target.options}
                    for option_id in cond.any_of + cond.none_of:
                        if option_id not in known:
                            self.fields.problem(
                                where,
                                cond.line,
                                f"question '{question.id}': ask_if option '{option_id}' is not "
                                f"an option of '{cond.question}'",
                            )
                earlier[question.id] = question

    def about(self, topics: Sequence[Topic]) -> None:
        """Third-person wording is all or nothing: once one question of the flow has `about`,
        every asked question needs one (a relative must never get a question meant for the
        person in the middle of questions about the person)."""
        asked = [(topic, q) for topic in topics for q in topic.questions if q.is_asked]
        if not any(q.about for _, q in asked):
            return
        for topic, question in asked:
            if question.about is None:
                self.fields.problem(
                    self.path_of(topic),
                    question.line,
                    f"question '{question.id}': 'about' is missing (the question asked about "
                    "someone else, with {name}); the flow uses it, so every question needs one",
                )
