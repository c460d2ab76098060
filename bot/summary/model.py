"""The summary as a view model: what every renderer (text, HTML, PDF, FHIR) shows.

Built from the latest answers in the viewer's language: choice answers are translated,
free text stays exactly as the person wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot import i18n
from bot.content.model import Flow, Question, QuestionType
from bot.dates import as_utc
from bot.engine.answer_value import Kind, read
from bot.engine.progress import applies, flow_progress, might_apply
from bot.engine.relations import who
from bot.engine.state import AnswerView
from bot.i18n import Translator
from bot.summary.first_screen import on_first_screen


@dataclass(frozen=True)
class Earlier:
    """An answer this one replaced, and until when it held."""

    answer: str
    until: datetime


@dataclass(frozen=True)
class SummaryItem:
    question_id: str
    label: str  # the summary label for a professional (or the question)
    answer: str  # translated choice labels, the scale, or the free text verbatim
    # choice | multi | scale | text | voice | person | yesno | skipped, or UNANSWERED: the
    # person has not answered, and the item is there only for relatives' `views`.
    kind: str
    who: str  # self | relative | together; "none" when UNANSWERED
    answered_at: datetime
    free_text: bool = False
    option_ids: tuple[str, ...] = ()
    pzp_link: str | None = None
    person: Mapping[str, str | None] | None = None
    topic_id: str = ""
    value: int | None = None  # the number of a scale answer
    by: str | None = None  # who gave it or sat with the person: "Els (dochter)"
    views: tuple[SummaryView, ...] = ()  # relatives' own views, next to this answer
    # History (see summary/history.py): last "Klopt nog", earlier answers (newest first),
    # and whether it was neither given nor confirmed within REVIEW_AFTER.
    confirmed_at: datetime | None = None
    earlier: tuple[Earlier, ...] = ()
    stale: bool = False
    changed: bool = False  # given after the professional's previous visit to the link


UNANSWERED = "unanswered"


@dataclass(frozen=True)
class SummaryView:
    """A relative's own view on a question: never the answer, always shown beside it."""

    who: str  # "Els (dochter)"
    answer: str
    differs: bool  # not the same as the person's own answer


@dataclass(frozen=True)
class SummarySection:
    topic_id: str
    title: str
    items: tuple[SummaryItem, ...]


