"""The summary's renderers: HTML, PDF, FHIR and text show every answer, free text exactly as
written, HTML in answers as text, who answered and when, and a first screen for the GP."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from markupsafe import escape
from pypdf import PdfReader

from bot.content.loader import load_flows
from bot.content.model import Flow
from bot.summary.fhir import questionnaire, questionnaire_response
from bot.summary.first_screen import PEOPLE, TREATMENTS, WISHES, build_first_screen
from bot.summary.html import TEMPLATES, render_summary_html
from bot.summary.model import Summary, build_summary
from bot.summary.pdf import render_pdf
from bot.summary.text import render_text
from tests.conftest import DEMO_FLOWS
from tests.summary_support import (
    GOOD_DAY,
    HOSTILE,
    QUESTIONS,
    WHEN_CPR,
    WHERE_PAPER,
    Record,
    install_english,
    rich_answers,
    write_rich_flow,
)

NOW = datetime(2026, 3, 10, 14, 5, tzinfo=UTC)
BASE = "https://tijdig.example"


@pytest.fixture
def rich_flow(tmp_path: Path) -> Flow:
    return load_flows(write_rich_flow(tmp_path / "flows"))["rijk"]


def summarize(flow: Flow, locale: str = "nl", name: str | None = "Anna Jansen") -> Summary:
    return build_summary(
        flow, rich_answers(), locale=locale, person_name=name, mode="alone", now=NOW
    )


def visible_answers(summary: Summary) -> list[str]:
    return [item.answer for item in summary.items]


# -- HTML -----------------------------------------------------------------------------------------


def test_html_contains_every_answer_with_free_text_verbatim_and_escaped(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    html = render_summary_html(summary)
    assert len(summary.items) == len(rich_answers())
    for answer in visible_answers(summary):
        assert str(escape(answer)) in html, answer
    # HTML typed into an answer is shown as text, never as markup.
    assert "<script>" not in html and "<b>Els</b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert str(escape(GOOD_DAY)) in html  # line break kept (shown by CSS pre-line)
    for text in (WHEN_CPR, WHERE_PAPER, QUESTIONS):
        assert text in html


def test_html_first_screen_for_the_professional(rich_flow: Flow) -> None:
    html = render_summary_html(summarize(rich_flow))
    first = html.index("Voor de zorgverlener")
    assert first < html.index("Alle onderwerpen")
    screen = html[first : html.index("Alle onderwerpen")]
    # Representative and contact person, with who filled it in.
    assert "Marieke de Vries · Dochter · 06 1234 5678" in screen
    assert "Karel · Zoon" in screen
    # The treatments table: a header per treatment, the wish, the explanation.
    rows = re.findall(r'<th scope="row">([^<]+)</th>', screen)
    assert rows == [
        "Reanimatie",
        "Beademing",
        "Opname op de intensive care",
        "Opname in het ziekenhuis",
        "Antibiotica",
        "Bloedtransfusie",
    ]
    assert '<th scope="col">Behandeling</th>' in screen
    cpr = screen[screen.index(">Reanimatie<") : screen.index(">Beademing<")]
    assert "Dat hangt ervan af" in cpr and WHEN_CPR in cpr and "PZP-formulier 4a" in cpr
    ventilation = screen[screen.index(">Beademing<") : screen.index(">Opname op de intensive")]
    assert "niet ingevuld" in ventilation
    # Place of care (no PZP item) and of death, euthanasia (skipped), donor, directives.
    for expected in (
        "Voorkeursplek van zorg:",
        "Thuis",
        "In een hospice",
        "overgeslagen",
        "Donorregistratie",
        WHERE_PAPER,
        "Vragen voor de huisarts of verpleegkundige",
        QUESTIONS,
        "Wat het belangrijkst is",
    ):
        assert str(escape(expected)) in screen, expected
    assert "Dit zijn de wensen van de persoon, om met u te bespreken." in html


def test_html_says_who_answered_and_when(rich_flow: Flow) -> None:
    html = render_summary_html(summarize(rich_flow))
    assert "samen ingevuld · 2 maart 2026" in html
    assert "ingevuld door een naaste · 5 maart 2026" in html
    assert "ingevuld door de persoon zelf · 2 maart 2026" in html


def test_html_footer_title_and_headings(rich_flow: Flow) -> None:
    html = render_summary_html(summarize(rich_flow))
    footer = html[html.index('<footer class="site-footer">') :]
    assert "10 maart 2026" in footer and "versie 3" in footer
    assert "geen medische afspraken" in footer
    # No personal data in the title or in meta tags.
    head = html[: html.index("</head>")]
    assert "<title>Tijdig – samenvatting</title>" in head
    assert "Anna" not in head and "Marieke" not in head
    # Headings in order: one h1, then h2, h3 below them.
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))
    assert "Anna Jansen" in html  # the professional must know whose wishes these are
    assert 'style="' not in html and "<script" not in html  # CSP: nothing inline


def test_first_screen_is_data_driven_and_tolerates_a_flow_without_pzp_items() -> None:
    demo = load_flows(DEMO_FLOWS)["demo"]
    answers = {"goede_dag": Record("goede_dag", {"text": "Tuinieren"})}
    summary = build_summary(demo, answers, locale="nl", person_name=None, mode=None, now=NOW)
    screen = build_first_screen(summary)
    assert [row.key for row in screen.people] == [row.key for row in PEOPLE]
    assert [row.key for row in screen.treatments] == [row.key for row in TREATMENTS]
    assert [row.key for row in screen.wishes] == [row.key for row in WISHES]
    matters = next(row for row in screen.wishes if row.key == "matters")
    assert [item.answer for item in matters.items] == ["Tuinieren"]  # demo maps it to 1196
    assert not any(row.filled for row in screen.treatments)
    html = render_summary_html(summary)
    assert html.count("niet ingevuld") >= 10
    assert "<h1>Wensen voor later</h1>" in html


def test_language_switch_translates_choices_but_not_free_text(
    rich_flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    option = rich_flow.question("reanimatie").option("hangt_af")  # type: ignore[union-attr]
    assert option is not None
    install_english(monkeypatch, {(option.label.context, option.label.source): "That depends"})
    dutch = summarize(rich_flow, "nl")
    english = summarize(rich_flow, "en")
    assert dutch.by_question["reanimatie"].answer == "Dat hangt ervan af"
    assert english.by_question["reanimatie"].answer == "That depends"
    assert english.by_question["goede_dag"].answer == GOOD_DAY
    html = render_summary_html(english)
    assert '<html lang="en">' in html
    assert "For the care professional" in html and "Resuscitation" in html
    assert "That depends" in html and str(escape(GOOD_DAY)) in html
    assert "That depends" in render_text(english)


# -- PDF ------------------------------------------------------------------------------------------


def test_pdf_is_a4_with_page_numbers_and_every_answer(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    pdf = render_pdf(summary)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2  # the first screen has a page of its own
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for answer in visible_answers(summary):
        for line in answer.splitlines():
            assert " ".join(line.split()) in flat, line
    assert f"1 / {len(reader.pages)}" in flat
    assert "Voor de zorgverlener" in flat
    title = (reader.metadata or {}).get("/Title", "")
    assert "Anna" not in str(title)


# -- FHIR -----------------------------------------------------------------------------------------


def test_fhir_questionnaire_validates_and_carries_pzp_link_ids(rich_flow: Flow) -> None:
    resource = questionnaire(rich_flow, locale="nl", base_url=BASE)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.url == f"{BASE}/fhir/Questionnaire/tijdig"
    items = {item["linkId"]: item for group in resource["item"] for item in group["item"]}
    assert items["reanimatie"]["code"] == [
        {"system": "https://fhir.iknl.nl/fhir/Questionnaire/ACP-zib2020", "code": "1386"}
    ]
    assert "code" not in items["zorgplek"]  # not on the national form
    assert items["gesprek_onderwerpen"]["repeats"] is True
    assert items["levenskwaliteit"]["type"] == "integer"
    assert items["vertegenwoordiger"]["type"] == "group"
    codes = [option["valueCoding"]["code"] for option in items["reanimatie"]["answerOption"]]
    assert codes == ["wel", "hangt_af", "niet"]


def test_fhir_response_validates_and_contains_every_answer(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    resource = questionnaire_response(summary, rich_flow, base_url=BASE, response_id="tijdig-1")
    QuestionnaireResponse.model_validate(resource)
    assert resource["status"] == "completed"
    assert resource["questionnaire"] == f"{BASE}/fhir/Questionnaire/tijdig|3"
    assert resource["authored"].startswith("2026-03-05")
    items = {item["linkId"]: item for group in resource["item"] for item in group["item"]}
    assert "euthanasie" not in items  # skipped
    assert items["goede_dag"]["answer"] == [{"valueString": GOOD_DAY}]
    assert items["eigen_vragen"]["answer"] == [{"valueString": HOSTILE + " " + QUESTIONS}]
    assert items["levenskwaliteit"]["answer"] == [{"valueInteger": 4}]
    topics = [a["valueCoding"]["code"] for a in items["gesprek_onderwerpen"]["answer"]]
    assert topics == ["medicijnen", "geheugen"]
    assert items["reanimatie"]["answer"][0]["valueCoding"]["display"] == "Dat hangt ervan af"
    person = {part["linkId"]: part["answer"][0] for part in items["vertegenwoordiger"]["item"]}
    assert person["vertegenwoordiger.name"] == {"valueString": "Marieke de Vries"}
    assert person["vertegenwoordiger.relation"]["valueCoding"]["code"] == "dochter"
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in items["reanimatie"]["extension"]}
    assert extensions["pzp-link"]["valueCoding"]["code"] == "1386"
    assert extensions["answered-by"]["valueCode"] == "self"
    assert {e["url"].rsplit("/", 1)[1] for e in items["vertegenwoordiger"]["extension"]} >= {
        "answered-by",
        "answered-at",
    }


def test_fhir_response_in_progress_and_empty(rich_flow: Flow) -> None:
    summary = build_summary(rich_flow, {}, locale="nl", person_name=None, mode=None, now=NOW)
    resource = questionnaire_response(summary, rich_flow, base_url=BASE, response_id="x")
    QuestionnaireResponse.model_validate(resource)
    assert resource["status"] == "in-progress"
    assert "item" not in resource and "subject" not in resource


# -- text -----------------------------------------------------------------------------------------


def test_text_for_the_chat_and_for_the_professional(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    chat = render_text(summary)
    professional = render_text(summary, for_professional=True)
    for answer in visible_answers(summary):
        for line in answer.splitlines():
            assert line in chat and line in professional
    assert "/delen" in chat and "/delen" not in professional
    assert "ingevuld door de persoon zelf, 2 maart 2026" in professional
    assert "samen ingevuld" in chat


def test_every_template_text_is_marked_for_translation() -> None:
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, *_rest in extract_from_dir(
            TEMPLATES.parent, method_map=[("templates/**.html", "jinja2")]
        )
    }
    for text in ("Voor de zorgverlener", "Wensen over behandelingen", "Toegangscode"):
        assert text in found
    # No visible Dutch left outside gettext in the templates: text between tags is
    # either a Jinja expression or empty.
    for template in TEMPLATES.glob("*.html"):
        source = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.S)
        for text in re.findall(r">([^<>{}]+)<", source):
            assert not text.strip() or text.strip() in {"Tijdig", ":"}, (template.name, text)


# -- "Om te bespreken" and "a wish is not a right" ----------------------------------------------

DISCUSS_RULES = """\
discuss:
  - id: donor_buiten
    when:
      - {question: donor, is: ja}
      - {question: sterfplek, in: [thuis, hospice]}
    text: Donor, maar wil buiten het ziekenhuis overlijden.
  - id: reanimatie_zonder_zkh
    when:
      - {question: reanimatie, is: wel}
      - {question: ziekenhuis, is: niet}
    text: Wel reanimatie, maar niet naar het ziekenhuis.
  - id: overgeslagen
    when:
      - {question: euthanasie, not: geen}
    text: Een overgeslagen vraag telt niet mee.
