"""Bidi controls in what people type cannot reorder the attribution after it (issue 12,
point 10): an answer with U+202E (right-to-left override) used to reverse the
"(ingevuld door …, datum)" that follows it in the text download and in /samenvatting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.content.loader import load_flows
from bot.summary.model import build_summary
from bot.summary.text import render_text
from tests.summary_support import rich_answers, write_rich_flow

EMBEDDINGS = {"\u202a", "\u202b", "\u202d", "\u202e"}  # LRE RLE LRO RLO
POP_EMBEDDING = "\u202c"  # PDF
ISOLATES = {"\u2066", "\u2067", "\u2068"}  # LRI RLI FSI
POP_ISOLATE = "\u2069"  # PDI

HOSTILE = [
    "Thuis \u202eblijven",
    "\u2069\u202e een losse PDI eerst",
    "\u2067 een isolate die niet sluit \u202e",
    "\u202b\u202e\u202d diep genest",
    "eerste regel\n\u202etweede regel",
    "\u202e",
]


def open_at_end(line: str) -> list[str]:
    """The explicit bidi formatting still open at the end of a line (UAX #9, X1-X8: a PDF
    closes the last embedding inside the current isolate, a PDI closes the last isolate and
    every embedding opened inside it; a line break ends everything)."""
    stack: list[str] = []
    for character in line:
        if character in EMBEDDINGS:
            stack.append("E")
        elif character == POP_EMBEDDING:
            if stack and stack[-1] == "E":
                stack.pop()
        elif character in ISOLATES:
            stack.append("I")
        elif character == POP_ISOLATE and "I" in stack:
            while stack.pop() != "I":
                pass
    return stack


def attribution_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "(" in line and "ingevuld" in line]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_an_answer_cannot_reorder_its_attribution(tmp_path: Path, hostile: str) -> None:
    flow = load_flows(write_rich_flow(tmp_path / "flows"))["rijk"]
    answers = rich_answers()
    answers["goede_dag"] = replace(answers["goede_dag"], value={"text": hostile})
    summary = build_summary(
        flow,
        answers,
        locale="nl",
        person_name="\u202eAnna",
        mode="together",
        now=datetime(2026, 3, 10, tzinfo=UTC),
    )
    for text in (render_text(summary, for_professional=True), render_text(summary)):
        lines = attribution_lines(text)
        assert lines
        for line in lines:
            before_note = line[: line.rindex(" (")]
            assert open_at_end(before_note) == [], repr(line)
        title = text.splitlines()[0]
        assert open_at_end(title) == [], repr(title)
        # The answer itself is still there, as written (between the isolate marks).
        for part in hostile.replace("\u2069", "").split("\n"):
            assert part.strip("\u2067") in text.replace("\u2069", "")
