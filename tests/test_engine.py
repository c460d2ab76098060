"""The conversation engine on the demo flow, driven like a person would drive it.

Why: the engine is where every rule about what a person sees and what gets stored lives.
These tests talk to `Engine.handle` the way a channel does (events in, replies and effects
out) and keep the answers the way the service does (applying `RecordAnswer` effects), so a
failure here reads as "a person pressing X would see Y / lose Z".
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from bot.content.loader import load_flows
from bot.engine import (
    AnswerView,
    Choice,
    Command,
    Conversation,
    Engine,
    Event,
    Media,
    MediaKind,
    Outcome,
    Start,
    Text,
)
from bot.engine.replies import (
    Button,
    DeleteEverything,
    Message,
    Notice,
    RecordAnswer,
    RecordConsent,
    SetProfile,
    ShowSummary,
)
from bot.i18n import LOCALES_DIR, translator

DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]


def make_engine() -> Engine:
    """The demo flow with Dutch and English offered (English falls back to Dutch texts
    until the catalog exists, so the language switch can be tested either way)."""
    flow = load_flows(DEMO_FLOWS)["demo"]
    return Engine(flow, translator, LANGUAGES)


class Driver:
    """Talks to the engine like a channel and keeps answers like the service does."""

    def __init__(self, engine: Engine, conversation: Conversation | None = None) -> None:
        self.engine = engine
        self.conv = conversation or Conversation()
        self.answers: dict[str, AnswerView] = {}
        self.outcome = Outcome()
        self.message: Message | None = None
        self.messages: list[Message] = []
        self._ids = itertools.count(1)

    # -- sending -------------------------------------------------------------------------
    def ids(self) -> dict[str, str]:
        return {"user_id": "42", "chat_id": "42", "event_id": f"e{next(self._ids)}"}

    def send(self, event: Event) -> Outcome:
        self.conv, self.outcome = self.engine.handle(self.conv, self.answers, event)
        for effect in self.outcome.effects:
            if isinstance(effect, RecordAnswer):
                self.answers[effect.question_id] = AnswerView(effect.value, effect.skipped)
            elif isinstance(effect, DeleteEverything):
                self.answers.clear()
        for reply in self.outcome.replies:
            if isinstance(reply, Message):
                self.message = reply
                self.messages.append(reply)
        return self.outcome

    def start(self, payload: str | None = None) -> Outcome:
        return self.send(Start(payload=payload, **self.ids()))

    def say(self, text: str) -> Outcome:
        return self.send(Text(text=text, **self.ids()))

    def command(self, name: str, args: str = "") -> Outcome:
        return self.send(Command(name=name, args=args, **self.ids()))

    def media(self, kind: MediaKind, ref: str = "file-1") -> Outcome:
        return self.send(Media(kind=kind, ref=ref, **self.ids()))

    def button(self, label_or_option: str) -> Button:
        """A button of the last message, by its label or option id (a menu label's ✓ mark
        and progress are ignored)."""
        assert self.message is not None, "no message with buttons yet"
        for button in self.message.flat_buttons:
            bare = button.label.removeprefix("✓ ").split(" · ")[0]
            if label_or_option in (button.label, bare, button.option):
                return button
        raise AssertionError(f"no button {label_or_option!r} in {self.buttons}")

    def press(self, label_or_option: str | Button) -> Outcome:
        button = (
            label_or_option if isinstance(label_or_option, Button) else self.button(label_or_option)
        )
        return self.send(
            Choice(
                question_id=button.screen,
                revision=button.revision,
                option_id=button.option,
                **self.ids(),
            )
        )

    # -- reading ---------------------------------------------------------------------------
    @property
    def last_text(self) -> str:
        assert self.message is not None
        return self.message.text

    @property
    def buttons(self) -> list[str]:
        return [b.label for b in self.message.flat_buttons] if self.message else []

    @property
    def notices(self) -> list[str]:
        return [r.text for r in self.outcome.replies if isinstance(r, Notice)]

    @property
    def said(self) -> str:
        """Everything the last event showed, in order."""
        return "\n".join(r.text for r in self.outcome.replies if isinstance(r, Message | Notice))

    @property
    def recorded(self) -> list[RecordAnswer]:
        return [e for e in self.outcome.effects if isinstance(e, RecordAnswer)]

    # -- getting somewhere -------------------------------------------------------------------
    def ready(self, mode: str = "Ik vul het zelf in", name: str = "Anna") -> Driver:
        self.start()
        self.press("Ja, ik doe mee")
        self.press(mode)
        self.say(name)
        assert self.conv.state == "menu"
        return self

    def open_topic(self, title: str) -> Driver:
        self.press(title)
        self.press("begin")
        assert self.conv.state == "question", self.said
        return self


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


@pytest.fixture
def bot(engine: Engine) -> Driver:
    return Driver(engine)


@pytest.fixture
def wonen(engine: Engine) -> Driver:
    """Consented, profile done, at the first question of "Wonen"."""
    return Driver(engine).ready().open_topic("Wonen")


WOONPLEK = "Waar wilt u het liefst wonen als u ouder wordt?"
VERHUIZEN = "Denkt u erover om te verhuizen?"
WAARHEEN = "Waar zou u naartoe willen?"
GOEDE_DAG = "Hoe ziet een goede dag er voor u uit?"


# -- consent ---------------------------------------------------------------------------------


def test_start_asks_consent_before_anything_else(bot: Driver) -> None:
    bot.start()
    assert "Wilt u meedoen?" in bot.last_text
    assert "versleuteld" in bot.last_text
    assert bot.buttons == ["Ja, ik doe mee", "Nee, liever niet", "Meer over privacy"]
    assert bot.outcome.effects == []


def test_nothing_is_recorded_before_consent(bot: Driver) -> None:
    bot.start()
    attempts = [
        lambda: bot.say("In mijn eigen huis"),
        lambda: bot.say("Anna"),
        lambda: bot.command("samenvatting"),
        lambda: bot.command("overzicht"),
        lambda: bot.command("mijngegevens"),
        lambda: bot.media(MediaKind.VOICE),
        lambda: bot.send(
            Choice(question_id="woonplek", revision=0, option_id="thuis", **bot.ids())
        ),
        lambda: bot.send(
            Choice(
                question_id="woonplek", revision=bot.conv.revision, option_id="thuis", **bot.ids()
            )
        ),
    ]
    for attempt in attempts:
        outcome = attempt()
        assert outcome.effects == [], bot.said
        assert bot.conv.state == "consent"
        assert "Wilt u meedoen?" in bot.last_text
    assert bot.answers == {}
    assert not bot.conv.consented


def test_typed_ja_gives_consent(bot: Driver) -> None:
    bot.start()
    bot.say("ja")
    assert bot.outcome.effects == [RecordConsent()]
    assert bot.conv.consented
    assert "Wie vult dit in?" in bot.last_text


def test_declining_erases_everything_and_says_so_kindly(bot: Driver) -> None:
    bot.start()
    bot.press("Nee, liever niet")
    assert bot.outcome.effects == [DeleteEverything()]
    assert any("Er is niets van u bewaard" in n for n in bot.notices)
    assert bot.conv.state == "welcome"
    assert not bot.conv.consented
    bot.start()
    assert "Wilt u meedoen?" in bot.last_text


def test_privacy_button_explains_and_asks_again(bot: Driver) -> None:
    bot.start()
    bot.press("Meer over privacy")
    assert "versleuteld" in bot.notices[0]
    assert "/verwijderen" in bot.notices[0]
    assert bot.outcome.effects == []
    assert "Wilt u meedoen?" in bot.last_text


# -- profile ---------------------------------------------------------------------------------


def test_who_fills_in_and_name(bot: Driver) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    assert bot.buttons == ["Ik vul het zelf in", "Samen met iemand", "Voor iemand anders"]
    bot.press("Samen met iemand")
    assert "Hoe mag ik u noemen?" in bot.last_text
    bot.say("  Anna   de Vries ")
    assert bot.outcome.effects == [SetProfile(mode="together", name="Anna de Vries")]
    assert "Dank u wel, Anna de Vries." in bot.notices
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text


def test_no_name_is_fine(bot: Driver) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    bot.say("zelf")
    bot.press("Liever niet")
    assert bot.outcome.effects == [SetProfile(mode="alone", name=None)]
    assert bot.conv.state == "menu"


def test_filling_in_for_someone_else_names_them_on_every_question(bot: Driver) -> None:
    bot.ready(mode="Voor iemand anders", name="mijn moeder")
    bot.open_topic("Wonen")
    assert bot.last_text.startswith("Vraag 1 van 3 · Wonen · voor mijn moeder")


# -- menu and progress ------------------------------------------------------------------------


def test_menu_shows_progress(wonen: Driver) -> None:
    wonen.press("In mijn eigen huis")
    wonen.press("Later")
    assert "U heeft 0 van de 3 onderwerpen gehad." in wonen.last_text
    assert wonen.buttons == ["Wat voor u belangrijk is", "Wonen · 1/3", "Het levenseinde"]
    wonen.open_topic("Wonen")
    wonen.press("Nee")
    wonen.press("Verder")
    assert "Klaar: Wonen. Dank u wel!" in wonen.notices
    assert "U heeft 1 van de 3 onderwerpen gehad." in wonen.last_text
    assert "✓ Wonen" in wonen.buttons


def test_progress_count_only_shrinks_as_answers_rule_questions_out(wonen: Driver) -> None:
    # the follow-up question may still apply, so it is counted until "Nee" rules it out
    assert wonen.last_text.startswith("Vraag 1 van 3 · Wonen")
    assert WOONPLEK in wonen.last_text
    wonen.press("thuis")
    assert wonen.last_text.startswith("Vraag 2 van 3 · Wonen")
    wonen.press("Ja")
    assert wonen.last_text.startswith("Vraag 3 van 3 · Wonen")
    wonen.press("Terug")
    wonen.press("Nee")
    wonen.press("Terug")
    assert wonen.last_text.startswith("Vraag 2 van 2 · Wonen")


def test_intro_tells_how_far_a_started_topic_is(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.press("Later")
    wonen.press("Wonen")
    assert "U heeft 1 van de 3 vragen al beantwoord." in wonen.last_text


# -- choice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "option"),
    [
        ("2", "aangepast"),
        ("In een aangepaste woning", "aangepast"),
        ("in een AANGEPASTE woning!", "aangepast"),
        ("thuis", "thuis"),
        ("Hier", "thuis"),
        ("Weet ik nog niet", "weet_niet"),
        ("weet ik niet", "weet_niet"),  # a close match
        ("waar zorg is", "zorg"),
    ],
)
def test_choice_by_typing(wonen: Driver, typed: str, option: str) -> None:
    wonen.say(typed)
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": option})]
    assert VERHUIZEN in wonen.last_text


def test_choice_by_button(wonen: Driver) -> None:
    wonen.press("Waar zorg is")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "zorg"})]
    assert wonen.outcome.echo == "Waar zorg is"
    assert not wonen.outcome.stale
    assert VERHUIZEN in wonen.last_text


def test_yesno_by_typing_ja(wonen: Driver) -> None:
    wonen.press("thuis")
    assert wonen.buttons[:3] == ["Ja", "Nee", "Weet ik nog niet"]
    wonen.say("ja")
    assert wonen.recorded == [RecordAnswer("verhuizen", {"option": "ja"})]


@pytest.mark.parametrize("typed", ["misschien een flat", "9", "0", "???", "ja"])
def test_unrecognised_text_gets_a_kind_reask_and_records_nothing(wonen: Driver, typed: str) -> None:
    before = wonen.conv
    wonen.say(typed)
    assert wonen.outcome.effects == []
    assert any("Ik begrijp uw antwoord niet helemaal" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text
    assert wonen.conv.question == before.question == "woonplek"


def test_empty_text_just_asks_again(wonen: Driver) -> None:
    wonen.say("   ")
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text


# -- other question types -------------------------------------------------------------------


def test_scale(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.say("Een rustig ontbijt")
    assert "Wat vindt u belangrijker?" in bot.last_text
    assert "1 = Zo lang mogelijk leven\n5 = Kwaliteit van leven" in bot.last_text
    assert bot.message is not None
    assert [b.label for b in bot.message.buttons[0]] == ["1", "2", "3", "4", "5"]
    bot.press("4")
    assert bot.recorded == [RecordAnswer("levenskwaliteit", {"value": 4})]
    bot.press("Terug")
    assert "Uw antwoord tot nu toe: 4" in bot.last_text
    bot.say("2")
    assert bot.recorded == [RecordAnswer("levenskwaliteit", {"value": 2})]


@pytest.fixture
def hobby(engine: Engine) -> Driver:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.press("Overslaan")
    bot.press("Overslaan")
    assert "Wat doet u graag?" in bot.last_text
    return bot


def test_multi_typed_numbers_then_klaar(hobby: Driver) -> None:
    hobby.say("1, 3")
    assert hobby.outcome.effects == []
    assert hobby.message is not None and hobby.message.redraw
    assert hobby.buttons[:4] == ["✓ Wandelen", "Lezen", "✓ Muziek", "Klaar"]
    hobby.press("Klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["wandelen", "muziek"]})]
    assert "Klaar: Wat voor u belangrijk is. Dank u wel!" in hobby.notices


def test_multi_buttons_toggle_and_keep_flow_order(hobby: Driver) -> None:
    hobby.press("Muziek")
    hobby.press("Lezen")
    hobby.press("Wandelen")
    hobby.press("Wandelen")  # pressed again: off
    assert hobby.outcome.effects == []
    hobby.say("klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["lezen", "muziek"]})]


def test_multi_typed_words(hobby: Driver) -> None:
    hobby.say("wandelen en lezen")
    hobby.press("Klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["wandelen", "lezen"]})]


def test_multi_klaar_with_nothing_chosen(hobby: Driver) -> None:
    hobby.press("Klaar")
    assert hobby.outcome.effects == []
    assert "Kies er minstens één, of kies 'Overslaan'." in hobby.notices
    assert "Wat doet u graag?" in hobby.last_text


def test_text_answer(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    assert GOEDE_DAG in bot.last_text
    bot.say("Koffie met mijn buurvrouw, daarna de krant.")
    assert bot.recorded == [
        RecordAnswer("goede_dag", {"text": "Koffie met mijn buurvrouw, daarna de krant."})
    ]


@pytest.fixture
def person(engine: Engine) -> Driver:
    bot = Driver(engine).ready()
    bot.press("Het levenseinde")
    assert "Wilt u hier nu over praten?" in bot.last_text
    assert bot.buttons == ["Ja, we beginnen", "Nu liever niet"]
    bot.press("Ja, we beginnen")
    assert "Wie beslist voor u" in bot.last_text
    assert "Wat is de naam?" in bot.last_text
    return bot


def test_person_name_relation_phone(person: Driver) -> None:
    person.say("Jan Jansen")
    assert person.outcome.effects == []
    assert "Wat is deze persoon van u?" in person.last_text
    assert person.buttons[:4] == ["Partner", "Zoon", "Dochter", "Anders"]
    person.press("Zoon")
    assert person.outcome.effects == []
    assert "Wat is het telefoonnummer?" in person.last_text
    person.say("bel me maar")
    assert person.outcome.effects == []
    assert any("Dat lijkt geen telefoonnummer" in n for n in person.notices)
    assert "Wat is het telefoonnummer?" in person.last_text
    person.say("06-12345678")
    assert person.recorded == [
        RecordAnswer(
            "vertegenwoordiger", {"name": "Jan Jansen", "relation": "zoon", "phone": "06-12345678"}
        )
    ]
    assert "Staat u in het donorregister?" in person.last_text


def test_person_without_phone_and_own_relation_word(person: Driver) -> None:
    person.say("Truus")
    person.say("buurvrouw")
    assert "Wat is het telefoonnummer?" in person.last_text
    person.press("Weet ik niet")
    assert person.recorded == [
        RecordAnswer(
            "vertegenwoordiger",
            {"name": "Truus", "relation": None, "phone": None, "relation_text": "buurvrouw"},
        )
    ]


def test_person_typed_weet_ik_niet_for_phone(person: Driver) -> None:
    person.say("Truus")
    person.say("2")
    person.say("weet ik niet")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Truus", "relation": "zoon", "phone": None})
    ]


def test_person_typo_of_overslaan_at_phone_skips(person: Driver) -> None:
    """A close match to a control word at the phone step does what the word says."""
    person.say("Truus")
    person.press("Dochter")
    person.say("overslan")
    assert person.recorded == [RecordAnswer("vertegenwoordiger", {}, skipped=True)]


def test_person_back_goes_one_step_back(person: Driver) -> None:
    person.say("Truus")
    person.press("Dochter")
    person.press("Terug")
    assert "Wat is deze persoon van u?" in person.last_text
    person.press("Partner")
    person.press("Weet ik niet")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Truus", "relation": "partner", "phone": None})
    ]


def test_yesno_and_sensitive_topic_done(person: Driver) -> None:
    person.press("Overslaan")
    assert person.buttons[:3] == ["Ja", "Nee", "Weet ik nog niet"]
    person.say("nee")
    assert person.recorded == [RecordAnswer("donor", {"option": "nee"})]
    assert "Klaar: Het levenseinde. Dank u wel!" in person.notices


def test_sensitive_topic_can_be_declined(engine: Engine) -> None:
    bot = Driver(engine).ready()
    bot.press("Het levenseinde")
    bot.press("Nu liever niet")
    assert bot.outcome.effects == []
    assert bot.conv.state == "menu"


def test_info_is_shown_with_verder_and_records_nothing(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.press("Nee")
    assert "Uw gemeente kan helpen" in wonen.last_text
    assert wonen.buttons == ["Verder", "Terug"]
    assert not wonen.last_text.startswith("Vraag")
    wonen.press("Verder")
    assert wonen.outcome.effects == []
    assert wonen.conv.state == "menu"


def test_follow_up_question_only_after_ja(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.press("Nee")
    assert WAARHEEN not in wonen.last_text
    wonen.press("Terug")
    assert VERHUIZEN in wonen.last_text
    wonen.press("Ja")
    assert WAARHEEN in wonen.last_text
    wonen.say("Naar Deventer")
    assert wonen.recorded == [RecordAnswer("verhuizen_waarheen", {"text": "Naar Deventer"})]


# -- skip, later, back, explain ---------------------------------------------------------------


def test_skip_is_recorded_as_skipped_and_not_asked_again(wonen: Driver) -> None:
    wonen.press("Overslaan")
    assert wonen.recorded == [RecordAnswer("woonplek", {}, skipped=True)]
    assert VERHUIZEN in wonen.last_text
    wonen.press("Later")
    wonen.open_topic("Wonen")
    assert VERHUIZEN in wonen.last_text
    wonen.press("Terug")
    assert "Deze vraag heeft u eerder overgeslagen." in wonen.last_text


def test_later_parks_the_topic_and_shows_the_menu(wonen: Driver) -> None:
    wonen.press("Later")
    assert wonen.outcome.effects == []
    assert "Goed, dit onderwerp bewaren we voor later." in wonen.notices
    assert wonen.conv.state == "menu"
    assert wonen.conv.parked == ["wonen"]
    assert "Kies een onderwerp" in wonen.last_text


def test_back_shows_the_previous_question_with_the_answer_so_far(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.press("Terug")
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text
    assert "Uw antwoord tot nu toe: In mijn eigen huis" in wonen.last_text
    wonen.press("Waar zorg is")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "zorg"})]
    assert wonen.answers["woonplek"].value == {"option": "zorg"}
    assert VERHUIZEN in wonen.last_text


def test_back_from_the_first_question_goes_to_the_intro(wonen: Driver) -> None:
    wonen.say("terug")
    assert wonen.conv.state == "intro"
    assert "Waar wilt u oud worden?" in wonen.last_text


def test_explain_shows_help_and_changes_nothing(wonen: Driver) -> None:
    before = wonen.conv
    old = wonen.button("thuis")
    wonen.press("Uitleg")
    assert wonen.outcome.effects == []
    assert wonen.notices == ["Denk aan uw huis nu, een aangepaste woning of een verzorgingshuis."]
    assert WOONPLEK in wonen.last_text
    assert wonen.conv == before
    wonen.press(old)  # the buttons shown before the explanation still work
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "thuis"})]


def test_no_explain_button_without_help(wonen: Driver) -> None:
    assert "Uitleg" in wonen.buttons
    wonen.press("thuis")
    assert "Uitleg" not in wonen.buttons


# -- old buttons and repeats --------------------------------------------------------------------


def test_old_button_never_records(wonen: Driver) -> None:
    old = wonen.button("thuis")
    wonen.press("zorg")
    wonen.press(old)
    assert wonen.outcome.stale
    assert wonen.outcome.effects == []
    assert "Deze vraag is al beantwoord. Hier zijn we nu:" in wonen.notices
    assert VERHUIZEN in wonen.last_text
    assert wonen.answers["woonplek"].value == {"option": "zorg"}


def test_double_press_records_once(wonen: Driver) -> None:
    button = wonen.button("thuis")
    wonen.press(button)
    wonen.press(button)
    assert wonen.outcome.stale
    assert wonen.outcome.effects == []
    assert len(wonen.answers) == 1


def test_button_of_another_screen_never_records(wonen: Driver) -> None:
    # a menu button kept from before the topic was opened
    menu_button = next(b for m in wonen.messages for b in m.flat_buttons if b.screen == "menu")
    wonen.press(menu_button)
    assert wonen.outcome.stale and wonen.outcome.effects == []
    # a forged press: right revision, another question
    wonen.send(
        Choice(
            question_id="verhuizen",
            revision=wonen.conv.revision,
            option_id="ja",
            **wonen.ids(),
        )
    )
    assert wonen.outcome.stale and wonen.outcome.effects == []
    # right screen, an option that is not on it
    wonen.send(
        Choice(question_id="woonplek", revision=wonen.conv.revision, option_id="ja", **wonen.ids())
    )
    assert wonen.outcome.stale and wonen.outcome.effects == []
    assert "Die knop hoort bij een eerder bericht. Hier zijn we nu:" in wonen.notices
    assert wonen.answers == {}
    assert WOONPLEK in wonen.last_text


def test_old_scale_button_after_going_back_does_not_answer_the_new_screen(
    engine: Engine,
) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.say("Fietsen")
    three = bot.button("3")
    bot.press("Terug")  # back at the text question
    bot.press(three)
    assert bot.outcome.stale and bot.outcome.effects == []
    assert "levenskwaliteit" not in bot.answers


# -- long text, media ----------------------------------------------------------------------


def test_too_long_text_gets_a_kind_message_and_records_nothing(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.say("a" * 10_001)
    assert bot.outcome.effects == []
    assert any("te lang" in n and "10001" in n for n in bot.notices)
    assert GOEDE_DAG in bot.last_text


def test_long_text_is_stored_verbatim(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    text = ("Wandelen langs de IJssel met de hond, “koffie” met één koekje 🍪. " * 80)[:5000]
    text = text.strip()
    bot.say(text)
    assert bot.recorded == [RecordAnswer("goede_dag", {"text": text})]


def test_text_at_the_limit_is_kept(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.say("b" * 10_000)
    assert bot.recorded == [RecordAnswer("goede_dag", {"text": "b" * 10_000})]


@pytest.mark.parametrize(
    ("kind", "name"), [(MediaKind.STICKER, "een sticker"), (MediaKind.PHOTO, "een foto")]
)
def test_media_gets_a_kind_reply_and_the_question_again(
    wonen: Driver, kind: MediaKind, name: str
) -> None:
    wonen.media(kind)
    assert wonen.outcome.effects == []
    assert any(f"Dank u wel voor {name}!" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text


def test_voice_note_answers_a_text_question(engine: Engine) -> None:
    bot = Driver(engine).ready().open_topic("Wat voor u belangrijk is")
    bot.media(MediaKind.VOICE, ref="voice-77")
    assert bot.recorded == [RecordAnswer("goede_dag", {"voice": "voice-77"})]
    assert "Wat vindt u belangrijker?" in bot.last_text
    bot.press("Terug")
    assert "Uw antwoord tot nu toe: een ingesproken bericht" in bot.last_text


def test_voice_note_on_a_button_question_is_not_an_answer(wonen: Driver) -> None:
    wonen.media(MediaKind.VOICE)
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text


# -- commands ----------------------------------------------------------------------------------


def test_summary_before_consent(bot: Driver) -> None:
    bot.start()
    bot.command("samenvatting")
    assert bot.outcome.effects == []
    assert "Eerst vraag ik of u mee wilt doen." in bot.notices
    assert "Wilt u meedoen?" in bot.last_text


def test_summary_command_shows_summary_then_the_question(wonen: Driver) -> None:
    wonen.command("samenvatting")
    kinds = [type(item) for item in wonen.outcome.items]
    assert kinds == [ShowSummary, Message]
    assert WOONPLEK in wonen.last_text


def test_overview_during_profile_finishes_the_profile_first(bot: Driver) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    bot.command("overzicht")
    assert "Eerst nog even dit:" in bot.notices
    assert "Wie vult dit in?" in bot.last_text
    assert bot.conv.state == "who"


def test_profile_command_while_choosing_who_just_asks_again(bot: Driver) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    bot.command("profiel")
    assert bot.conv.state == "who"
    assert "Wie vult dit in?" in bot.last_text


def test_unknown_command(wonen: Driver) -> None:
    wonen.command("foo")
    assert wonen.outcome.effects == []
    assert "Dat commando ken ik niet. Met /help ziet u wat ik kan." in wonen.notices
    assert WOONPLEK in wonen.last_text


def test_delete_before_consent(bot: Driver) -> None:
    bot.start()
    bot.command("verwijderen")
    assert bot.outcome.effects == [DeleteEverything()]
    assert "Er was nog niets van u bewaard. Er staat nu niets meer." in bot.notices
    assert bot.conv.state == "welcome"


def test_stop_then_verder_returns_to_the_same_question(wonen: Driver) -> None:
    wonen.press("thuis")
    old = wonen.button("Ja")
    wonen.command("stop")
    assert wonen.conv.state == "paused"
    assert "Alles wat u heeft gezegd is bewaard" in wonen.last_text
    wonen.command("verder")
    assert wonen.conv.state == "question"
    assert VERHUIZEN in wonen.last_text
    # A button from before the pause belongs to this same, still open question: it counts.
    wonen.press(old)
    assert not wonen.outcome.stale
    assert wonen.recorded == [RecordAnswer("verhuizen", {"option": "ja"})]


def test_start_while_paused_welcomes_back(wonen: Driver) -> None:
    wonen.command("stop")
    wonen.start()
    assert any("Welkom terug" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text


def test_delete_confirmed_erases_and_starts_afresh(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.command("verwijderen")
    assert "Weet u het zeker?" in wonen.last_text
    assert wonen.outcome.effects == []
    wonen.press("Ja, verwijder alles")
    assert wonen.outcome.effects == [DeleteEverything()]
    assert any("Alles is verwijderd" in n for n in wonen.notices)
    assert wonen.conv == Conversation(locale="nl")
    assert wonen.answers == {}
    wonen.start()
    assert "Wilt u meedoen?" in wonen.last_text


def test_delete_declined_keeps_everything(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.command("verwijderen")
    wonen.press("Nee, toch niet")
    assert wonen.outcome.effects == []
    assert "Goed, er is niets verwijderd." in wonen.notices
    assert VERHUIZEN in wonen.last_text
    assert wonen.answers["woonplek"].value == {"option": "thuis"}


def test_delete_while_paused_then_no_returns_to_the_question(wonen: Driver) -> None:
    wonen.press("thuis")
    wonen.command("stop")
    wonen.command("verwijderen")
    wonen.press("Nee, toch niet")
    wonen.command("verder")
    assert VERHUIZEN in wonen.last_text


def _english_catalog_translates(message: str) -> str | None:
    if not (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").exists():
        return None
    translated = translator("en").gettext(message)
    return translated if translated != message else None


def test_taal_en_switches_to_english(wonen: Driver) -> None:
    wonen.command("taal", "en")
    assert wonen.conv.locale == "en"
    assert wonen.message is not None
    assert wonen.message.flat_buttons[0].screen == "woonplek"  # the same question again
    english = _english_catalog_translates("Goed, we gaan verder in het Nederlands.")
    if english is not None:
        assert english in wonen.notices
        header = _english_catalog_translates("Vraag {number} van {total} · {topic}")
        if header is not None:
            topic = translator("en").pgettext("demo.wonen.title", "Wonen")
            assert wonen.last_text.startswith(header.format(number=1, total=3, topic=topic))
    # the conversation keeps working in the new language
    wonen.press("thuis")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "thuis"})]
    assert wonen.conv.locale == "en"


def test_taal_without_a_code_offers_the_languages(wonen: Driver) -> None:
    wonen.command("taal")
    assert wonen.buttons == ["Nederlands", "English"]
    wonen.press("English")
    assert wonen.conv.locale == "en"
    assert wonen.conv.question == "woonplek"
    wonen.command("taal", "nl")
    assert wonen.conv.locale == "nl"
    assert "Goed, we gaan verder in het Nederlands." in wonen.notices


# -- stored state from an older flow ------------------------------------------------------------


def _stored(**changes: object) -> Conversation:
    base = Conversation(
        state="question",
        consented=True,
        mode="alone",
        name="Anna",
        topic="wonen",
        question="woonplek",
        trail=["woonplek"],
        revision=7,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_stored_question_that_no_longer_exists_falls_back_to_the_topic(engine: Engine) -> None:
    bot = Driver(engine, _stored(question="oude_vraag", trail=["woonplek", "oude_vraag"]))
    bot.start()
    assert any("Welkom terug" in n for n in bot.notices)
    assert bot.conv.state == "intro"
    assert "Waar wilt u oud worden?" in bot.last_text
    # a button of the vanished question does not answer anything
    bot.send(Choice(question_id="oude_vraag", revision=7, option_id="ja", **bot.ids()))
    assert bot.outcome.effects == []
    bot.press("Beginnen")
    assert WOONPLEK in bot.last_text


def test_stored_topic_that_no_longer_exists_falls_back_to_the_menu(engine: Engine) -> None:
    bot = Driver(engine, _stored(topic="oud_onderwerp", question="oude_vraag"))
    bot.say("ja")
    assert bot.outcome.effects == []
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text


def test_stored_state_that_no_longer_exists_falls_back(engine: Engine) -> None:
    bot = Driver(engine, _stored(state="review"))
    bot.start()
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text
    fresh = Driver(engine, Conversation(state="share"))
    fresh.start()
    assert "Wilt u meedoen?" in fresh.last_text


def test_handle_leaves_its_inputs_untouched(wonen: Driver) -> None:
    conv = wonen.conv
    snapshot = Conversation.from_dict(conv.to_dict())
    answers: dict[str, AnswerView] = {}
    wonen.engine.handle(
        conv,
        answers,
        Choice(question_id="woonplek", revision=conv.revision, option_id="thuis", **wonen.ids()),
    )
    assert conv == snapshot
    assert answers == {}


@pytest.mark.parametrize("typed", ["Liever niet", "liever niet!", "geen naam", "overslaan"])
def test_typing_the_no_name_button_is_not_a_name(bot: Driver, typed: str) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    bot.press("Ik vul het zelf in")
    bot.say(typed)
    assert bot.outcome.effects == [SetProfile(mode="alone", name=None)]
    assert not any("Dank u wel," in n for n in bot.notices)


@pytest.mark.parametrize("name", ["Lieve", "Liesbeth", "Geen", "Niet"])
def test_names_that_look_a_little_like_a_button_are_kept(bot: Driver, name: str) -> None:
    bot.start()
    bot.press("Ja, ik doe mee")
    bot.press("Ik vul het zelf in")
    bot.say(name)
    assert bot.outcome.effects == [SetProfile(mode="alone", name=name)]
