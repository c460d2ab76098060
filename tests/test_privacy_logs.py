"""No personal data and no token in any log line, from our code or a library (issue 12,
point 3): a PDF of a name and answers in scripts and emoji, and characters no font has.

Why: WeasyPrint warns once per character it has no glyph for, quoting the character; a
name nobody's font covers used to appear in the log, in order.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.content.loader import load_flows
from bot.summary.model import build_summary
from bot.summary.pdf import render_pdf
from tests.summary_support import rich_answers, write_rich_flow

NAME = "王小明 Фатима مريم 👵🏽"
ANSWER = (
    "家族と一緒に 🌷 في بيتي مع عائلتي 한국어 \ue000\U000f0001"  # the last two: no font has them
)
NO_FONT = "\ue000\U000f0001"


def fonts_of(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_a_pdf_in_cjk_arabic_and_emoji_leaves_no_trace_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = load_flows(write_rich_flow(tmp_path / "flows"))["rijk"]
    answers = rich_answers()
    answers["goede_dag"] = replace(answers["goede_dag"], value={"text": ANSWER})
    summary = build_summary(
        flow,
        answers,
        locale="nl",
        person_name=NAME,
        mode="alone",
        now=datetime(2026, 3, 10, tzinfo=UTC),
    )
    with caplog.at_level(logging.DEBUG):
        pdf = render_pdf(summary)

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for character in NAME + ANSWER:
        if not character.isspace() and not character.isascii():
            assert character not in logged, f"{character!r} (U+{ord(character):04X}) was logged"
    assert "glyph" not in logged

    # And they are drawn with real fonts, not as empty boxes.
    used = " ".join(fonts_of(pdf))
    for family in ("NotoSansCJK", "NotoSansArabic", "NotoColorEmoji"):
        assert family in used.replace("-", ""), f"{family} not used; fonts: {used}"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "王小明" in text and "家族と一緒に" in text
