"""The shipped conversation (flows/tijdig.yaml) as content: complete, short, plain and kind.

Why: the conversation is the product. Older adults must be able to read every message
easily, in every language we ship; every medical or legal word must be explained where it
first appears; nobody may be forced to answer; and the whole must stay short. These tests
check that on the real flow and the real translations, so an edit that breaks one of those
promises fails here (`python -m bot flows check` covers the format; this covers the content).

The rules, the allow-list and the glossary are data at the top of this file; change them
here, with a reason, rather than in the test code.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from bot.content.loader import ID_PATTERN, load_flows
from bot.content.model import Flow, Question, QuestionType, Text, Topic
from bot.content.show import estimated_minutes, flow_table
from bot.engine import Conversation, Engine
from bot.engine.replies import RecordAnswer
from bot.i18n import SOURCE_LOCALE, available_locales, translator
from bot.testing import ChatDriver

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
FLOW_ID = "tijdig"

# -- rules -------------------------------------------------------------------------------------

# Readability (B1): short sentences. Checked in every shipped language.
MAX_WORDS_PER_SENTENCE = 20
MAX_MEDIAN_WORDS = 12

# Sentences that may be longer than MAX_WORDS_PER_SENTENCE, with the reason. Keep it short.
# Key: (locale, the exact sentence).
LONG_SENTENCE_ALLOW_LIST: dict[tuple[str, str], str] = {}

# Length of the conversation (issue 11: older users rate shorter forms as more useful).
# Questions are counted as `flows show` counts them: every question that can be asked,
# follow-ups included; info messages are not questions.
MIN_TOPICS = 10
MAX_QUESTIONS = 70
MAX_QUESTIONS_PER_TOPIC = 8
# Answer buttons on one question, besides the controls the engine adds (skip, later,
# back, explain, done): a phone screen shows six big buttons without scrolling.
MAX_ANSWER_BUTTONS = 6
TOPIC_MINUTES = (2, 10)  # the `minutes` a topic announces
TOPIC_ESTIMATE = (1.5, 10.5)  # what `flows show` estimates ("about 2-10 minutes")

# The topics CONTENT.md asks for, by the id they have in the flow.
REQUIRED_TOPICS = {
    "belangrijk",
    "gezondheid",
    "wonen",
    "dagelijks",
    "mensen",
    "regelzaken",
    "vertegenwoordiger",
    "zorgwensen",
    "behandelingen",
    "ic_reanimatie",
    "levenseinde",
    "vastgelegd",
    "vragen",
}
# Heavy topics: asked permission first.
SENSITIVE_TOPICS = {"behandelingen", "ic_reanimatie", "levenseinde", "vastgelegd"}
# The treatment topics: say that Tijdig is not a doctor in their intros.
TREATMENT_TOPICS = ("behandelingen", "ic_reanimatie")
NOT_A_DOCTOR = {"nl": "geen arts", "en": "not a doctor"}
# Places to talk on heavy topics (CONTENT.md; issue 11 point 4: 113 beside De Luisterlijn).
PLACES_TO_TALK = ("De Luisterlijn", "088 0767 000", "113 Zelfmoordpreventie", "0800 0113")

# The six treatments; each offers these five answers and asks "when" after "it depends".
TREATMENTS = (
    "ziekenhuisopname",
    "antibiotica",
    "bloedtransfusie",
    "ic_opname",
    "beademing",
    "reanimatie",
)
TREATMENT_ANSWERS = ["wel", "hangt_af", "niet", "weet_niet", "huisarts"]

# Facts a GP would correct if they were missing or wrong (issue 11 point 1; the sources are
# in docs/content.md). Per check: where (question id, or "discuss"), which text (text, help,
# or the rule's text), and the Dutch phrases that must all be there. English is checked by
# the translation tests and by a reader; these keep the Dutch source from losing the facts.
LEGAL_FACTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # WGBO art. 7:465 BW: the fixed order of who decides.
    "order of representatives": (
        "vertegenwoordiger",
        "help",
        (
            "in deze volgorde",
            "mentor of curator",
            "op papier heeft gekozen",
            "echtgenoot, geregistreerd partner of levenspartner",
            "ouder, kind, broer of zus",
            "alleen als u het op papier zet",
        ),
    ),
    # Not on paper: what that means, and how to put it on paper.
    "schriftelijke machtiging": (
        "machtiging_info",
        "text",
        ("volgorde van de wet", "op papier", "datum en uw handtekening"),
    ),
    # Survival at older age, with a Dutch figure; most survivors recover well.
    "reanimatie": ("reanimatie", "help", ("1 op de 6", "1 op de 12", "herstelt meestal goed")),
    "niet-reanimerenverklaring": (
        "niet_reanimeren",
        "text",
        ("niet-reanimerenverklaring", "penning", "zichtbaar", "huisarts"),
    ),
    # A written refusal binds the doctor (art. 7:450 lid 3 BW); a request does not.
    "wish is not a right": (
        "wens_recht",
        "text",
        ("weigeren", "op papier", "moet de arts", "medisch zinvol", "geen recht"),
    ),
    "palliatieve zorg with treatment": ("behandeldoel", "help", ("kan samengaan",)),
    "palliatieve sedatie is not euthanasia": (
        "niet_meemaken",
        "help",
        ("palliatieve sedatie", "geen euthanasie"),
    ),
    "euthanasia": (
        "euthanasie",
        "help",
        ("Alleen u kunt erom vragen, nooit uw familie", "een wens, geen recht", "De arts"),
    ),
    "donor register since 2020": ("donor", "help", ("sinds 2020", "'geen bezwaar'", "ziekenhuis")),
    "ICD": ("icd_uitzetten", "text", ("Uw hart stopt er niet door",)),
    "Wlz-indicatie": ("oud_worden_waar", "help", ("Wlz-indicatie", "CIZ")),
    "driving from 75": ("autorijden", "help", ("75 jaar", "CBR")),
    # The same facts where a relative reads them about the person (`about`).
    "schriftelijke machtiging, about": (
        "machtiging_info",
        "about",
        ("volgorde van de wet", "zelf op papier", "de datum en de handtekening van {name}"),
    ),
    "wish is not a right, about": (
        "wens_recht",
        "about",
        ("weigeren", "op papier", "moet de arts", "medisch zinvol", "geen recht"),
    ),
    "niet-reanimerenverklaring, about": (
        "niet_reanimeren",
        "about",
        ("niet-reanimerenverklaring", "penning", "zichtbaar", "huisarts"),
    ),
    "ICD, about": ("icd_uitzetten", "about", ("Het hart stopt er niet door",)),
}
# Euthanasia: only the person can ask, never the family; said to a relative before the topic.
EUTHANASIA_PROXY_NOTE = ("vastgelegd", ("alleen {name} zelf", "nooit de familie"))
# Phrases that must not come back (issue 11 point 1).
WRONG_PHRASES = (
    "vaak schade",  # most survivors of reanimatie recover well
    "comfort voorop",  # antibiotics can serve comfort too
    "helemaal afhankelijk",  # dependency alone is no ground for euthanasia
    "Daarna bijvoorbeeld",  # the legal order is fixed, not an open list
)

# Terms that need an explanation where they first appear: per locale a pattern (case is
# ignored unless the pattern says otherwise). Where a term first appears, the question has a
# `help` that uses the term too, or the sentence with the term (or the next one) explains
# it ("X is ...", "X: ...", "X (...)", "dat heet X").
GLOSSARY: dict[str, dict[str, str]] = {
    "reanimatie": {"nl": r"reanim", "en": r"resuscitat|\bCPR\b"},
    "beademing": {"nl": r"beadem", "en": r"breathing machine|ventilat"},
    "IC": {"nl": r"(?-i:\bIC\b)|intensive care", "en": r"intensive care|(?-i:\bICU\b)"},
    "wilsverklaring": {"nl": r"wilsverklaring", "en": r"advance directive"},
    "volmacht": {"nl": r"\bvolmacht", "en": r"(?<!lasting )power of attorney"},
    "levenstestament": {"nl": r"levenstestament", "en": r"lasting power of attorney"},
    "euthanasie": {"nl": r"euthanasie", "en": r"euthanasia"},
    "palliatief": {"nl": r"palliatie", "en": r"palliative"},
    "palliatieve sedatie": {"nl": r"palliatieve sedatie", "en": r"palliative sedation"},
    "dementie": {"nl": r"dementie", "en": r"dementia"},
    "Wlz-indicatie": {"nl": r"Wlz-indicatie", "en": r"Wlz"},
    "DigiD-machtiging": {"nl": r"DigiD-machtiging", "en": r"DigiD authori[sz]ation"},
    "beroepsgeheim": {"nl": r"beroepsgeheim", "en": r"confidentiality"},
    "mantelzorg": {"nl": r"mantelzorg", "en": r"informal care|\bcarers?\b"},
    "hospice": {"nl": r"hospice", "en": r"hospice"},
    "donorregister": {"nl": r"donorregister", "en": r"donor register"},
    "ICD": {"nl": r"(?-i:\bICD\b)", "en": r"(?-i:\bICD\b)"},
    "antibiotica": {"nl": r"antibiotica", "en": r"antibiotic"},
    "bloedtransfusie": {"nl": r"bloedtransfusie|bloedproduct", "en": r"transfusion"},
    "sondevoeding": {"nl": r"sondevoeding", "en": r"tube feeding"},
    "dialyse": {"nl": r"dialyse", "en": r"dialysis"},
    "vertegenwoordiger": {"nl": r"vertegenwoordiger", "en": r"representative"},
    "eerste contactpersoon": {"nl": r"eerste contactpersoon", "en": r"first contact person"},
    "mentor": {"nl": r"\bmentor\b", "en": r"\bmentor\b"},
    "curator": {"nl": r"\bcurator\b", "en": r"\bcurator\b|\bguardian\b"},
    "bewindvoerder": {"nl": r"bewindvoerder", "en": r"administrator"},
    "Wmo": {"nl": r"(?-i:\bWmo\b)", "en": r"(?-i:\bWmo\b)"},
    "levensbeschouwing": {"nl": r"levensbeschouwing", "en": r"outlook on life"},
    "geestelijk verzorger": {"nl": r"geestelijk verzorger", "en": r"spiritual carer"},
}
EXPLAINS = {
    "nl": r"\b(is|zijn|betekent|heet|heten|noemen|noemt)\b|:|\(",
    "en": r"\b(is|are|means|called|call)\b|:|\(",
}

# Filling in for someone else (issue 11 point 5; issue 9 point 2, a relative's own view):
# every asked question has wording about the person (`about`) with {name}, and the heavy
# topics have a note for whoever answers for the person (`proxy_note`). {name} is what the
# relative calls the person: a first name, or "uw moeder" as typed. The texts are read with
# the longer kind of name, so a sentence that is too long with it fails.
NAME = "{name}"
SAMPLE_NAME = {"nl": "uw moeder", "en": "your mother"}
PROXY_NOTE_TOPICS = SENSITIVE_TOPICS  # the treatment and the end-of-life topics
# {name} may be anyone: no "hij"/"zij" that guesses; repeat {name} or rephrase instead.
GENDERED = {
    "nl": r"\b(hij|hem|haar)\b",
    "en": r"\b(he|she|him|her|his|hers|himself|herself)\b",
}

# Text that is a leftover, not content.
PLACEHOLDER = re.compile(
    r"\b(TODO|FIXME|XXX|TBD|lorem|ipsum)\b|\?\?|\.\.\.|…|<[^>]*>|\{[^}]*\}|\[[^\]]*\]",
    re.IGNORECASE,
)


# -- reading the flow --------------------------------------------------------------------------


@cache
def shipped_flow() -> Flow:
    return load_flows(FLOWS_DIR)[FLOW_ID]


@pytest.fixture(scope="module")
def flow() -> Flow:
    return shipped_flow()


LOCALES = available_locales()


def tr(text: Text, locale: str) -> str:
    return translator(locale).pgettext(text.context, text.source)


VIEWS = ("self", "about")  # the person's own questions; the same asked about the person


@dataclass(frozen=True)
class Shown:
    """One text as the person sees it, and where it sits."""

    # intro, permission, proxy_note, text, about, option, alias, low, high, help, summary,
    # title
    kind: str
    text: Text
    topic: Topic
    question: Question | None = None

    @property
    def running_text(self) -> bool:
        """Full sentences (not button labels, scale ends, titles or summary labels)."""
        return self.kind in ("intro", "permission", "proxy_note", "text", "about", "help")

    def says(self, locale: str) -> str:
        """The text as shown; a text about someone else with a name in it."""
        text = tr(self.text, locale)
        if self.kind in ("about", "proxy_note"):
            return text.replace(NAME, SAMPLE_NAME[locale])
        return text


def shown_texts(flow: Flow, view: str = "self") -> Iterator[Shown]:
    """Every text of the flow in reading order: topic, then each question and its help.
    The view "about" is what a relative sees: the topic's note for them, and each question
    about the person (an info message without such wording stays as it is)."""
    for topic in flow.topics:
        yield Shown("title", topic.title, topic)
        yield Shown("intro", topic.intro, topic)
        if topic.permission:
            yield Shown("permission", topic.permission, topic)
        if view == "about" and topic.proxy_note:
            yield Shown("proxy_note", topic.proxy_note, topic)
        for question in topic.questions:
            if view == "about" and question.about is not None:
                yield Shown("about", question.about, topic, question)
            else:
                yield Shown("text", question.text, topic, question)
            for option in question.options:
                yield Shown("option", option.label, topic, question)
                for alias in option.aliases:
                    yield Shown("alias", alias, topic, question)
            for kind, text in (("low", question.low), ("high", question.high)):
                if text is not None:
                    yield Shown(kind, text, topic, question)
            if question.help is not None:
                yield Shown("help", question.help, topic, question)
            if question.summary is not None:
                yield Shown("summary", question.summary, topic, question)


# -- readability ------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n+")
_WORD = re.compile(r"\w")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def word_count(sentence: str) -> int:
    return sum(1 for word in sentence.split() if _WORD.search(word))


def long_sentences(texts: list[str], locale: str) -> list[str]:
    """Sentences over the maximum that are not on the allow-list."""
    return [
        f"{word_count(s)} words: {s}"
        for text in texts
        for s in sentences(text)
        if word_count(s) > MAX_WORDS_PER_SENTENCE and (locale, s) not in LONG_SENTENCE_ALLOW_LIST
    ]


def median_words(texts: list[str]) -> float:
    return statistics.median(word_count(s) for text in texts for s in sentences(text))


# -- glossary ---------------------------------------------------------------------------------


def first_use(flow: Flow, pattern: str, locale: str, view: str = "self") -> Shown | None:
    for shown in shown_texts(flow, view):
        if shown.kind in ("alias", "summary", "title"):
            continue
        if re.search(pattern, shown.says(locale), re.IGNORECASE):
            return shown
    return None


def explained(shown: Shown, pattern: str, locale: str) -> bool:
    """The help of the question uses the term, or the text itself explains it."""
    question = shown.question
    if (
        shown.kind != "help"
        and question is not None
        and question.help is not None
        and re.search(pattern, tr(question.help, locale), re.IGNORECASE)
    ):
        return True
    parts = sentences(shown.says(locale))
    for index, sentence in enumerate(parts):
        if re.search(pattern, sentence, re.IGNORECASE):
            nearby = " ".join(parts[index : index + 2])
            return re.search(EXPLAINS[locale], nearby) is not None
    return False


def unexplained_terms(flow: Flow, locale: str, view: str = "self") -> list[str]:
    problems = []
    for term, patterns in GLOSSARY.items():
        shown = first_use(flow, patterns[locale], locale, view)
        if shown is None:
            problems.append(f"{term}: not used in the flow (remove it from GLOSSARY?)")
        elif not explained(shown, patterns[locale], locale):
            problems.append(f"{term}: first used in {shown.text.context} without explanation")
    return problems


# -- the flow as a whole ------------------------------------------------------------------------


def test_the_flow_has_the_topics_of_the_content_guide(flow: Flow) -> None:
    ids = [topic.id for topic in flow.topics]
    assert len(ids) >= MIN_TOPICS
    assert set(ids) >= REQUIRED_TOPICS, REQUIRED_TOPICS - set(ids)


def test_ids_are_unique_and_well_formed_in_the_yaml_files() -> None:
    """Read the YAML itself: the compiled flow keeps only one of two equal ids."""
    main = yaml.safe_load((FLOWS_DIR / f"{FLOW_ID}.yaml").read_text(encoding="utf-8"))
    topics = [
        yaml.safe_load((FLOWS_DIR / entry["include"]).read_text(encoding="utf-8"))
        if "include" in entry
        else entry
        for entry in main["topics"]
    ]
    topic_ids = [topic["id"] for topic in topics]
    question_ids = [q["id"] for topic in topics for q in topic["questions"]]
    assert len(set(topic_ids)) == len(topic_ids)
    duplicates = {qid for qid in question_ids if question_ids.count(qid) > 1}
    assert not duplicates
    for identifier in topic_ids + question_ids:
        assert ID_PATTERN.match(identifier), identifier
    for topic in topics:
        for question in topic["questions"]:
            option_ids = [option["id"] for option in question.get("options", [])]
            assert len(set(option_ids)) == len(option_ids), question["id"]
            assert all(ID_PATTERN.match(o) for o in option_ids), question["id"]


def test_every_ask_if_refers_to_an_earlier_question_and_can_come_true(flow: Flow) -> None:
    earlier: dict[str, Question] = {}
    for topic in flow.topics:
        for question in topic.questions:
            for condition in question.ask_if:
                target = earlier.get(condition.question)
                assert target is not None, f"{question.id}: {condition.question} is not earlier"
                assert target.is_asked, f"{question.id} depends on an info message"
                options = {option.id for option in target.options}
                assert set(condition.any_of + condition.none_of) <= options, question.id
                if condition.any_of:
                    assert set(condition.any_of) - set(condition.none_of), question.id
            earlier[question.id] = question


def parked_at(engine: Engine, question: Question, locale: str, step: str | None) -> ChatDriver:
    """A test chat whose stored place is this question (as after /stop there)."""
    conversation = Conversation(
        state="question",
        locale=locale,
        consented=True,
        mode="alone",
        topic=question.topic,
        question=question.id,
        step=step if question.type is QuestionType.PERSON else None,
    )
    return ChatDriver.on_engine(engine, conversation)


async def test_every_question_can_be_skipped_in_every_language(flow: Flow) -> None:
    """The engine offers "Overslaan" on every question, and pressing it records a skip."""
    engine = Engine(flow, translator, LOCALES)
    asked = [q for q in flow.questions if q.is_asked]
    assert {q.type for q in asked} <= set(QuestionType) - {QuestionType.INFO}
    for locale in LOCALES:
        skip_label = translator(locale).gettext("Overslaan")
        for question in asked:
            chat = parked_at(engine, question, locale, "name")
            await chat.command("verder")
            assert skip_label in chat.buttons, f"{question.id} ({locale}) has no '{skip_label}'"
            await chat.press(skip_label)
            assert RecordAnswer(question.id, {}, True) in chat.outcome.effects, question.id


def test_info_messages_are_not_counted_as_questions(flow: Flow) -> None:
    infos = [q for q in flow.questions if q.type is QuestionType.INFO]
    assert infos, "the flow has info messages; this test would prove nothing without them"
    for topic in flow.topics:
        assert all(q.type is not QuestionType.INFO for q in topic.asked_questions)
    total = sum(len(t.asked_questions) for t in flow.topics)
    assert total == len(flow.questions) - len(infos)
    assert flow_table(flow).splitlines()[-1].split()[1] == str(total)


def test_the_conversation_is_short(flow: Flow) -> None:
    total = sum(len(topic.asked_questions) for topic in flow.topics)
    assert total <= MAX_QUESTIONS
    low, high = TOPIC_ESTIMATE
    for topic in flow.topics:
        assert len(topic.asked_questions) <= MAX_QUESTIONS_PER_TOPIC, topic.id
        assert TOPIC_MINUTES[0] <= topic.minutes <= TOPIC_MINUTES[1], topic.id
        assert low <= estimated_minutes(topic) <= high, topic.id
        assert abs(estimated_minutes(topic) - topic.minutes) <= 2, topic.id


async def test_no_question_has_more_than_six_answer_buttons(flow: Flow) -> None:
    """Counted on the real screens: every button that is not a control (skip, later,
    back, explain, done, the person step's own controls)."""
    engine = Engine(flow, translator, LOCALES)
    tr = translator(SOURCE_LOCALE)
    for question in flow.questions:
        if not question.is_asked or question.type is QuestionType.TEXT:
            continue
        chat = parked_at(engine, question, SOURCE_LOCALE, "relation")
        await chat.command("verder")
        assert chat.message is not None
        screen = chat.message
        labels = {tr.pgettext(o.label.context, o.label.source) for o in question.options}
        if question.type is QuestionType.SCALE:
            answers = [b for b in screen.flat_buttons if b.option.isdigit()]
            assert len(answers) == 5, question.id
            continue
        answers = [b for b in screen.flat_buttons if b.label in labels]
        assert answers, f"{question.id}: no answer buttons found on its screen"
        assert len(answers) <= MAX_ANSWER_BUTTONS, f"{question.id}: {len(answers)} answer buttons"
    # the same limit on the flow data, so a failure names the question even without a screen
    for question in flow.questions:
        assert len(question.options) <= MAX_ANSWER_BUTTONS, question.id


@pytest.mark.parametrize("locale", LOCALES)
def test_every_intro_says_what_and_how_long(flow: Flow, locale: str) -> None:
    for topic in flow.topics:
        intro = tr(topic.intro, locale)
        assert re.search(rf"\b{topic.minutes}\b", intro), f"{topic.id}: minutes not in intro"
        assert len(sentences(intro)) >= 2, f"{topic.id}: say what it is about, then how long"


@pytest.mark.parametrize("locale", LOCALES)
def test_heavy_topics_ask_permission_and_say_tijdig_is_not_a_doctor(
    flow: Flow, locale: str
) -> None:
    sensitive = {topic.id for topic in flow.topics if topic.sensitive}
    assert sensitive == SENSITIVE_TOPICS
    for topic_id in SENSITIVE_TOPICS:
        topic = flow.topic(topic_id)
        assert topic is not None and topic.permission is not None
        assert tr(topic.permission, locale).rstrip().endswith("?"), topic_id
    for topic_id in TREATMENT_TOPICS:
        treatments = flow.topic(topic_id)
        assert treatments is not None
        assert NOT_A_DOCTOR[locale] in tr(treatments.intro, locale), topic_id
    everything = " ".join(tr(shown.text, locale) for shown in shown_texts(flow))
    for place in PLACES_TO_TALK:
        assert place in everything, f"offer a place to talk on heavy topics: {place}"


@pytest.mark.parametrize("locale", LOCALES)
def test_treatments_offer_five_answers_explain_themselves_and_ask_when(
    flow: Flow, locale: str
) -> None:
    for treatment in TREATMENTS:
        question = flow.question(treatment)
        assert question is not None and question.topic in TREATMENT_TOPICS, treatment
        assert [option.id for option in question.options] == TREATMENT_ANSWERS, treatment
        # One sentence of explanation in the question itself, then the question; the
        # longer explanation stays behind "Uitleg".
        assert question.about is not None, treatment
        for wording in (question.text, question.about):
            asked = sentences(tr(wording, locale))
            assert len(asked) == 2, (
                f"{wording.context} ({locale}): explain in one sentence, then ask"
            )
            assert not asked[0].endswith("?") and asked[1].endswith("?"), wording.context
        assert question.help is not None and len(sentences(tr(question.help, locale))) >= 3
        when = flow.question(f"{treatment}_wanneer")
        assert when is not None and when.type is QuestionType.TEXT, treatment
        assert [(c.question, c.any_of) for c in when.ask_if] == [(treatment, ("hangt_af",))]


def test_the_legal_facts_are_stated(flow: Flow) -> None:
    problems = []
    for fact, (question_id, field_name, phrases) in LEGAL_FACTS.items():
        question = flow.question(question_id)
        assert question is not None, f"{fact}: no question '{question_id}'"
        text = getattr(question, field_name)
        assert text is not None, f"{fact}: '{question_id}' has no {field_name}"
        flat = " ".join(text.source.split())
        problems += [
            f"{fact}: {question_id}.{field_name} lacks {p!r}" for p in phrases if p not in flat
        ]
    topic_id, phrases = EUTHANASIA_PROXY_NOTE
    topic = flow.topic(topic_id)
    assert topic is not None and topic.proxy_note is not None, topic_id
    problems += [
        f"{topic_id}.proxy_note lacks {p!r}" for p in phrases if p not in topic.proxy_note.source
    ]
    assert problems == []


def test_corrected_statements_do_not_come_back(flow: Flow) -> None:
    everything = " ".join(" ".join(shown.text.source.split()) for shown in shown_texts(flow))
    assert [phrase for phrase in WRONG_PHRASES if phrase in everything] == []


def test_the_heavy_follow_ups_come_after_the_right_answers(flow: Flow) -> None:
    """De Luisterlijn after "vaak eenzaam" (not "soms"); 113 after "klaar met leven";
    the niet-reanimeren advice after "nee"; a permission step before a loved one's illness."""
    conditions = {
        "luisterlijn": [("eenzaam", ("vaak",))],
        "praten_113": [("klaar_met_leven", ("soms", "vaak"))],
        "niet_reanimeren": [("reanimatie", ("niet",))],
    }
    for question_id, expected in conditions.items():
        question = flow.question(question_id)
        assert question is not None, question_id
        assert [(c.question, c.any_of) for c in question.ask_if] == expected, question_id
    ervaring = flow.question("ervaring")
    assert ervaring is not None and ervaring.topic in SENSITIVE_TOPICS
    scales = [q for q in flow.questions if q.type is QuestionType.SCALE]
    assert scales[0].help is not None and "1 tot 5" in scales[0].help.source
    assert all(q.help is None or "1 tot 5" not in q.help.source for q in scales[1:])
    zorgplek, sterfplek = flow.question("zorgplek"), flow.question("sterfplek")
    assert zorgplek is not None and sterfplek is not None
    for question in (zorgplek, sterfplek):
        assert any("familie" in o.label.source.lower() for o in question.options), question.id


# -- "Om te bespreken" ---------------------------------------------------------------------

# Contradictions issue 11 names; each must have a rule (question, options) -> (question, options).
REQUIRED_DISCUSS = (
    (("ic_opname", ("niet",)), ("beademing", ("wel",))),
    (("reanimatie", ("wel",)), ("ziekenhuisopname", ("niet",))),
    (("donor", ("donor", "geen_bezwaar", "familie")), ("sterfplek", ("thuis",))),
    (("donor", ("donor", "geen_bezwaar", "familie")), ("ic_opname", ("niet",))),
)


def discuss_problems(flow: Flow) -> list[str]:
    """Every rule refers to questions with options, and to options they have."""
    problems = []
    for rule in flow.discuss:
        assert rule.when, rule.id
        for condition in rule.when:
            question = flow.question(condition.question)
            if question is None or not question.options:
                problems.append(f"{rule.id}: '{condition.question}' is no question with options")
                continue
            known = {option.id for option in question.options}
            for option_id in condition.any_of + condition.none_of:
                if option_id not in known:
                    problems.append(f"{rule.id}: '{option_id}' is no option of {question.id}")
    return problems


def test_every_discuss_rule_refers_to_existing_questions_and_options(flow: Flow) -> None:
    assert flow.discuss, "the flow lists what a professional should discuss"
    assert discuss_problems(flow) == []
    for rule in flow.discuss:
        assert word_count(rule.text.source) <= 30, rule.id


def test_the_contradictions_of_the_issue_are_listed(flow: Flow) -> None:
    for (first, first_options), (second, second_options) in REQUIRED_DISCUSS:
        answers = {first: first_options[:1], second: second_options[:1]}
        assert any(rule.holds(answers) for rule in flow.discuss), (first, second)
        for option_id in first_options:
            assert any(rule.holds({**answers, first: (option_id,)}) for rule in flow.discuss)
    assert not any(rule.holds({}) for rule in flow.discuss), "no answers, nothing to discuss"


def test_the_discuss_check_flags_an_unknown_question_or_option(flow: Flow) -> None:
    from bot.content.model import Condition, DiscussRule

    bad = (
        DiscussRule("a", Text("x.a", "A."), (Condition(question="bestaat_niet", any_of=("ja",)),)),
        DiscussRule("b", Text("x.b", "B."), (Condition(question="reanimatie", any_of=("ja",)),)),
        DiscussRule("c", Text("x.c", "C."), (Condition(question="goede_dag", any_of=("ja",)),)),
    )
    fake = Flow(id=flow.id, version=1, title=flow.title, topics=flow.topics, discuss=bad)
    problems = discuss_problems(fake)
    assert len(problems) == 3, problems


def test_every_question_has_a_label_for_the_professional(flow: Flow) -> None:
    for question in flow.questions:
        if question.is_asked:
            assert question.summary is not None, question.id
            assert word_count(question.summary.source) <= 12, question.id


# -- every text, in every language ------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_exists_in_every_language(flow: Flow, locale: str, view: str) -> None:
    missing = []
    for shown in shown_texts(flow, view):
        text = tr(shown.text, locale)
        untranslated = locale != SOURCE_LOCALE and text == shown.text.source and len(text) > 3
        if not text.strip() or untranslated:
            missing.append(shown.text.context)
        elif NAME in shown.text.source and NAME not in text:
            missing.append(f"{shown.text.context}: the translation lost {NAME}")
    assert missing == []


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("locale", LOCALES)
def test_no_placeholder_or_leftover_text(flow: Flow, locale: str, view: str) -> None:
    found = []
    for shown in shown_texts(flow, view):
        text = shown.says(locale)
        if PLACEHOLDER.search(text) or text != text.strip() or "  " in text:
            found.append(f"{shown.text.context}: {text!r}")
    assert found == []


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("locale", LOCALES)
def test_sentences_are_short(flow: Flow, locale: str, view: str) -> None:
    texts = [shown.says(locale) for shown in shown_texts(flow, view)]
    assert long_sentences(texts, locale) == []
    running = [shown.says(locale) for shown in shown_texts(flow, view) if shown.running_text]
    assert median_words(running) <= MAX_MEDIAN_WORDS


def stale_allow_list_entries(
    flow: Flow, allow_list: dict[tuple[str, str], str]
) -> list[tuple[str, str]]:
    """Allowed long sentences that the flow no longer shows, or that are no longer long."""
    stale = []
    for locale, sentence in allow_list:
        texts = [shown.says(locale) for view in VIEWS for shown in shown_texts(flow, view)]
        shown = any(sentence in sentences(text) for text in texts)
        if not shown or word_count(sentence) <= MAX_WORDS_PER_SENTENCE:
            stale.append((locale, sentence))
    return stale


def test_the_long_sentence_allow_list_is_current(flow: Flow) -> None:
    assert stale_allow_list_entries(flow, LONG_SENTENCE_ALLOW_LIST) == []


def test_the_allow_list_check_flags_entries_that_are_gone_or_short(flow: Flow) -> None:
    gone = ("nl", " ".join(["woord"] * 25) + ".")
    short = ("nl", "Kort.")
    assert stale_allow_list_entries(flow, {gone: "test", short: "test"}) == [gone, short]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_term_is_explained_where_it_first_appears(flow: Flow, locale: str, view: str) -> None:
    assert unexplained_terms(flow, locale, view) == []


# -- about someone else ---------------------------------------------------------------------


def about_problems(flow: Flow) -> list[str]:
    """Every asked question has wording about the person, with {name}, that asks a question
    when the person's own wording does; the heavy topics have a note for the relative."""
    problems = []
    for question in flow.questions:
        if not question.is_asked:
            continue
        about = question.about
        if about is None or NAME not in about.source:
            problems.append(f"{question.id}: no 'about' with {NAME}")
            continue
        asks = [s.endswith("?") for s in sentences(question.text.source)]
        if any(asks) != any(s.endswith("?") for s in sentences(about.source)):
            problems.append(f"{question.id}: 'about' asks no question, or the text does not")
    for topic in flow.topics:
        note = topic.proxy_note
        if topic.id in PROXY_NOTE_TOPICS and (note is None or NAME not in note.source):
            problems.append(f"{topic.id}: no 'proxy_note' with {NAME}")
    return problems


def test_every_asked_question_can_be_asked_about_someone_else(flow: Flow) -> None:
    assert about_problems(flow) == []


def name_problems(flow: Flow, locale: str) -> list[str]:
    """{name} reads well as "Anna" and as "uw moeder": never first in a sentence (it would
    need a capital), no possessive 's in Dutch ("de papieren van {name}"), no he or she."""
    problems = []
    for shown in shown_texts(flow, "about"):
        if shown.kind not in ("about", "proxy_note"):
            continue
        text = tr(shown.text, locale)
        where = shown.text.context
        if any(s.lstrip("'\"(").startswith(NAME) for s in sentences(text)):
            problems.append(f"{where}: a sentence starts with {NAME}")
        if locale == "nl" and re.search(r"\{name\}'?s\b", text):
            problems.append(f"{where}: {NAME}'s; write 'van {NAME}'")
        if re.search(GENDERED[locale], text, re.IGNORECASE):
            problems.append(f"{where}: he or she; repeat {NAME} or rephrase")
    return problems


@pytest.mark.parametrize("locale", LOCALES)
def test_the_name_fits_a_first_name_and_uw_moeder(flow: Flow, locale: str) -> None:
    assert name_problems(flow, locale) == []


# -- the checks can fail ------------------------------------------------------------------------


def test_the_readability_check_flags_a_25_word_sentence() -> None:
    sentence = " ".join(["woord"] * 24) + " einde."
    assert word_count(sentence) == 25
    assert len(long_sentences([f"Korte zin. {sentence} Nog een.", "Goed zo."], "nl")) == 1
    thirteen = "Een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien."
    assert median_words([thirteen, "Kort.", thirteen]) > MAX_MEDIAN_WORDS


def test_the_about_checks_flag_a_missing_name_a_statement_and_he_or_she() -> None:
    def fake(about: str | None, note: str | None = "Antwoord zoals {name} het zou zeggen.") -> Flow:
        question = Question(
            id="eenzaam",
            topic="t",
            type=QuestionType.CHOICE,
            text=Text("test.eenzaam.text", "Voelt u zich weleens eenzaam?"),
            about=Text("test.eenzaam.about", about) if about else None,
        )
        topics = tuple(
            Topic(
                id=topic_id,
                title=Text(f"test.{topic_id}.title", "Titel"),
                intro=Text(f"test.{topic_id}.intro", "Over zorg."),
                minutes=3,
                questions=(question,) if topic_id == "t" else (),
                proxy_note=Text(f"test.{topic_id}.proxy_note", note) if note else None,
            )
            for topic_id in ("t", *sorted(PROXY_NOTE_TOPICS))
        )
        return Flow(id="test", version=1, title=Text("test.title", "Test"), topics=topics)

    assert about_problems(fake("Voelt {name} zich weleens eenzaam?")) == []
    assert name_problems(fake("Voelt {name} zich weleens eenzaam?"), "nl") == []
    for about in (None, "Voelt uw moeder zich eenzaam?", "Soms is het eenzaam voor {name}."):
        assert len(about_problems(fake(about))) == 1, about
    for about in (
        "{name} voelt zich eenzaam?",
        "Voelt hij zich eenzaam, {name}?",
        "Zijn {name}s vrienden ver weg?",
    ):
        assert len(name_problems(fake(about), "nl")) == 1, about
    missing_notes = about_problems(fake("Voelt {name} zich eenzaam?", note=None))
    assert len(missing_notes) == len(PROXY_NOTE_TOPICS)


def test_the_glossary_check_flags_an_unexplained_term() -> None:
    def question(qid: str, text: str, help_text: str | None) -> Question:
        return Question(
            id=qid,
            topic="t",
            type=QuestionType.TEXT,
            text=Text(f"test.{qid}.text", text),
            help=Text(f"test.{qid}.help", help_text) if help_text else None,
        )

    topic = Topic(
        id="t",
        title=Text("test.t.title", "Titel"),
        intro=Text("test.t.intro", "Over zorg."),
        minutes=3,
        questions=(
            question("a", "Wilt u reanimatie?", None),
            question("b", "Wilt u beademing?", "Bij beademing ademt een machine voor u."),
            question("c", "Kent u de IC?", "Nee."),
        ),
    )
    fake = Flow(id="test", version=1, title=Text("test.title", "Test"), topics=(topic,))
    for term, pattern, expected in (
        ("reanimatie", GLOSSARY["reanimatie"]["nl"], False),
        ("beademing", GLOSSARY["beademing"]["nl"], True),
        ("IC", GLOSSARY["IC"]["nl"], False),
    ):
        shown = first_use(fake, pattern, "nl")
        assert shown is not None, term
        assert explained(shown, pattern, "nl") is expected, term
    inline = Shown("intro", Text("x", "Een hospice is een huis voor de laatste fase."), topic)
    assert explained(inline, GLOSSARY["hospice"]["nl"], "nl")


def test_the_shipped_flows_pass_flows_check() -> None:
    """What an author runs after editing a flow (`python -m bot flows check`) passes on the
    flows and catalogs as shipped: the format, every rule's references, every translation."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWS_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 1 flow(s), 70 questions, all translations present.")