@dataclass(frozen=True)
class Summary:
    flow_id: str
    flow_version: int
    locale: str
    person_name: str | None
    mode: str | None
    generated_at: datetime
    sections: tuple[SummarySection, ...]
    by_question: dict[str, SummaryItem] = field(default_factory=dict)
    complete: bool = False  # every question that applies has an answer (or was skipped)
    flow_title: str = ""
    # "Om te bespreken": the flow's discuss rules that hold on these answers, translated.
    to_discuss: tuple[str, ...] = ()
    # When the professional last opened this link on an earlier visit, if answers changed
    # since then (see summary/history.py `mark_changed`).
    changed_since: datetime | None = None

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.kind not in ("skipped", UNANSWERED))

    @property
    def items(self) -> tuple[SummaryItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def last_answered_at(self) -> datetime | None:
        return max(
            (item.answered_at for item in self.items if item.kind != UNANSWERED), default=None
        )


class AnswerLike:
    """What the builder needs of a stored answer (see storage.repository.AnswerRecord)."""

    question_id: str
    value: dict[str, object]
    skipped: bool
    together: bool
    role: str
    created_at: datetime
    participant_id: int | None
    companion: Mapping[str, object] | None


def build_summary(
    flow: Flow,
    answers: Mapping[str, AnswerLike],
    *,
    locale: str,
    person_name: str | None,
    mode: str | None,
    now: datetime,
    givers: Mapping[int, str] | None = None,
    views: Mapping[str, Sequence[tuple[str, AnswerLike]]] | None = None,
) -> Summary:
    """`givers` names the relatives who gave answers (participant id -> "Els (dochter)");
    `views` holds relatives' own views per question, shown beside the person's answer."""
    tr = i18n.translator(locale)
    givers = givers or {}
    relative_views = views or {}
    views = {qid: _view(a) for qid, a in answers.items()}
    sections = []
    by_question: dict[str, SummaryItem] = {}
    for topic in flow.topics:
        items = []
        for question in topic.questions:
            record = answers.get(question.id)
            given = relative_views.get(question.id, ())
            if not question.is_asked:
                continue
            if record is None:
                # Not answered (yet): relatives' views still reach the professional, as
                # views only, unless the person's answers rule the question out.
                if not might_apply(topic, question, views):
                    continue
                item = _views_only(question, given, tr, topic.id)
                if item is None:
                    continue
            elif not applies(question, views):
                continue
            else:
                item = _item(question, record, tr, topic.id)
                item = _attributed(item, record, givers, tr)
                item = replace(item, views=_views(question, given, tr, topic.id, item))
            items.append(item)
            by_question[question.id] = item
        sections.append(
            SummarySection(
                topic_id=topic.id,
                title=tr.pgettext(topic.title.context, topic.title.source),
                items=tuple(items),
            )
        )
    return Summary(
        flow_id=flow.id,
        flow_version=flow.version,
        locale=locale,
        person_name=person_name,
        mode=mode,
        generated_at=now,
        sections=tuple(sections),
        by_question=by_question,
        complete=all(p.complete for p in flow_progress(flow, views)),  # type: ignore[arg-type]
        flow_title=tr.pgettext(flow.title.context, flow.title.source),
        to_discuss=_to_discuss(flow, by_question, tr) + _differences(by_question, tr),
    )


def _views(
    question: Question,
    given: Sequence[tuple[str, AnswerLike]],
    tr: Translator,
    topic_id: str,
    answer: SummaryItem | None,
) -> tuple[SummaryView, ...]:
    """Relatives' views (skipped ones left out); each differs from `answer` or not, and
    with no answer of the person's there is nothing to differ from."""
    shown = []
    for label, record in given:
        view = _item(question, record, tr, topic_id)
        if view.kind != "skipped":
            differs = answer is not None and view.answer != answer.answer
            shown.append(SummaryView(label, view.answer, differs))
    return tuple(shown)


def _views_only(
    question: Question, given: Sequence[tuple[str, AnswerLike]], tr: Translator, topic_id: str
) -> SummaryItem | None:
    """A question the person has not answered, with the views relatives gave on it."""
    shown = _views(question, given, tr, topic_id, None)
    if not shown:
        return None
    return SummaryItem(
        question_id=question.id,
        label=_label(question, tr),
        answer=tr.gettext("nog niet beantwoord"),
        kind=UNANSWERED,
        who="none",
        answered_at=max(as_utc(record.created_at) for _who, record in given),
        pzp_link=question.pzp.link_id if question.pzp else None,
        topic_id=topic_id,
        views=shown,
    )


def _attributed(
    item: SummaryItem, record: AnswerLike, givers: Mapping[int, str], tr: Translator
) -> SummaryItem:
    """Who gave it, by name: "samen met Els (dochter)" or "ingevuld door Els (dochter)"."""
    companion = getattr(record, "companion", None)
    if record.together and companion:
        return replace(
            item, by=who(str(companion.get("name") or ""), companion.get("relation"), tr)
        )  # type: ignore[arg-type]
    participant = getattr(record, "participant_id", None)
    if record.role == "relative" and participant in givers:
        return replace(item, by=givers[participant])
    if record.role == "relative" and participant is None and companion:
        # A removed relative's answers, kept with the name they had (when it was kept).
        return replace(
            item, by=who(str(companion.get("name") or ""), companion.get("relation"), tr)
        )  # type: ignore[arg-type]
    return item


def _differences(items: Mapping[str, SummaryItem], tr: Translator) -> tuple[str, ...]:
    """Where a relative's own view differs from the person's answer on an item of the
    professional's first screen. Other differences show only at their question."""
    lines = []
    for item in items.values():
        if item.kind in ("skipped", UNANSWERED) or not on_first_screen(item):
            continue
        for view in item.views:
            if view.differs:
                lines.append(
                    tr.gettext("{who} denkt anders over: {question} ({answer} / {view})").format(
                        who=view.who, question=item.label, answer=item.answer, view=view.answer
                    )
                )
    return tuple(lines)


def _to_discuss(flow: Flow, items: Mapping[str, SummaryItem], tr: Translator) -> tuple[str, ...]:
    """The flow's `discuss` rules that hold, in the order of the flow file. Only answers
    that are shown count: a skipped question, or one that no longer applies, never does."""
    given = {
        qid: item.option_ids
        for qid, item in items.items()
        if item.kind not in ("skipped", UNANSWERED)
    }
    return tuple(
        tr.pgettext(rule.text.context, rule.text.source)
        for rule in flow.discuss
        if rule.holds(given)
    )


def _view(record: AnswerLike) -> AnswerView:
    return AnswerView(value=dict(record.value), skipped=record.skipped)


def _who(record: AnswerLike) -> str:
    if record.together:
        return "together"
    return "relative" if record.role == "relative" else "self"


def _label(question: Question, tr: Translator) -> str:
    label_text = question.summary or question.text
    return tr.pgettext(label_text.context, label_text.source)


def _item(question: Question, record: AnswerLike, tr: Translator, topic_id: str) -> SummaryItem:
    common = {
        "question_id": question.id,
        "label": _label(question, tr),
        "who": _who(record),
        "answered_at": as_utc(record.created_at),
        "pzp_link": question.pzp.link_id if question.pzp else None,
        "topic_id": topic_id,
    }
    reading = read(dict(record.value))
    if record.skipped:
        return SummaryItem(answer=tr.gettext("overgeslagen"), kind="skipped", **common)
    if reading.kind is Kind.TEXT:
        return SummaryItem(answer=reading.text, kind="text", free_text=True, **common)
    if reading.kind is Kind.VOICE:
        return SummaryItem(answer=tr.gettext("(ingesproken bericht)"), kind="voice", **common)
    if reading.kind is Kind.SCALE:
        low = tr.pgettext(question.low.context, question.low.source) if question.low else ""
        high = tr.pgettext(question.high.context, question.high.source) if question.high else ""
        answer = tr.gettext("{value} van 5 (1 = {low}, 5 = {high})").format(
            value=reading.text, low=low, high=high
        )
        return SummaryItem(answer=answer, kind="scale", value=reading.number, **common)
    if question.type is QuestionType.PERSON:
        relation_id = reading.relation_id
        option = question.option(relation_id) if relation_id else None
        relation = (
            tr.pgettext(option.label.context, option.label.source)
            if option
            else reading.relation_text
        )
        parts = [reading.name, relation, reading.phone]
        person = {"name": reading.name, "relation": relation, "phone": reading.phone or None}
        return SummaryItem(
            answer=" · ".join(p for p in parts if p),
            kind="person",
            free_text=True,
            option_ids=(relation_id,) if relation_id else (),
            person=person,
            **common,
        )
    ids = reading.option_ids
    labels = []
    for option_id in ids:
        option = question.option(option_id)
        label = tr.pgettext(option.label.context, option.label.source) if option else option_id
        labels.append(label)
    return SummaryItem(
        answer=", ".join(labels),
        kind=question.type.value,
        option_ids=tuple(ids),
        **common,
    )
