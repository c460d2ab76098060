"""The flow's links to the national PZP form (Questionnaire ACP-zib2020, in tests/data/pzp/).

Why: a GP reads the summary next to the PZP form. Every `pzp:` on a question must name an
item that exists on that form, and every `pzp:` on an option must be an answer that item
allows; otherwise the summary points the professional to the wrong place. The mapping must
also cover what the form is about: the six treatment decisions, place of death, euthanasia,
the donor register, the representative and first contact person, and what else matters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.content.loader import load_flows
from bot.content.model import (
    Flow,
    Option,
    PzpCode,
    PzpLink,
    Question,
    QuestionType,
    Text,
    Topic,
)

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = Path(__file__).resolve().parent / "data" / "pzp" / "Questionnaire-ACP-zib2020.json"

# Which kind of form item a question may point at. A text answer fits a string item (or an
# open-choice, which accepts free text); a button answer fits a choice item.
COMPATIBLE_ITEM_TYPES = {
    QuestionType.TEXT: {"string", "text", "open-choice"},
    QuestionType.CHOICE: {"choice", "open-choice"},
    QuestionType.YESNO: {"choice", "open-choice"},
    QuestionType.PERSON: {"choice", "open-choice"},  # the relation is the coded part
    QuestionType.MULTI: {"choice", "open-choice"},  # and the item must repeat
    QuestionType.SCALE: {"integer", "decimal"},
}

# Options of a mapped question that honestly have no answer on the form. Each needs a reason.
UNCODED_OPTIONS = {
    ("vertegenwoordiging", "nee"): "982 lists kinds of representative, not 'none yet'",
    ("vertegenwoordiging", "weet_niet"): "982 has no 'unknown'",
    ("zelfde_contactpersoon", "weet_niet"): "984 is only Ja or Nee",
    ("wensen_delen", "nee"): "1201 only has Akkoord and Nog onbekend",
}

# The treatments (PZP part 4): the BehandelBesluit item and the group it lies in.
TREATMENT_DECISIONS = {
    "1386": "1409",  # reanimatie
    "1387": "1411",  # kunstmatige invasieve beademing
    "1390": "1413",  # opname op intensive care
    "1393": "1415",  # opname in ziekenhuis
    "1396": "1417",  # antibiotica
    "1399": "1419",  # bloedproduct
}
# Our five answers to a treatment question, and the BehandelBesluit code each must carry.
TREATMENT_CODES = {"wel": "0", "hangt_af": "1", "niet": "2", "weet_niet": "UNK", "huisarts": "UNK"}

# Other items the mapping must cover: linkId -> the group it lies in on the form.
REQUIRED_ITEMS = {
    "1191": "1429",  # gewenste plek van overlijden
    "1193": "1431",  # euthanasie standpunt
    "1435": "1433",  # keuze orgaandonatie in donorregister
    "1196": "598",  # wat verder nog belangrijk is
}
REPRESENTATIVE_GROUP = "29"
FIRST_CONTACT_ITEMS = {"53", "985", "986", "987", "61", "995"}


@dataclass(frozen=True)
class FormItem:
    link_id: str
    type: str
    text: str
    codes: frozenset[str]
    repeats: bool
    ancestors: tuple[str, ...]  # linkIds of the groups/items it is nested in, outermost first
    enable_when: tuple[tuple[str, str], ...]  # (question linkId, answer code)


def read_form(path: Path = QUESTIONNAIRE) -> dict[str, FormItem]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["resourceType"] == "Questionnaire"
    items: dict[str, FormItem] = {}

    def walk(nodes: list[dict], ancestors: tuple[str, ...]) -> None:
        for node in nodes:
            link_id = node["linkId"]
            codes = frozenset(
                option["valueCoding"]["code"]
                for option in node.get("answerOption", [])
                if "valueCoding" in option
            )
            conditions = tuple(
                (rule["question"], rule.get("answerCoding", {}).get("code", ""))
                for rule in node.get("enableWhen", [])
            )
            assert link_id not in items, f"linkId {link_id} appears twice in the form"
            items[link_id] = FormItem(
                link_id=link_id,
                type=node["type"],
                text=node.get("text", ""),
                codes=codes,
                repeats=bool(node.get("repeats", False)),
                ancestors=ancestors,
                enable_when=conditions,
            )
            walk(node.get("item", []), (*ancestors, link_id))

    walk(data["item"], ())
    return items


def mapping_problems(flow: Flow, form: dict[str, FormItem]) -> list[str]:
    """Every way in which the flow's `pzp:` links do not fit the form."""
    problems: list[str] = []
    coded_choice_items: dict[str, str] = {}
    for question in flow.questions:
        where = f"question '{question.id}'"
        coded = [option for option in question.options if option.pzp is not None]
        if question.pzp is None:
            if coded:
                problems.append(f"{where} has option codes but no pzp linkId")
            continue
        item = form.get(question.pzp.link_id)
        if item is None:
            problems.append(f"{where}: linkId {question.pzp.link_id} is not on the PZP form")
            continue
        if item.type not in COMPATIBLE_ITEM_TYPES.get(question.type, set()):
            problems.append(
                f"{where} ({question.type.value}) points at item {item.link_id} of type {item.type}"
            )
        if question.type is QuestionType.MULTI and not item.repeats:
            problems.append(f"{where} has several answers but item {item.link_id} has one")
        if item.type == "choice" and coded:
            other = coded_choice_items.setdefault(item.link_id, question.id)
            if other != question.id and not item.repeats:
                problems.append(f"{where} and '{other}' both give the answer of {item.link_id}")
        for option in coded:
            assert option.pzp is not None
            if option.pzp.code not in item.codes:
                problems.append(
                    f"{where}: option '{option.id}' has code {option.pzp.code}, which item "
                    f"{item.link_id} does not allow (allowed: {', '.join(sorted(item.codes))})"
                )
        if item.codes and question.type is not QuestionType.TEXT:
            for option in question.options:
                if option.pzp is None and (question.id, option.id) not in UNCODED_OPTIONS:
                    problems.append(
                        f"{where}: option '{option.id}' has no code for item {item.link_id}"
                    )
    return problems


