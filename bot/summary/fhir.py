"""The summary as FHIR R4 JSON: Tijdig's own Questionnaire, generated from the flow, and a
QuestionnaireResponse with the person's latest answers.

- Questionnaire: one group per topic; item linkId = the flow's question id. An item that
  corresponds to the national PZP form carries that form's linkId in `item.code`
  (system = the PZP Questionnaire's canonical URL); answer options are codings of
  Tijdig's own code system per question, with the PZP answer code in an extension.
- QuestionnaireResponse: the same groups with the answered items. Each answered item says
  who answered and when (extensions), when it was last confirmed in a review and what it
  was before (extensions), and carries the PZP linkId along. Skipped questions
  are left out; free text is given exactly as written. Relatives' own views are item
  extensions; on a question the person has not answered, response extensions that name
  the question (`linkId`).

Both validate as R4 (see tests: fhir.resources' R4B models; Questionnaire and
QuestionnaireResponse did not change between R4 and R4B).
"""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.content.model import Flow, Question, QuestionType
from bot.summary.model import UNANSWERED, Summary, SummaryItem, as_utc
from bot.summary.pzp import PZP_QUESTIONNAIRE, on_form

QUESTIONNAIRE_ID = "tijdig"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def questionnaire_url(base_url: str) -> str:
    return f"{base_url}/fhir/Questionnaire/{QUESTIONNAIRE_ID}"


def option_system(base_url: str, question_id: str) -> str:
    return f"{base_url}/fhir/CodeSystem/{QUESTIONNAIRE_ID}-{question_id}"


def extension_url(base_url: str, name: str) -> str:
    return f"{base_url}/fhir/StructureDefinition/{name}"


def _pzp_code(question: Question) -> list[dict[str, Any]]:
    if question.pzp is None or not on_form(question.pzp.link_id):
        return []
    return [{"system": PZP_QUESTIONNAIRE, "code": question.pzp.link_id}]


def questionnaire(flow: Flow, *, locale: str, base_url: str) -> dict[str, Any]:
    """Tijdig's Questionnaire, served at /fhir/Questionnaire/tijdig."""
    tr = i18n.translator(locale)

    def t(text: Any) -> str:
        return tr.pgettext(text.context, text.source)

    def option(question: Question, option: Any) -> dict[str, Any]:
        result: dict[str, Any] = {
            "valueCoding": {
                "system": option_system(base_url, question.id),
                "code": option.id,
                "display": t(option.label),
            }
        }
        if option.pzp is not None:
            coding = {"code": option.pzp.code}
            if option.pzp.system:
                coding["system"] = option.pzp.system
            result["extension"] = [
                {"url": extension_url(base_url, "pzp-answer"), "valueCoding": coding}
            ]
        return result

    def item(question: Question) -> dict[str, Any]:
        entry: dict[str, Any] = {"linkId": question.id, "text": t(question.text)}
        if code := _pzp_code(question):
            entry["code"] = code
        kind = question.type
        if kind is QuestionType.INFO:
            entry["type"] = "display"
        elif kind is QuestionType.TEXT:
            entry["type"] = "text"
        elif kind is QuestionType.SCALE:
            entry["type"] = "integer"
            entry["extension"] = [
                {"url": MIN_VALUE, "valueInteger": 1},
                {"url": MAX_VALUE, "valueInteger": 5},
            ]
            if question.low and question.high:
                entry["text"] += " " + tr.gettext("(1 = {low}, 5 = {high})").format(
                    low=t(question.low), high=t(question.high)
                )
        elif kind is QuestionType.PERSON:
            entry["type"] = "group"
            entry["item"] = [
                {"linkId": f"{question.id}.name", "text": tr.gettext("Naam"), "type": "string"},
                {
                    "linkId": f"{question.id}.relation",
                    "text": tr.gettext("Relatie"),
                    "type": "open-choice",
                    "answerOption": [option(question, o) for o in question.options],
                },
                {
                    "linkId": f"{question.id}.phone",
                    "text": tr.gettext("Telefoonnummer"),
                    "type": "string",
                },
            ]
        else:
            entry["type"] = "choice"
            entry["answerOption"] = [option(question, o) for o in question.options]
            if kind is QuestionType.MULTI:
                entry["repeats"] = True
        return entry

    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "language": locale,
        "url": questionnaire_url(base_url),
        "version": str(flow.version),
        "name": "Tijdig",
        "title": t(flow.title),
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Tijdig",
        "description": tr.gettext(
            "Vragen van Tijdig om eerder na te denken over ouder worden. De antwoorden zijn "
            "wensen om te bespreken, geen medische afspraken. Vragen die passen bij het "
            "formulier Uniform vastleggen proactieve zorgplanning dragen de linkId daarvan."
        ),
        "item": [
            {
                "linkId": topic.id,
                "text": t(topic.title),
                "type": "group",
                "item": [item(q) for q in topic.questions],
            }
            for topic in flow.topics
            if topic.questions
        ],
    }


def relative_view(
    base_url: str, view: Any, *, link_id: str | None = None, differs: bool | None = None
) -> dict[str, Any]:
    """The `relative-view` extension: who and what, and `differs` beside an answer, or the
    question's `linkId` where the person has not answered."""
    parts: list[dict[str, Any]] = []
    if link_id is not None:
        parts.append({"url": "linkId", "valueString": link_id})
    parts += [{"url": "who", "valueString": view.who}, {"url": "view", "valueString": view.answer}]
    if differs is not None:
        parts.append({"url": "differs", "valueBoolean": differs})
    return {"url": extension_url(base_url, "relative-view"), "extension": parts}


