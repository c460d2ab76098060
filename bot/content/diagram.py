"""A mermaid flowchart of a flow's topics and questions, with the ask_if conditions."""

from __future__ import annotations

from bot.content.model import Condition, Flow


def _condition_label(condition: Condition) -> str:
    if condition.any_of:
        return "is " + " / ".join(condition.any_of)
    if condition.none_of:
        return "not " + " / ".join(condition.none_of)
    return "answered" if condition.answered else "not answered"


def flow_mermaid(flow: Flow) -> str:
    lines = ["flowchart TD"]
    previous_topic_end: str | None = None
    for topic in flow.topics:
        lines.append(f'    subgraph {topic.id}["{topic.title.source}"]')
        ids = [q.id for q in topic.questions]
        for question in topic.questions:
            lines.append(f'        {question.id}["{question.id} ({question.type.value})"]')
        if len(ids) > 1:
            lines.append("        " + " --> ".join(ids))
        lines.append("    end")
        if previous_topic_end and ids:
            lines.append(f"    {previous_topic_end} -.-> {ids[0]}")
        previous_topic_end = ids[-1] if ids else previous_topic_end
    for question in flow.questions:
        for condition in question.ask_if:
            label = _condition_label(condition)
            lines.append(f'    {condition.question} -. "{label}" .-> {question.id}')
    return "\n".join(lines)