@cache
def shipped_flow() -> Flow:
    return load_flows(ROOT / "flows")["tijdig"]


@pytest.fixture(scope="module")
def flow() -> Flow:
    return shipped_flow()


@pytest.fixture(scope="module")
def form() -> dict[str, FormItem]:
    return read_form()


def by_link(flow: Flow) -> dict[str, list[Question]]:
    result: dict[str, list[Question]] = {}
    for question in flow.questions:
        if question.pzp:
            result.setdefault(question.pzp.link_id, []).append(question)
    return result


# -- the reference data itself ---------------------------------------------------------------


def test_the_test_copy_of_the_form_is_the_published_version(form: dict[str, FormItem]) -> None:
    data = json.loads(QUESTIONNAIRE.read_text(encoding="utf-8"))
    assert data["version"] == "0.1.3-beta3"
    assert "IKNL" in data["copyright"]
    assert form["1386"].codes == {"0", "1", "2", "UNK"}
    readme = (QUESTIONNAIRE.parent / "README.md").read_text(encoding="utf-8")
    assert "IKNL/PZP-FHIR-R4" in readme and "copyright" in readme.lower()


# -- the mapping fits the form ---------------------------------------------------------------


def test_every_mapped_link_and_code_exists_on_the_form(
    flow: Flow, form: dict[str, FormItem]
) -> None:
    assert mapping_problems(flow, form) == []


def test_uncoded_options_allow_list_is_current(flow: Flow) -> None:
    for question_id, option_id in UNCODED_OPTIONS:
        question = flow.question(question_id)
        assert question is not None and question.pzp is not None, question_id
        option = question.option(option_id)
        assert option is not None and option.pzp is None, (question_id, option_id)


def test_the_mapping_covers_the_six_treatments(flow: Flow, form: dict[str, FormItem]) -> None:
    links = by_link(flow)
    for decision, group in TREATMENT_DECISIONS.items():
        assert group in form[decision].ancestors, f"{decision} should lie in group {group}"
        assert decision in links, f"no question maps to treatment decision {decision}"
        (question,) = links[decision]
        codes = {o.id: o.pzp.code if o.pzp else None for o in question.options}
        assert codes == TREATMENT_CODES, question.id
        # "Dat hangt ervan af" asks when; that answer goes to the item the form shows
        # when the decision is "Anders" (code 1): SpecificatieAnders.
        (specification,) = (item for item in form.values() if (decision, "1") in item.enable_when)
        follow_ups = [
            q
            for q in flow.questions
            if any(c.question == question.id and c.any_of == ("hangt_af",) for c in q.ask_if)
        ]
        assert [q.pzp.link_id if q.pzp else None for q in follow_ups] == [specification.link_id], (
            question.id
        )
        assert follow_ups[0].type is QuestionType.TEXT