"""
HOLDS = "Donor, maar wil buiten het ziekenhuis overlijden."


@pytest.fixture
def discuss_flow(tmp_path: Path) -> Flow:
    directory = write_rich_flow(tmp_path / "flows")
    path = directory / "rijk.yaml"
    path.write_text(path.read_text(encoding="utf-8") + DISCUSS_RULES, encoding="utf-8")
    return load_flows(directory)["rijk"]


def test_the_first_screen_lists_what_to_discuss(discuss_flow: Flow) -> None:
    summary = summarize(discuss_flow)
    assert summary.to_discuss == (HOLDS,)
    html = render_summary_html(summary)
    screen = html[html.index("Voor de zorgverlener") : html.index("Alle onderwerpen")]
    assert "Om te bespreken" in screen and HOLDS in screen
    assert screen.index("Om te bespreken") < screen.index("Vertegenwoordiger")
    assert "niet naar het ziekenhuis" not in html and "overgeslagen vraag" not in html
    professional = render_text(summary, for_professional=True)
    assert "Om te bespreken" in professional and HOLDS in professional
    assert professional.index(HOLDS) < professional.index("Een goede dag")
    assert HOLDS not in render_text(summary), "not an error for the person: only for the GP"
    flat = " ".join(
        " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(summary))).pages
        ).split()
    )
    assert "Om te bespreken" in flat and HOLDS in flat


def test_nothing_to_discuss_shows_no_heading(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    assert summary.to_discuss == ()
    assert "Om te bespreken" not in render_summary_html(summary)
    assert "Om te bespreken" not in render_text(summary, for_professional=True)


def test_the_footer_says_a_wish_is_not_a_right(rich_flow: Flow) -> None:
    summary = summarize(rich_flow)
    html = render_summary_html(summary)
    footer = html[html.index('<footer class="site-footer">') :]
    professional = render_text(summary, for_professional=True)
    for text in (footer, professional):
        assert "Een wens is geen recht." in text
        assert "weigering van een behandeling moet de arts volgen" in " ".join(text.split())
        assert "de arts beslist of die medisch zinvol is" in " ".join(text.split())


def test_every_question_a_first_screen_row_names_is_in_the_shipped_flow() -> None:
    """Rows name Tijdig question ids where the PZP form has no item; a renamed or removed
    question would silently drop off the GP's first screen."""
    shipped = load_flows(Path(__file__).resolve().parent.parent / "flows")["tijdig"]
    named = [qid for row in PEOPLE + TREATMENTS + WISHES for qid in row.question_ids]
    assert named and [qid for qid in named if shipped.question(qid) is None] == []
    answers = {
        "dementie": Record("dementie", {"option": "klachten"}),
        "huisarts_familie": Record("huisarts_familie", {"option": "alleen_vert"}),
        "papieren_waar": Record("papieren_waar", {"text": WHERE_PAPER}),
    }
    summary = build_summary(shipped, answers, locale="nl", person_name=None, mode=None, now=NOW)
    screen = build_first_screen(summary)
    shown = {item.question_id for row in screen.people + screen.wishes for item in row.items}
    assert shown == set(answers)
