"""`flows show`: the compiled flow as JSON, or a table per topic for content editors."""

from __future__ import annotations

from typing import Any

from bot.content.model import Flow, Question, Text, Topic
from bot.i18n import available_locales, translator

SECONDS_PER_QUESTION = {"text": 60, "person": 60, "multi": 30, "info": 15}


def texts(text: Text | None, locales: tuple[str, ...]) -> dict[str, str] | None:
    if text is None:
        return None
    return {loc: translator(loc).pgettext(text.context, text.source) for loc in locales}


def question_json(question: Question, locales: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": question.id,
        "type": question.type.value,
        "text": texts(question.text, locales),
        "about": texts(question.about, locales),
        "help": texts(question.help, locales),
        "summary": texts(question.summary, locales),
        "low": texts(question.low, locales),
        "high": texts(question.high, locales),
        "options": [
            {
                "id": option.id,
                "label": texts(option.label, locales),
                "pzp": option.pzp.code if option.pzp else None,
            }
            for option in question.options
        ],
        "ask_if": [
            {
                "question": c.question,
                "in": list(c.any_of),
                "not_in": list(c.none_of),
                "answered": c.answered,
            }
            for c in question.ask_if
        ],
        "pzp": question.pzp.link_id if question.pzp else None,
    }


def flow_json(flow: Flow) -> dict[str, Any]:
    locales = available_locales()
    return {
        "id": flow.id,
        "version": flow.version,
        "title": texts(flow.title, locales),
        "locales": list(locales),
        "topics": [
            {
                "id": topic.id,
                "title": texts(topic.title, locales),
                "intro": texts(topic.intro, locales),
                "minutes": topic.minutes,
                "estimated_minutes": estimated_minutes(topic),
                "sensitive": topic.sensitive,
                "permission": texts(topic.permission, locales),
                "proxy_note": texts(topic.proxy_note, locales),
                "questions": [question_json(q, locales) for q in topic.questions],
            }
            for topic in flow.topics
        ],
    }


def estimated_minutes(topic: Topic) -> float:
    """A rough reading-and-answering time: 20 s a button question, longer for typing."""
    seconds = sum(SECONDS_PER_QUESTION.get(q.type.value, 20) for q in topic.questions)
    return round(seconds / 60, 1)


def pzp_items(topic: Topic) -> list[str]:
    return [q.pzp.link_id for q in topic.questions if q.pzp]


def flow_table(flow: Flow) -> str:
    header = f"{'topic':<24} {'questions':>9} {'minutes':>8} {'est.':>6}  PZP items"
    lines = [f"{flow.id} (version {flow.version})", header, "-" * len(header)]
    total_questions = 0
    total_minutes = 0.0
    for topic in flow.topics:
        count = len(topic.asked_questions)
        total_questions += count
        total_minutes += estimated_minutes(topic)
        items = ", ".join(pzp_items(topic)) or "-"
        lines.append(
            f"{topic.id:<24} {count:>9} {topic.minutes:>8} {estimated_minutes(topic):>6}  {items}"
        )
    lines.append("-" * len(header))
    lines.append(f"{'total':<24} {total_questions:>9} {'':>8} {round(total_minutes, 1):>6}")
    return "\n".join(lines)