def test_the_mapping_covers_place_of_death_euthanasia_donor_and_what_matters(
    flow: Flow, form: dict[str, FormItem]
) -> None:
    links = by_link(flow)
    for link_id, group in REQUIRED_ITEMS.items():
        assert group in form[link_id].ancestors, f"{link_id} should lie in group {group}"
        assert link_id in links, f"no question maps to item {link_id}"
    for link_id in ("1191", "1193", "1435"):
        (question,) = links[link_id]
        mapped = {o.pzp.code for o in question.options if o.pzp}
        assert mapped == form[link_id].codes, f"{question.id} should offer every answer"


def test_the_mapping_covers_representative_and_first_contact(
    flow: Flow, form: dict[str, FormItem]
) -> None:
    people = [q for q in flow.questions if q.type is QuestionType.PERSON and q.pzp]
    representative = [
        q
        for q in people
        if REPRESENTATIVE_GROUP in form[q.pzp.link_id].ancestors
        and q.pzp.link_id not in FIRST_CONTACT_ITEMS
        and not FIRST_CONTACT_ITEMS & set(form[q.pzp.link_id].ancestors)
    ]
    contact = [q for q in people if q.pzp.link_id in FIRST_CONTACT_ITEMS]
    assert [q.id for q in representative] == ["vertegenwoordiger"]
    assert [q.id for q in contact] == ["contactpersoon"]
    for question in representative + contact:
        assert {o.pzp.code for o in question.options if o.pzp} <= form[question.pzp.link_id].codes
        assert "OTH" in {o.pzp.code for o in question.options if o.pzp}, question.id


# -- the checker can fail --------------------------------------------------------------------


def tiny_flow(*questions: Question) -> Flow:
    topic = Topic(
        id="t", title=Text("t", "T"), intro=Text("i", "I"), minutes=3, questions=questions
    )
    return Flow(id="f", version=1, title=Text("f", "F"), topics=(topic,))


def choice(question_id: str, link: str | None, *codes: str | None) -> Question:
    options = tuple(
        Option(
            id=f"o{n}",
            label=Text(f"o{n}", f"O{n}"),
            pzp=PzpCode(code, "") if code is not None else None,
        )
        for n, code in enumerate(codes)
    )
    return Question(
        id=question_id,
        topic="t",
        type=QuestionType.CHOICE,
        text=Text(question_id, "?"),
        options=options,
        pzp=PzpLink(link) if link else None,
    )


def test_the_checker_flags_an_unknown_link_id(form: dict[str, FormItem]) -> None:
    problems = mapping_problems(tiny_flow(choice("q", "99999", "0", "2")), form)
    assert len(problems) == 1 and "99999 is not on the PZP form" in problems[0]


def test_the_checker_flags_a_code_the_item_does_not_allow(form: dict[str, FormItem]) -> None:
    problems = mapping_problems(tiny_flow(choice("q", "1386", "0", "3")), form)
    assert len(problems) == 1 and "code 3" in problems[0]


def test_the_checker_flags_codes_without_a_link_and_options_without_a_code(
    form: dict[str, FormItem],
) -> None:
    problems = mapping_problems(
        tiny_flow(choice("a", None, "0"), choice("b", "1386", "0", None)), form
    )
    assert any("'a' has option codes but no pzp linkId" in p for p in problems)
    assert any("option 'o1' has no code for item 1386" in p for p in problems)


def test_the_checker_flags_a_text_question_on_a_choice_item(form: dict[str, FormItem]) -> None:
    question = Question(
        id="q", topic="t", type=QuestionType.TEXT, text=Text("q", "?"), pzp=PzpLink("1386")
    )
    problems = mapping_problems(tiny_flow(question), form)
    assert problems and "of type choice" in problems[0]
