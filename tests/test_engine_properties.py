"""Random conversations: whatever people type or press, nothing crashes and no answer is
lost or lands on the wrong question.

Why: real people press old buttons, type numbers at text questions, send stickers, paste
essays and type commands mid-question. Hand-written tests cover the paths we thought of;
these generate thousands of sequences we did not, and check the rules that must hold for
every one of them. The second test replays such sequences through the real service on a
SQLite file and checks the database ends up with exactly what the engine decided.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.config import load_settings
from bot.content.loader import load_flows
from bot.content.model import Flow, QuestionType
from bot.engine import (
    AnswerView,
    Choice,
    Command,
    Conversation,
    Engine,
    Event,
    Media,
    MediaKind,
    Start,
    Text,
    progress,
)
from bot.engine.commands import COMMANDS
from bot.engine.machine import mermaid
from bot.engine.person_answer import MAX_NAME
from bot.engine.replies import DeleteEverything, Message, RecordAnswer, Reply
from bot.engine.screens import SCREENS as ENGINE_SCREENS
from bot.engine.turn import MAX_TEXT
from bot.i18n import translator
from bot.services.conversation import ConversationService, Handled
from bot.services.runtime import Runtime
from bot.services.views import answer_views
from bot.storage.crypto import new_key_text
from bot.storage.models import Answer
from bot.storage.repository import Repository
from bot.testing import ChatDriver

DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
FLOW: Flow = load_flows(DEMO_FLOWS)["demo"]
ENGINE = Engine(FLOW, translator, ("nl", "en"))


def diagram_edges() -> set[tuple[str, str, str]]:
    """The moves `python -m bot flows diagram` draws: (from, to, trigger)."""
    edges = set()
    for line in mermaid(ENGINE_SCREENS.values()).splitlines():
        if "-->" not in line or "[*]" in line:
            continue
        pair, _, labels = line.partition(":")
        source, _, dest = (part.strip() for part in pair.partition("-->"))
        for label in labels.split("|"):
            edges.add((source, dest, label.split("[")[0].strip()))
    return edges


DIAGRAM_EDGES = diagram_edges()
DIAGRAM_STATES = {state for edge in DIAGRAM_EDGES for state in edge[:2]}
SEEN_EDGES: set[tuple[str, str, str]] = set()

# -- what people do ------------------------------------------------------------------------

OPTION_IDS = sorted(
    {o.id for q in FLOW.questions for o in q.options}
    | {t.id for t in FLOW.topics}
    | {"yes", "no", "privacy", "alone", "together", "for_other", "begin", "resume"}
    | {"_skip", "_later", "_back", "_help", "_done", "_next", "_none", "1", "3", "5", "9"}
    | {"en", "nl", "xx", ""}
)
SCREENS = sorted(
    {q.id for q in FLOW.questions}
    | {f"intro.{t.id}" for t in FLOW.topics}
    | {"welcome", "consent", "who", "name", "menu", "paused", "deleting", "_taal", "_links"}
    | {"oude_vraag", ""}
)
# fmt: off
WORDS = [
    "ja", "nee", "Ja, ik doe mee", "zelf", "samen", "voor iemand", "Liever niet", "Anna",
    "Wonen", "Het levenseinde", "Wat voor u belangrijk is", "Beginnen", "begin",
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "12", "(2)", "1, 3", "1 en 2",
    "wandelen en lezen", "weet ik niet", "Weet ik nog niet", "thuis", "hier", "Waar zorg is",
    "overslaan", "Overslaan", "sla over", "terug", "Terug", "later", "uitleg", "Klaar",
    "klaar", "ok", "Verder", "verder", "Zoon", "buurman", "06-12345678", "+31 6 1234 5678",
    "geen", "privacy", "/start", "", "   ", "\n", "😊", "café",
    "x" * (MAX_TEXT + 1),  # too long
    "y" * MAX_TEXT,  # just fits
]
# fmt: on
# What phones and keyboards really send, which `st.text()` almost never produces: half a
# character (JSON allows it; so do bytes stdin could not decode), direction controls,
# zero-width characters, combining marks, emoji built with ZWJ and variation selectors,
# NUL and other control characters, digits that are not 0-9 (`²` once crashed the chat).
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
ODD_DIGITS = "²¹³٣۳①１Ⅻ߂𝟕"
# fmt: off
EMOJI = [
    "😊", "👍🏽", "❤️", "☺︎", "🇳🇱", "1️⃣",
    "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "👵🏼\u200d⚕️",  # joined with ZWJ
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # a tag sequence
]
# fmt: on
HALF_CHARACTER = re.compile("[\ud800-\udfff]")  # a lone surrogate
CONTROL_CHARS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)]
ODD_CHARACTERS = st.one_of(
    st.integers(0xD800, 0xDFFF).map(chr),  # a lone surrogate
    st.sampled_from(BIDI + ZERO_WIDTH + ODD_DIGITS + "\ufe0e\ufe0f"),
    st.characters(categories=["Mn", "Me"]),  # combining marks
    st.sampled_from(EMOJI),
    st.sampled_from(CONTROL_CHARS),
    st.characters(),  # any other character
)
SHORT_WORDS = [w for w in WORDS if len(w) < 40]
ODD_TEXTS = st.lists(st.one_of(ODD_CHARACTERS, st.sampled_from(SHORT_WORDS)), max_size=10).map(
    "".join
)
LONG_TEXTS = st.tuples(ODD_TEXTS.filter(bool), st.integers(41, 5_000)).map(
    lambda pair: (pair[0] * pair[1])[: pair[1]]  # a pasted essay; shorter than MAX_TEXT
)
CONTROLS = {"_skip", "_later", "_back", "_help"}
COMMAND_NAMES = [*COMMANDS, "foo", "", "STOP", "Verder", "verder@tijdig_bot", "/help", "taal"]
COMMAND_ARGS = st.one_of(st.sampled_from(["", "en", "nl", "code", "xx", "ja"]), ODD_TEXTS)
TYPED_COMMANDS = st.tuples(st.sampled_from(COMMAND_NAMES), COMMAND_ARGS).map(
    lambda pair: f"/{pair[0]} {pair[1]}"
)
TEXTS = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.integers(-3, 30).map(str),
    st.text(alphabet="abc ,", min_size=1, max_size=12),
    ODD_TEXTS,
    ODD_TEXTS,
    TYPED_COMMANDS,
    st.integers(0, 15).flatmap(lambda n: LONG_TEXTS if n == 0 else ODD_TEXTS),  # long, rarely
)
ACTIONS = st.one_of(
    st.tuples(st.just("start")),
    st.tuples(st.just("text"), TEXTS),
    st.tuples(st.just("press"), st.integers(0, 12)),  # any button on screen
    st.tuples(st.just("answer"), st.integers(0, 12)),  # a button that is not a control
    st.tuples(st.just("answer"), st.integers(0, 12)),
    st.tuples(st.just("answer"), st.integers(0, 12)),
    st.tuples(st.just("old"), st.integers(1, 6), st.integers(0, 12)),
    st.tuples(st.just("again"), st.integers(1, 4)),  # a press made earlier, made again
    st.tuples(st.just("choice"), st.sampled_from(SCREENS), st.sampled_from(OPTION_IDS)),
    st.tuples(
        st.just("command"),
        st.one_of(st.sampled_from(COMMAND_NAMES), ODD_TEXTS),
        COMMAND_ARGS,
    ),
    st.tuples(  # the commands that move people around, more often
        st.just("command"),
        st.sampled_from(["verwijderen", "stop", "verder", "overzicht", "profiel", "start"]),
        st.just(""),
    ),
    st.tuples(st.just("media"), st.sampled_from(list(MediaKind))),
)


# -- the independent bookkeeping -----------------------------------------------------------


@dataclass
class Harness:
    """Feeds actions to the engine through the test chat and checks every outcome against
    the rules, with its own bookkeeping of what was recorded."""

    engine: Engine
    chat: ChatDriver = field(init=False)
    log: list[RecordAnswer | DeleteEverything] = field(default_factory=list)
    presses: list[Choice] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.chat = ChatDriver.on_engine(self.engine)

    @property
    def conv(self) -> Conversation:
        return self.chat.conv

    @property
    def answers(self) -> dict[str, AnswerView]:
        return self.chat.answers

    def event_for(self, action: tuple[Any, ...]) -> Event:
        base = {"user_id": "7", "chat_id": "7", "event_id": f"p{next(self.ids)}"}
        kind = action[0]
        messages = self.chat.messages
        buttons_now = messages[-1].flat_buttons if messages else ()
        if kind == "answer":  # an option rather than skip/later/back, to get further
            buttons_now = tuple(b for b in buttons_now if b.option not in CONTROLS)
        if kind in ("press", "answer") and buttons_now:
            button = buttons_now[action[1] % len(buttons_now)]
            return Choice(question_id=button.screen, option_id=button.option, **base)
        if kind == "old" and messages:
            message = messages[-min(action[1], len(messages))]
            if message.flat_buttons:
                button = message.flat_buttons[action[2] % len(message.flat_buttons)]
                return Choice(question_id=button.screen, option_id=button.option, **base)
        if kind == "again" and self.presses:
            earlier = self.presses[-min(action[1], len(self.presses))]
            return replace(earlier, event_id=base["event_id"])
        if kind == "choice":
            return Choice(question_id=action[1], option_id=action[2], **base)
        if kind == "text":
            return Text(text=action[1], **base)
        if kind == "command":
            return Command(name=action[1], args=action[2], **base)
        if kind == "media":
            return Media(kind=action[1], ref="file-9", **base)
        return Start(**base)

    async def step(self, event: Event) -> Handled:
        if isinstance(event, Choice):
            self.presses.append(event)
        before = self.conv
        snapshot = copy.deepcopy(before.to_dict())
        answers_before = dict(self.answers)
        shown_before = len(self.chat.messages)
        outcome = await self.chat.send(event)
        assert before.to_dict() == snapshot, "the engine changed its input conversation"
        self.check_moves(before.state)

        records = [e for e in outcome.effects if isinstance(e, RecordAnswer)]
        assert len(records) <= 1, "one event, at most one answer"
        for record in records:
            self.check_record(record, event, before, answers_before)
        if outcome.stale:
            assert records == [], "an old button recorded an answer"

        expected = dict(answers_before)  # the answers change only through effects
        for effect in outcome.effects:
            if isinstance(effect, RecordAnswer):
                self.log.append(copy.deepcopy(effect))
                expected[effect.question_id] = AnswerView(effect.value, effect.skipped)
            elif isinstance(effect, DeleteEverything):
                self.log.append(effect)
                expected.clear()
                assert not self.conv.consented and self.conv.state == "welcome"
        assert self.answers == expected, "the engine changed its input answers"
        for message in self.chat.messages[shown_before:]:
            self.check_screen(message)
        for reply in outcome.replies:
            check_shown(reply)
        for effect in outcome.effects:
            if isinstance(effect, RecordAnswer):  # what is stored can be encrypted
                json.dumps(effect.value, ensure_ascii=False).encode()
        return outcome

    def check_moves(self, state_before: str) -> None:
        """Every state change is an edge of the diagram `flows diagram` prints, and the
        state the conversation ends in is where the last move went (no state set by hand)."""
        moves = self.chat.engine_only.moves  # type: ignore[union-attr]
        for source, dest, trigger in moves:
            assert (source, dest, trigger) in DIAGRAM_EDGES, f"{source} -> {dest} ({trigger})"
        expected = moves[-1][1] if moves else state_before
        if state_before not in DIAGRAM_STATES:  # a stored state an older version had
            expected = moves[-1][1] if moves else self.conv.state
        assert self.conv.state == expected, f"{state_before} -> {self.conv.state} without a move"
        SEEN_EDGES.update(moves)

    def check_record(
        self,
        record: RecordAnswer,
        event: Event,
        before: Conversation,
        answers_before: dict[str, AnswerView],
    ) -> None:
        """An answer belongs to the question that was on screen when the event came in."""
        assert before.consented, "an answer before consent"
        assert before.state == "question"
        assert record.question_id == before.question, (
            f"answer for {record.question_id} while {before.question} was on screen"
        )
        question = FLOW.question(record.question_id)
        assert question is not None and question.is_asked
        assert progress.applies(question, answers_before), "an answer to a question that is hidden"
        value = record.value
        if isinstance(event, Choice):
            # A button of this same question counts, even from an earlier message of it.
            assert event.question_id == before.question
        elif isinstance(event, Text):
            assert len(event.text.strip()) > 0 and len(event.text) <= MAX_TEXT
        elif isinstance(event, Media):
            assert event.kind is MediaKind.VOICE and value == {"voice": event.ref}
            assert question.type is QuestionType.TEXT
        else:
            raise AssertionError(f"{type(event).__name__} recorded an answer")
        if record.skipped:
            assert value == {}
            return
        options = [o.id for o in question.options]
        if question.type in (QuestionType.CHOICE, QuestionType.YESNO):
            assert value == {"option": value["option"]} and value["option"] in options
            if isinstance(event, Choice):
                assert value["option"] == event.option_id
        elif question.type is QuestionType.MULTI:
            chosen = value["options"]
            assert chosen and len(set(chosen)) == len(chosen)
            assert chosen == [o for o in options if o in chosen]  # flow order
        elif question.type is QuestionType.SCALE:
            assert value == {"value": value["value"]} and 1 <= value["value"] <= 5
        elif question.type is QuestionType.TEXT:
            if "text" in value:
                assert isinstance(event, Text)
                assert value == {"text": whole(event.text).strip()}
        elif question.type is QuestionType.PERSON:
            assert value["name"]
            assert value["relation"] in (*options, None)
            # the relation may be left out (skipped after the name), never invented
            assert (
                value["relation"] is not None
                or "relation_text" not in value
                or value["relation_text"]
            )

    def check_screen(self, message: Message) -> None:
        """What the person sees agrees with the answers kept so far."""
        buttons = message.flat_buttons
        if not buttons:
            return
        screen = buttons[0].screen
        if screen == "menu":
            # every topic once; a just-finished topic's successor may lead ("Volgende: …")
            assert sorted(b.option for b in buttons) == sorted(t.id for t in FLOW.topics)
            assert not any(b.label.startswith("Volgende: ") for b in buttons[1:])
            by_id = {b.option: b for b in buttons}
            for topic in FLOW.topics:
                button = by_id[topic.id]
                if button.label.startswith("Volgende: "):
                    button = replace(button, label=button.label.removeprefix("Volgende: "))
                    assert not progress.topic_progress(topic, self.answers).complete
                item = progress.topic_progress(topic, self.answers)
                title = button.label.removeprefix("✓ ").split(" · ")[0]
                if item.complete:
                    assert button.label == f"✓ {title}"
                elif item.started:
                    assert button.label == f"{title} · {item.done}/{item.total}"
                else:
                    assert button.label == title
        question = FLOW.question(screen)
        if question is not None and question.is_asked and self.conv.locale == "nl":
            shows = (
                "Uw antwoord tot nu toe" in message.text or "eerder overgeslagen" in message.text
            )
            assert shows == (screen in self.answers), message.text

    def fold(self) -> dict[str, AnswerView]:
        folded: dict[str, AnswerView] = {}
        for item in self.log:
            if isinstance(item, DeleteEverything):
                folded.clear()
            else:
                folded[item.question_id] = AnswerView(item.value, item.skipped)
        return folded


def whole(text: str) -> str:
    """Typed text as the engine keeps it: half a character becomes U+FFFD, nothing else
    changes (no character of what was typed is dropped)."""
    return HALF_CHARACTER.sub("\ufffd", text)


def check_shown(reply: Reply) -> None:
    """Every reply is text a screen can show: a non-empty message, no half characters."""
    texts = [getattr(reply, "text", ""), getattr(reply, "caption", "")]
    if isinstance(reply, Message):
        assert reply.text.strip() or reply.buttons, "an empty message"
        texts += [b.label for b in reply.flat_buttons]
        assert all(b.label.strip() for b in reply.flat_buttons), "a button without a label"
    for text in texts:
        text.encode()  # raises on a lone surrogate


async def play(harness: Harness, actions: list[tuple[Any, ...]]) -> None:
    for action in actions:
        await harness.step(harness.event_for(action))


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=10, max_size=80))
def test_random_conversations_never_crash_or_misplace_an_answer(
    actions: list[tuple[Any, ...]],
) -> None:
    harness = Harness(ENGINE)
    asyncio.run(play(harness, actions))
    assert harness.answers == harness.fold()


CONSENTED = [("start",), ("press", 0), ("press", 0), ("text", "Anna")]


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=10, max_size=80))
def test_random_conversations_after_consent(actions: list[tuple[Any, ...]]) -> None:
    """The same rules, starting at the menu, so the questions themselves get most events."""
    harness = Harness(ENGINE)
    asyncio.run(play(harness, CONSENTED))
    assert harness.conv.state == "menu"
    asyncio.run(play(harness, actions))
    assert harness.answers == harness.fold()


@functools.cache
def waiting_at(question_id: str) -> tuple[Conversation, dict[str, AnswerView]]:
    """A conversation with the question on screen, made once: every example then costs
    one engine call."""

    async def walk() -> ChatDriver:
        chat = await ChatDriver.on_engine(ENGINE).ready()
        topic = next(t for t in FLOW.topics if any(q.id == question_id for q in t.questions))
        await chat.press(topic.id)
        await chat.press(chat.message.flat_buttons[0] if chat.message else "begin")
        return chat

    chat = asyncio.run(walk())
    assert chat.conv.question == question_id, chat.said
    return chat.conv, dict(chat.answers)


IDS = {"user_id": "7", "chat_id": "7", "event_id": "t1"}


def typed(text: str) -> Text:
    return Text(text=text, **IDS)


ANSWER_TEXTS = st.one_of(ODD_TEXTS, ODD_TEXTS, LONG_TEXTS).map(lambda odd: f"Thuis {odd}")


@hsettings(max_examples=150, deadline=None)
@given(ANSWER_TEXTS)
def test_every_typed_character_is_kept_in_a_text_answer(text: str) -> None:
    """Whatever characters come with an answer, the answer keeps all of them (half a
    character becomes U+FFFD), and the reply can be shown."""
    conv, answers = waiting_at("goede_dag")
    _, outcome = ENGINE.handle(conv, answers, typed(text))
    records = [e for e in outcome.effects if isinstance(e, RecordAnswer)]
    assert records == [RecordAnswer("goede_dag", {"text": whole(text).strip()})]
    for reply in outcome.replies:
        check_shown(reply)


@hsettings(max_examples=100, deadline=None)
@given(ODD_TEXTS.map(lambda odd: f"Jan {odd}"))
def test_a_typed_name_keeps_its_characters(name: str) -> None:
    """A representative's name with odd characters is kept (runs of spaces become one),
    also when the relation is skipped after it."""
    conv, answers = waiting_at("vertegenwoordiger")
    conv, outcome = ENGINE.handle(conv, answers, typed(name))
    assert not [e for e in outcome.effects if isinstance(e, RecordAnswer)]
    for reply in outcome.replies:
        check_shown(reply)
    skip = Choice(question_id="vertegenwoordiger", option_id="_skip", **IDS)
    _, outcome = ENGINE.handle(conv, answers, skip)
    records = [e for e in outcome.effects if isinstance(e, RecordAnswer)]
    kept = " ".join(whole(name).split())[: MAX_NAME * 2]  # spaces collapsed, as designed
    assert len(records) == 1 and records[0].value["name"] == kept


# -- the same through the service and a real database ----------------------------------------


def screens(replies: list[Any]) -> list[Message]:
    return [r for r in replies if isinstance(r, Message) and not r.lasting]


def settings_in(folder: str, data_key: str) -> Any:
    return load_settings(
        database_url=f"sqlite+aiosqlite:///{folder}/tijdig.db",
        data_key=data_key,
        flows_dir=DEMO_FLOWS,
        _env_file=None,
    )


@functools.cache
def migrated_template() -> tuple[str, str]:
    """A database at the newest schema and its key, made once per test run: every example
    starts from a copy of it, because migrating (a second each) is not what is tested."""
    folder, data_key = tempfile.mkdtemp(prefix="tijdig-template-"), new_key_text()

    async def make() -> None:
        await (await Runtime.create(settings_in(folder, data_key))).close()

    asyncio.run(make())
    return folder, data_key


async def replay_through_service(actions: list[tuple[Any, ...]], folder: str) -> None:
    """`folder` holds a copy of the migrated template (made outside the event loop)."""
    settings = settings_in(folder, migrated_template()[1])
    runtime = await Runtime.create(settings)
    try:
        service = ConversationService(runtime)
        mirror = Harness(runtime.engine)
        for action in actions:
            event = mirror.event_for(action)
            handled = await service.handle("test", event)
            outcome = await mirror.step(event)
            if any(isinstance(e, DeleteEverything) for e in outcome.effects):
                # the service forgets the person; their next event starts a new one
                mirror.chat.engine_only.conv = Conversation(locale=settings.default_locale)  # type: ignore[union-attr]
            # the service shows exactly the screens the engine decided on (side lists such
            # as /links are drawn from what only the service can fetch)
            assert screens(handled.replies) == screens(outcome.replies)
        async with runtime.sessions() as session:
            repo = Repository(session, runtime.cipher)
            participant = await repo.find_participant("test", "7")
            stored = {}
            if participant is not None:
                stored = answer_views(await repo.latest_answers(participant.person_id))
            rows = len((await session.execute(Answer.__table__.select())).all())
            history = await repo.answer_history(participant.person_id) if participant else []
        assert stored == mirror.fold()
        assert rows == len(history), "answers of an erased person are left behind"
        recorded_since_delete = list(
            itertools.takewhile(lambda e: not isinstance(e, DeleteEverything), reversed(mirror.log))
        )
        assert len(history) == len(recorded_since_delete)
    finally:
        await runtime.close()


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=5, max_size=40))
def test_the_database_holds_what_the_engine_decided(actions: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(migrated_template()[0], folder, dirs_exist_ok=True)
        asyncio.run(replay_through_service([*CONSENTED, *actions], folder))
