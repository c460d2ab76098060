"""Reading a flow's `discuss:` rules: answers that do not fit together.

The professional sees them under "Om te bespreken". A rule names questions and options
anywhere in the flow, so it is read after every topic and checked against all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.content.conditions import read_conditions
from bot.content.fields import FieldReader
from bot.content.model import Condition, DiscussRule, Question, Topic
from bot.content.yaml_lines import LineDict, LineList

DISCUSS_KEYS = {"id", "when", "text"}


def read_discuss_rules(
    fields: FieldReader, data: LineDict, topics: Sequence[Topic], flow_id: str
) -> tuple[DiscussRule, ...]:
    """The `discuss:` list of the flow file `data`; each rule needs an id, a text and
    `when` conditions on questions and options that exist."""
    path = fields.path
    raw_rules = data.get("discuss")
    if raw_rules is None:
        return ()
    if not isinstance(raw_rules, LineList):
        fields.problem(path, data.line_of("discuss"), "discuss must be a list of rules")
        return ()
    questions = {q.id: q for topic in topics for q in topic.questions}
    rules: list[DiscussRule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        if not isinstance(raw, LineDict):
            fields.problem(path, raw_rules.item_lines[index], "a discuss rule must be a mapping")
            continue
        fields.unknown_keys(path, raw, DISCUSS_KEYS, "discuss rule")
        rule_id = fields.ident(path, raw, "id", "discuss rule")
        if rule_id is None:
            continue
        if rule_id in seen:
            fields.problem(path, raw.line, f"discuss rule id '{rule_id}' is used twice")
        seen.add(rule_id)
        text = fields.text(path, raw, "text", f"{flow_id}.discuss.{rule_id}", required=True)
        where = f"discuss rule '{rule_id}'"
        when = read_conditions(fields, path, raw, where, key="when")
        if "when" not in raw:
            fields.problem(path, raw.line, f"{where}: 'when' is missing")
        for cond in when:
            _check_condition(fields, where, cond, questions)
        if text is not None and when:
            rules.append(DiscussRule(id=rule_id, text=text, when=when, line=raw.line))
    return tuple(rules)


def _check_condition(
    fields: FieldReader, where: str, cond: Condition, questions: dict[str, Question]
) -> None:
    """A rule's condition must name an asked question and options it has."""
    target = questions.get(cond.question)
    if target is None:
        fields.problem(
            fields.path, cond.line, f"{where} refers to '{cond.question}', which is no question"
        )
        return
    if not target.is_asked:
        fields.problem(
            fields.path, cond.line, f"{where} refers to '{cond.question}', an info message"
        )
        return
    known = {o.id for o in target.options}
    for option_id in cond.any_of + cond.none_of:
        if option_id not in known:
            fields.problem(
                fields.path,
                cond.line,
                f"{where}: '{option_id}' is not an option of '{cond.question}'"
                + (f" (options: {', '.join(sorted(known))})" if known else " (it has none)"),
            )
