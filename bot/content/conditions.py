"""Reading conditions: a question's `ask_if` and a discuss rule's `when`.

Both say "an earlier answer is (not) one of these options, or was (not) answered", so they
are read by one function with one set of messages. Whether the question and options they
name exist can only be checked once the whole flow is read (see `flow_checks` and
`discuss`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.fields import FieldReader
from bot.content.model import Condition
from bot.content.yaml_lines import LineDict, LineList

CONDITION_KEYS = {"question", "is", "in", "not", "not_in", "answered"}


def read_conditions(
    fields: FieldReader, path: Path, raw: LineDict, who: str, key: str
) -> tuple[Condition, ...]:
    """The conditions under `key` of `raw` (one mapping or a list of them); `who` names the
    question or rule in messages."""
    value = raw.get(key)
    if value is None:
        return ()
    line = raw.line_of(key)
    items = value if isinstance(value, LineList) else [value]
    result = []
    for item in items:
        if not isinstance(item, LineDict) or not isinstance(item.get("question"), str):
            fields.problem(path, line, f"{who}: {key} needs `question: id`")
            continue
        fields.unknown_keys(path, item, CONDITION_KEYS, key)
        any_of = _as_ids(item.get("in", item.get("is")))
        none_of = _as_ids(item.get("not_in", item.get("not")))
        answered = item.get("answered")
        if answered is not None and not isinstance(answered, bool):
            fields.problem(path, item.line, f"{key} answered must be true or false")
            answered = None
        if any_of is None or none_of is None:
            fields.problem(path, item.line, f"{key} is/in/not/not_in take an option id or a list")
            continue
        if not any_of and not none_of and answered is None:
            fields.problem(path, item.line, f"{key} needs one of is, in, not, not_in, answered")
            continue
        result.append(
            Condition(
                question=item["question"],
                any_of=any_of,
                none_of=none_of,
                answered=answered,
                line=item.line,
            )
        )
    return tuple(result)


def _as_ids(value: Any) -> tuple[str, ...] | None:
    """One option id or a list of them as a tuple; None when it is neither."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
