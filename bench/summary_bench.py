"""How long does a professional wait for the summary? Times each renderer on the full flow.

Run: python bench/summary_bench.py [--rounds 20]
Prints numbers only. Targets we watch: the HTML page well under 50 ms to build; the PDF
under 2 s (WeasyPrint is the slow part); FHIR and text in a few ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content.loader import load_flows  # noqa: E402
from bot.content.model import QuestionType  # noqa: E402
from bot.summary import fhir  # noqa: E402
from bot.summary.html import render_summary_html  # noqa: E402
from bot.summary.model import build_summary  # noqa: E402
from bot.summary.pdf import render_pdf  # noqa: E402
from bot.summary.text import render_text  # noqa: E402


def full_answers(flow) -> dict:  # type: ignore[no-untyped-def]
    """An answer to every question of the flow, as a person who filled in everything."""
    now = datetime.now(UTC)
    answers = {}
    for question in flow.questions:
        if question.type is QuestionType.INFO:
            continue
        if question.type is QuestionType.TEXT:
            value: dict = {"text": "Een antwoord in eigen woorden, met wat uitleg erbij. " * 3}
        elif question.type is QuestionType.SCALE:
            value = {"value": 3}
        elif question.type is QuestionType.MULTI:
            value = {"options": [o.id for o in question.options[:2]]}
        elif question.type is QuestionType.PERSON:
            value = {
                "name": "Marieke de Vries",
                "relation": question.options[0].id,
                "phone": "06 1234 5678",
            }
        else:
            value = {"option": question.options[0].id}
        answers[question.id] = SimpleNamespace(
            question_id=question.id,
            value=value,
            skipped=False,
            together=False,
            role="self",
            created_at=now,
        )
    return answers


def timed(label: str, rounds: int, work) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    median, worst = statistics.median(times) * 1000, max(times) * 1000
    print(f"{label:<28} median {median:8.1f} ms   max {worst:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    flow = load_flows(ROOT / "flows")["tijdig"]
    answers = full_answers(flow)
    now = datetime.now(UTC)

    def summary(locale: str = "nl"):  # type: ignore[no-untyped-def]
        return build_summary(
            flow, answers, locale=locale, person_name="Anna", mode="alone", now=now
        )

    print(f"flow: {len(answers)} answered questions")
    timed("view model (nl)", args.rounds, summary)
    timed("view model (en)", args.rounds, lambda: summary("en"))
    timed("plain text", args.rounds, lambda: render_text(summary()))
    timed("HTML page", args.rounds, lambda: render_summary_html(summary()))
    timed(
        "FHIR QuestionnaireResponse",
        args.rounds,
        lambda: fhir.questionnaire_response(
            summary(), flow, base_url="http://127.0.0.1:8080", response_id="bench"
        ),
    )
    timed("PDF (WeasyPrint)", max(3, args.rounds // 5), lambda: render_pdf(summary()))
    pdf = render_pdf(summary())
    print(f"PDF size: {len(pdf) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