def questionnaire_response(
    summary: Summary, flow: Flow, *, base_url: str, response_id: str
) -> dict[str, Any]:
    """The person's latest answers as a QuestionnaireResponse to Tijdig's Questionnaire."""
    tr = i18n.translator(summary.locale)

    def coding(question: Question, option_id: str) -> dict[str, Any]:
        option = question.option(option_id)
        result = {"system": option_system(base_url, question.id), "code": option_id}
        if option is not None:
            result["display"] = tr.pgettext(option.label.context, option.label.source)
        return result

    def answers(question: Question, item: SummaryItem) -> list[dict[str, Any]]:
        if item.kind in ("text", "voice"):
            return [{"valueString": item.answer}]
        if item.kind == "scale":
            return [{"valueInteger": item.value}] if item.value is not None else []
        return [{"valueCoding": coding(question, option_id)} for option_id in item.option_ids]

    def entry(question: Question, item: SummaryItem) -> dict[str, Any] | None:
        extensions = [
            {"url": extension_url(base_url, "answered-by"), "valueCode": item.who},
            {
                "url": extension_url(base_url, "answered-at"),
                "valueDateTime": as_utc(item.answered_at).isoformat(),
            },
        ]
        if item.by:  # the relative who gave it, or who sat with the person
            extensions.append(
                {"url": extension_url(base_url, "answered-by-name"), "valueString": item.by}
            )
        for view in item.views:  # a relative's own view: beside the answer, never the answer
            extensions.append(relative_view(base_url, view, differs=view.differs))
        if item.changed:  # given after the previous visit to this link
            extensions.append(
                {"url": extension_url(base_url, "changed-since-opened"), "valueBoolean": True}
            )
        if item.confirmed_at:  # "Klopt nog" in a review: still the person's wish
            extensions.append(
                {
                    "url": extension_url(base_url, "confirmed-at"),
                    "valueDateTime": as_utc(item.confirmed_at).isoformat(),
                }
            )
        for earlier in item.earlier:  # what it was before, newest first, and until when
            extensions.append(
                {
                    "url": extension_url(base_url, "earlier-answer"),
                    "extension": [
                        {"url": "answer", "valueString": earlier.answer},
                        {"url": "until", "valueDateTime": as_utc(earlier.until).isoformat()},
                    ],
                }
            )
        if item.pzp_link and on_form(item.pzp_link):
            extensions.append(
                {
                    "url": extension_url(base_url, "pzp-link"),
                    "valueCoding": {"system": PZP_QUESTIONNAIRE, "code": item.pzp_link},
                }
            )
        result: dict[str, Any] = {
            "extension": extensions,
            "linkId": question.id,
            "text": item.label,
        }
        if item.kind == "person":
            person = item.person or {}
            parts = []
            if person.get("name"):
                parts.append(
                    {
                        "linkId": f"{question.id}.name",
                        "answer": [{"valueString": str(person["name"])}],
                    }
                )
            if item.option_ids:
                parts.append(
                    {
                        "linkId": f"{question.id}.relation",
                        "answer": [{"valueCoding": coding(question, item.option_ids[0])}],
                    }
                )
            elif person.get("relation"):
                parts.append(
                    {
                        "linkId": f"{question.id}.relation",
                        "answer": [{"valueString": str(person["relation"])}],
                    }
                )
            if person.get("phone"):
                parts.append(
                    {
                        "linkId": f"{question.id}.phone",
                        "answer": [{"valueString": str(person["phone"])}],
                    }
                )
            if not parts:
                return None
            result["item"] = parts
            return result
        values = answers(question, item)
        if not values:
            return None
        result["answer"] = values
        return result

    groups = []
    # Views on questions the person has not answered: an item needs an answer, so they are
    # extensions of the response, each naming its question.
    unanswered: list[dict[str, Any]] = []
    for section in summary.sections:
        entries = []
        for item in section.items:
            question = flow.question(item.question_id)
            if item.kind == UNANSWERED:
                unanswered.extend(
                    relative_view(base_url, view, link_id=item.question_id) for view in item.views
                )
                continue
            if question is None or item.kind == "skipped":
                continue
            made = entry(question, item)
            if made is not None:
                entries.append(made)
        if entries:
            groups.append({"linkId": section.topic_id, "text": section.title, "item": entries})

    authored = summary.last_answered_at or summary.generated_at
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "language": summary.locale,
        "questionnaire": f"{questionnaire_url(base_url)}|{flow.version}",
        "status": "completed" if summary.complete else "in-progress",
        "authored": as_utc(authored).isoformat(),
    }
    if summary.person_name:
        response["subject"] = {"display": summary.person_name}
        # The answers are the person's own; who else gave one is said per item
        # (answered-by-name), and relatives' own views are item extensions, never answers.
        response["source"] = {"display": summary.person_name}
    helpers = sorted({item.by for item in summary.items if item.by and item.who == "relative"})
    if helpers:
        response["author"] = {"display": ", ".join(helpers)}
    extensions = []
    if summary.changed_since:  # answers changed since this link's previous visit
        extensions.append(
            {
                "url": extension_url(base_url, "changed-since"),
                "valueDateTime": as_utc(summary.changed_since).isoformat(),
            }
        )
    extensions += unanswered
    if extensions:
        response["extension"] = extensions
    if groups:
        response["item"] = groups
    return response
