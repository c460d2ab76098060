"""The conversation engine on the demo flow, driven like a person would drive it.

Why: the engine is where every rule about what a person sees and what gets stored lives.
These tests talk to `Engine.handle` the way a channel does (events in, replies and effects
out) and keep the answers the way the service does (applying `RecordAnswer` effects), so a
failure here reads as "a person pressing X would see Y / lose Z".
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.content.loader import load_flows
from bot.engine import (
    AnswerView,
    Choice,
    Conversation,
    Engine,
    MediaKind,
)
from bot.engine.replies import (
    DeleteEverything,
    Message,
    RecordAnswer,
    RecordConsent,
    SetProfile,
    ShowSummary,
)
from bot.i18n import LOCALES_DIR, translator
from bot.testing import ChatDriver

DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
LOCALES = ("nl", "en")


def make_engine() -> Engine:
    """The demo flow with Dutch and English offered (English falls back to Dutch texts
    until the catalog exists, so the language switch can be tested either way)."""
    flow = load_flows(DEMO_FLOWS)["demo"]
    return Engine(flow, translator, LOCALES)


def driver(engine: Engine, conversation: Conversation | None = None) -> ChatDriver:
    return ChatDriver.on_engine(engine, conversation)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return make_engine()


@pytest.fixture
def bot(engine: Engine) -> ChatDriver:
    return driver(engine)


@pytest.fixture
async def wonen(engine: Engine) -> ChatDriver:
    """Consented, profile done, at the first question of "Wonen"."""
    chat = await driver(engine).ready()
    await chat.open_topic("Wonen")
    assert chat.conv.state == "question", chat.said
    return chat


WOONPLEK = "Waar wilt u het liefst wonen als u ouder wordt?"
VERHUIZEN = "Denkt u erover om te verhuizen?"
WAARHEEN = "Waar zou u naartoe willen?"
GOEDE_DAG = "Hoe ziet een goede dag er voor u uit?"


# -- consent ---------------------------------------------------------------------------------


async def test_start_asks_consent_before_anything_else(bot: ChatDriver) -> None:
    await bot.start()
    assert "Wilt u meedoen?" in bot.last_text
    assert "versleuteld" in bot.last_text
    assert bot.buttons == ["Ja, ik doe mee", "Nee, liever niet", "Meer over privacy"]
    assert bot.outcome.effects == []


async def test_nothing_is_recorded_before_consent(bot: ChatDriver) -> None:
    await bot.start()
    attempts = [
        lambda: bot.say("In mijn eigen huis"),
        lambda: bot.say("Anna"),
        lambda: bot.command("samenvatting"),
        lambda: bot.command("overzicht"),
        lambda: bot.command("mijngegevens"),
        lambda: bot.media(MediaKind.VOICE),
        lambda: bot.send(Choice(question_id="woonplek", option_id="thuis", **bot.ids())),
    ]
    for attempt in attempts:
        outcome = await attempt()
        assert outcome.effects == [], bot.said
        assert bot.conv.state == "consent"
        assert "Wilt u meedoen?" in bot.last_text
    assert bot.answers == {}
    assert not bot.conv.consented


async def test_typed_ja_gives_consent(bot: ChatDriver) -> None:
    await bot.start()
    await bot.say("ja")
    assert bot.outcome.effects == [RecordConsent()]
    assert bot.conv.consented
    assert "Wie vult dit in?" in bot.last_text


async def test_declining_erases_everything_and_says_so_kindly(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Nee, liever niet")
    assert bot.outcome.effects == [DeleteEverything()]
    assert any("Er is niets van u bewaard" in n for n in bot.notices)
    assert bot.conv.state == "welcome"
    assert not bot.conv.consented
    await bot.start()
    assert "Wilt u meedoen?" in bot.last_text


async def test_privacy_button_explains_and_asks_again(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Meer over privacy")
    assert "versleuteld" in bot.notices[0]
    assert "/verwijderen" in bot.notices[0]
    assert bot.outcome.effects == []
    assert "Wilt u meedoen?" in bot.last_text


# -- profile ---------------------------------------------------------------------------------


async def test_who_fills_in_and_name(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    assert bot.buttons == ["Ik vul het zelf in", "Samen met iemand", "Voor iemand anders"]
    await bot.press("Samen met iemand")
    assert "Wie helpt u vandaag?" in bot.last_text
    await bot.say("Els")
    assert "Wat is Els van u?" in bot.last_text
    await bot.press("Dochter")
    assert bot.conv.companion == {"name": "Els", "relation": "dochter"}
    assert "Hoe mag ik u noemen?" in bot.last_text
    await bot.say("  Anna   de Vries ")
    assert bot.outcome.effects == [SetProfile(mode="together", name="Anna de Vries")]
    assert "Dank u wel, Anna de Vries." in bot.notices
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text


async def test_no_name_is_fine(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.say("zelf")
    await bot.press("Liever niet")
    assert bot.outcome.effects == [SetProfile(mode="alone", name=None)]
    assert bot.conv.state == "menu"


async def test_filling_in_for_someone_else_names_them_on_every_question(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.press("Voor iemand anders")
    await bot.say("mijn moeder")
    # spoken to the relative, about her: "uw moeder", never "mijn moeder" back
    assert bot.notices == ["Dank u wel. We vullen het in voor uw moeder."]
    await bot.open_topic("Wonen")
    first_line = bot.last_text.splitlines()[0]
    assert first_line.startswith("Wonen · ") and first_line.endswith(" · voor uw moeder")
    # asked about her, not about "u", and never thanked as if she were here
    assert "Waar wil uw moeder het liefst wonen als uw moeder ouder wordt?" in bot.last_text
    assert "Waar wilt u het liefst wonen" not in bot.last_text
    assert "mijn moeder" not in bot.said


async def test_a_name_is_kept_as_typed_unless_it_says_my(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.press("Voor iemand anders")
    await bot.say("Mijnheer Jansen")
    assert bot.notices == ["Dank u wel. We vullen het in voor Mijnheer Jansen."]
    english = driver(bot.engine_only.engine, Conversation(locale="en"))  # type: ignore[union-attr]
    await english.start()
    await english.press("Yes, I'll take part")
    await english.press("For someone else")
    await english.say("my dad")
    assert english.notices == ["Thank you. We will fill it in for your dad."]


async def test_a_proxy_is_asked_to_answer_as_the_person_would(bot: ChatDriver) -> None:
    await bot.ready(mode="Voor iemand anders", name="mijn moeder")
    await bot.press("Het levenseinde")
    assert "Antwoord zoals uw moeder het zou zeggen." in bot.last_text
    alone = await driver(bot.engine_only.engine).ready()  # type: ignore[union-attr]
    await alone.press("Het levenseinde")
    assert "Antwoord zoals" not in alone.last_text


# -- menu and progress ------------------------------------------------------------------------


async def test_menu_shows_progress(wonen: ChatDriver) -> None:
    await wonen.press("In mijn eigen huis")
    await wonen.press("Later")
    assert "U heeft 0 van de 3 onderwerpen gehad." in wonen.last_text
    assert wonen.buttons == ["Wat voor u belangrijk is", "Wonen · 1/3", "Het levenseinde"]
    await wonen.open_topic("Wonen")
    await wonen.press("Nee")
    await wonen.press("Verder")
    assert "Klaar: Wonen. Dank u wel!" in wonen.notices
    assert "U heeft 1 van de 3 onderwerpen gehad." in wonen.last_text
    assert "✓ Wonen" in wonen.buttons


def progress_shown(chat: ChatDriver) -> tuple[int, int]:
    """(cells filled of the bar, minutes left) from the question's first line."""
    header = chat.last_text.splitlines()[0]
    match = re.search(r"([▰▱]{8}) nog ongeveer (\d+) min\.", header)
    assert match, header
    return match.group(1).count("▰"), int(match.group(2))


async def test_progress_only_moves_forward_as_answers_rule_questions_out(
    wonen: ChatDriver,
) -> None:
    """A bar that only fills and minutes that only go down: "vraag 4 van 13" after
    "vraag 1 van 14" confused people, a bar going back would too."""
    assert wonen.last_text.startswith("Wonen · ▱▱▱▱▱▱▱▱ nog ongeveer 3 min.")
    assert WOONPLEK in wonen.last_text
    seen = [progress_shown(wonen)]
    await wonen.press("thuis")
    seen.append(progress_shown(wonen))
    await wonen.press("Ja")
    seen.append(progress_shown(wonen))
    await wonen.press("Terug")
    await wonen.press("Nee")  # rules the follow-up question out
    await wonen.press("Terug")
    seen.append(progress_shown(wonen))
    assert seen == [(0, 3), (3, 2), (5, 1), (8, 1)]


async def test_after_a_topic_the_next_one_is_the_first_button(wonen: ChatDriver) -> None:
    await wonen.press("In een aangepaste woning")
    await wonen.press("Nee")
    await wonen.press("Verder")
    assert "Klaar: Wonen. Dank u wel!" in wonen.notices
    assert wonen.buttons[0] == "Volgende: Het levenseinde"
    assert wonen.buttons.count("Volgende: Het levenseinde") == 1
    assert "Het levenseinde" not in wonen.buttons[1:], "the topic is not listed twice"
    await wonen.press("Volgende: Het levenseinde")
    assert wonen.conv.state == "intro" and wonen.conv.topic == "levenseinde"


async def test_intro_tells_how_far_a_started_topic_is(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.press("Later")
    await wonen.press("Wonen")
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
async def test_choice_by_typing(wonen: ChatDriver, typed: str, option: str) -> None:
    await wonen.say(typed)
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": option})]
    assert VERHUIZEN in wonen.last_text


async def test_choice_by_button(wonen: ChatDriver) -> None:
    await wonen.press("Waar zorg is")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "zorg"})]
    assert wonen.outcome.echo == "Waar zorg is"
    assert not wonen.outcome.stale
    assert VERHUIZEN in wonen.last_text


async def test_yesno_by_typing_ja(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    assert wonen.buttons[:3] == ["Ja", "Nee", "Weet ik nog niet"]
    await wonen.say("ja")
    assert wonen.recorded == [RecordAnswer("verhuizen", {"option": "ja"})]


@pytest.mark.parametrize("typed", ["misschien een flat", "9", "0", "???", "ja"])
async def test_unrecognised_text_gets_a_kind_reask_and_records_nothing(
    wonen: ChatDriver, typed: str
) -> None:
    before = wonen.conv
    await wonen.say(typed)
    assert wonen.outcome.effects == []
    assert any("Ik begrijp uw antwoord niet helemaal" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text
    assert wonen.conv.question == before.question == "woonplek"


async def test_empty_text_just_asks_again(wonen: ChatDriver) -> None:
    await wonen.say("   ")
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text


# -- other question types -------------------------------------------------------------------


async def test_scale(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.say("Een rustig ontbijt")
    assert "Wat vindt u belangrijker?" in bot.last_text
    assert "1 = Zo lang mogelijk leven\n5 = Kwaliteit van leven" in bot.last_text
    assert bot.message is not None
    assert [b.label for b in bot.message.buttons[0]] == ["1", "2", "3", "4", "5"]
    await bot.press("4")
    assert bot.recorded == [RecordAnswer("levenskwaliteit", {"value": 4})]
    await bot.press("Terug")
    assert "Uw antwoord tot nu toe: 4" in bot.last_text
    await bot.say("2")
    assert bot.recorded == [RecordAnswer("levenskwaliteit", {"value": 2})]


@pytest.fixture
async def hobby(engine: Engine) -> ChatDriver:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.press("Overslaan")
    await bot.press("Overslaan")
    assert "Wat doet u graag?" in bot.last_text
    return bot


async def test_multi_typed_numbers_then_klaar(hobby: ChatDriver) -> None:
    await hobby.say("1, 3")
    assert hobby.outcome.effects == []
    assert hobby.message is not None and hobby.message.redraw
    assert hobby.buttons[:4] == ["✓ Wandelen", "Lezen", "✓ Muziek", "Klaar"]
    await hobby.press("Klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["wandelen", "muziek"]})]
    assert "Klaar: Wat voor u belangrijk is. Dank u wel!" in hobby.notices


async def test_multi_buttons_toggle_and_keep_flow_order(hobby: ChatDriver) -> None:
    await hobby.press("Muziek")
    await hobby.press("Lezen")
    await hobby.press("Wandelen")
    await hobby.press("Wandelen")  # pressed again: off
    assert hobby.outcome.effects == []
    await hobby.say("klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["lezen", "muziek"]})]


async def test_multi_typed_words(hobby: ChatDriver) -> None:
    await hobby.say("wandelen en lezen")
    await hobby.press("Klaar")
    assert hobby.recorded == [RecordAnswer("hobby", {"options": ["wandelen", "lezen"]})]


async def test_multi_klaar_with_nothing_chosen(hobby: ChatDriver) -> None:
    await hobby.press("Klaar")
    assert hobby.outcome.effects == []
    assert "Kies er minstens één, of kies 'Overslaan'." in hobby.notices
    assert "Wat doet u graag?" in hobby.last_text


async def test_text_answer(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    assert GOEDE_DAG in bot.last_text
    await bot.say("Koffie met mijn buurvrouw, daarna de krant.")
    assert bot.recorded == [
        RecordAnswer("goede_dag", {"text": "Koffie met mijn buurvrouw, daarna de krant."})
    ]


@pytest.fixture
async def person(engine: Engine) -> ChatDriver:
    bot = await driver(engine).ready()
    await bot.press("Het levenseinde")
    assert "Wilt u hier nu over praten?" in bot.last_text
    assert bot.buttons == ["Ja, we beginnen", "Nu liever niet"]
    await bot.press("Ja, we beginnen")
    assert "Wie beslist voor u" in bot.last_text
    assert "Wat is de naam?" in bot.last_text
    return bot


async def test_person_name_relation_phone(person: ChatDriver) -> None:
    await person.say("Jan Jansen")
    assert person.outcome.effects == []
    assert "Wat is deze persoon van u?" in person.last_text
    assert person.buttons[:4] == ["Partner", "Zoon", "Dochter", "Anders"]
    await person.press("Zoon")
    assert person.outcome.effects == []
    assert "Wat is het telefoonnummer?" in person.last_text
    await person.say("bel me maar")
    assert person.outcome.effects == []
    assert any("Dat lijkt geen telefoonnummer" in n for n in person.notices)
    assert "Wat is het telefoonnummer?" in person.last_text
    await person.say("06-12345678")
    assert person.recorded == [
        RecordAnswer(
            "vertegenwoordiger", {"name": "Jan Jansen", "relation": "zoon", "phone": "06-12345678"}
        )
    ]
    assert "Staat u in het donorregister?" in person.last_text


async def test_person_without_phone_and_own_relation_word(person: ChatDriver) -> None:
    await person.say("Truus")
    await person.say("buurvrouw")
    assert "Wat is het telefoonnummer?" in person.last_text
    await person.press("Weet ik niet")
    assert person.recorded == [
        RecordAnswer(
            "vertegenwoordiger",
            {"name": "Truus", "relation": None, "phone": None, "relation_text": "buurvrouw"},
        )
    ]


async def test_person_typed_weet_ik_niet_for_phone(person: ChatDriver) -> None:
    await person.say("Truus")
    await person.say("2")
    await person.say("weet ik niet")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Truus", "relation": "zoon", "phone": None})
    ]


async def test_person_typo_of_overslaan_at_phone_skips_the_phone_and_keeps_the_name(
    person: ChatDriver,
) -> None:
    """A close match to a control word at the phone step does what the word says; what
    was already given (the name, the relation) is kept, not thrown away as "skipped"."""
    await person.say("Truus")
    await person.press("Dochter")
    await person.say("overslan")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Truus", "relation": "dochter", "phone": None})
    ]


async def test_skipping_the_relation_keeps_the_typed_name(person: ChatDriver) -> None:
    await person.say("Jan de Vries")
    await person.press("Overslaan")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Jan de Vries", "relation": None, "phone": None})
    ]
    assert "Staat u in het donorregister?" in person.last_text


async def test_half_a_character_in_typed_text_is_kept_as_a_replacement(
    person: ChatDriver,
) -> None:
    """JSON can carry a lone surrogate; it could never be encrypted or shown."""
    await person.say("Jan \ud800 Jansen")
    await person.press("Overslaan")
    assert person.recorded[0].value["name"] == "Jan \ufffd Jansen"


async def test_person_back_goes_one_step_back(person: ChatDriver) -> None:
    await person.say("Truus")
    await person.press("Dochter")
    await person.press("Terug")
    assert "Wat is deze persoon van u?" in person.last_text
    await person.press("Partner")
    await person.press("Weet ik niet")
    assert person.recorded == [
        RecordAnswer("vertegenwoordiger", {"name": "Truus", "relation": "partner", "phone": None})
    ]


async def test_yesno_and_sensitive_topic_done(person: ChatDriver) -> None:
    await person.press("Overslaan")
    assert person.buttons[:3] == ["Ja", "Nee", "Weet ik nog niet"]
    await person.say("nee")
    assert person.recorded == [RecordAnswer("donor", {"option": "nee"})]
    assert "Klaar: Het levenseinde. Dank u wel!" in person.notices


async def test_sensitive_topic_can_be_declined(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.press("Het levenseinde")
    await bot.press("Nu liever niet")
    assert bot.outcome.effects == []
    assert bot.conv.state == "menu"


async def test_info_is_shown_with_verder_and_records_nothing(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.press("Nee")
    assert "Uw gemeente kan helpen" in wonen.last_text
    assert wonen.buttons == ["Verder", "Terug"]
    assert not wonen.last_text.startswith("Vraag")
    await wonen.press("Verder")
    assert wonen.outcome.effects == []
    assert wonen.conv.state == "menu"


async def test_follow_up_question_only_after_ja(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.press("Nee")
    assert WAARHEEN not in wonen.last_text
    await wonen.press("Terug")
    assert VERHUIZEN in wonen.last_text
    await wonen.press("Ja")
    assert WAARHEEN in wonen.last_text
    await wonen.say("Naar Deventer")
    assert wonen.recorded == [RecordAnswer("verhuizen_waarheen", {"text": "Naar Deventer"})]


# -- skip, later, back, explain ---------------------------------------------------------------


async def test_skip_is_recorded_as_skipped_and_not_asked_again(wonen: ChatDriver) -> None:
    await wonen.press("Overslaan")
    assert wonen.recorded == [RecordAnswer("woonplek", {}, skipped=True)]
    assert VERHUIZEN in wonen.last_text
    await wonen.press("Later")
    await wonen.open_topic("Wonen")
    assert VERHUIZEN in wonen.last_text
    await wonen.press("Terug")
    assert "Deze vraag heeft u eerder overgeslagen." in wonen.last_text


async def test_later_parks_the_topic_and_shows_the_menu(wonen: ChatDriver) -> None:
    await wonen.press("Later")
    assert wonen.outcome.effects == []
    assert "Goed, dit onderwerp bewaren we voor later." in wonen.notices
    assert wonen.conv.state == "menu"
    assert wonen.conv.parked == ["wonen"]
    assert "Kies een onderwerp" in wonen.last_text


async def test_back_shows_the_previous_question_with_the_answer_so_far(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.press("Terug")
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text
    assert "Uw antwoord tot nu toe: In mijn eigen huis" in wonen.last_text
    await wonen.press("Waar zorg is")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "zorg"})]
    assert wonen.answers["woonplek"].value == {"option": "zorg"}
    assert VERHUIZEN in wonen.last_text


async def test_back_from_the_first_question_goes_to_the_intro(wonen: ChatDriver) -> None:
    await wonen.say("terug")
    assert wonen.conv.state == "intro"
    assert "Waar wilt u oud worden?" in wonen.last_text


async def test_explain_shows_help_and_changes_nothing(wonen: ChatDriver) -> None:
    before = wonen.conv
    old = wonen.button("thuis")
    await wonen.press("Uitleg")
    assert wonen.outcome.effects == []
    assert wonen.notices == ["Denk aan uw huis nu, een aangepaste woning of een verzorgingshuis."]
    assert WOONPLEK in wonen.last_text
    assert wonen.conv == before
    await wonen.press(old)  # the buttons shown before the explanation still work
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "thuis"})]


async def test_no_explain_button_without_help(wonen: ChatDriver) -> None:
    assert "Uitleg" in wonen.buttons
    await wonen.press("thuis")
    assert "Uitleg" not in wonen.buttons


# -- old buttons and repeats --------------------------------------------------------------------


async def test_old_button_never_records(wonen: ChatDriver) -> None:
    old = wonen.button("thuis")
    await wonen.press("zorg")
    await wonen.press(old)
    assert wonen.outcome.stale
    assert wonen.outcome.effects == []
    assert "Deze vraag is al beantwoord. Hier zijn we nu:" in wonen.notices
    assert VERHUIZEN in wonen.last_text
    assert wonen.answers["woonplek"].value == {"option": "zorg"}


async def test_double_press_records_once(wonen: ChatDriver) -> None:
    button = wonen.button("thuis")
    await wonen.press(button)
    await wonen.press(button)
    assert wonen.outcome.stale
    assert wonen.outcome.effects == []
    assert len(wonen.answers) == 1


async def test_button_of_another_screen_never_records(wonen: ChatDriver) -> None:
    # a menu button kept from before the topic was opened
    menu_button = next(b for m in wonen.messages for b in m.flat_buttons if b.screen == "menu")
    await wonen.press(menu_button)
    assert wonen.outcome.stale and wonen.outcome.effects == []
    # a forged press: another question's screen
    await wonen.send(
        Choice(
            question_id="verhuizen",
            option_id="ja",
            **wonen.ids(),
        )
    )
    assert wonen.outcome.stale and wonen.outcome.effects == []
    # right screen, an option that is not on it
    await wonen.send(Choice(question_id="woonplek", option_id="ja", **wonen.ids()))
    assert wonen.outcome.stale and wonen.outcome.effects == []
    assert "Die knop hoort bij een eerder bericht. Hier zijn we nu:" in wonen.notices
    assert wonen.answers == {}
    assert WOONPLEK in wonen.last_text


async def test_old_scale_button_after_going_back_does_not_answer_the_new_screen(
    engine: Engine,
) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.say("Fietsen")
    three = bot.button("3")
    await bot.press("Terug")  # back at the text question
    await bot.press(three)
    assert bot.outcome.stale and bot.outcome.effects == []
    assert "levenskwaliteit" not in bot.answers


# -- long text, media ----------------------------------------------------------------------


async def test_too_long_text_gets_a_kind_message_and_records_nothing(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.say("a" * 10_001)
    assert bot.outcome.effects == []
    assert any("te lang" in n and "10001" in n for n in bot.notices)
    assert GOEDE_DAG in bot.last_text


async def test_long_text_is_stored_verbatim(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    text = ("Wandelen langs de IJssel met de hond, “koffie” met één koekje 🍪. " * 80)[:5000]
    text = text.strip()
    await bot.say(text)
    assert bot.recorded == [RecordAnswer("goede_dag", {"text": text})]


async def test_text_at_the_limit_is_kept(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.say("b" * 10_000)
    assert bot.recorded == [RecordAnswer("goede_dag", {"text": "b" * 10_000})]


@pytest.mark.parametrize(
    ("kind", "name"), [(MediaKind.STICKER, "een sticker"), (MediaKind.PHOTO, "een foto")]
)
async def test_media_gets_a_kind_reply_and_the_question_again(
    wonen: ChatDriver, kind: MediaKind, name: str
) -> None:
    await wonen.media(kind)
    assert wonen.outcome.effects == []
    assert any(f"Dank u wel voor {name}!" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text


async def test_voice_note_answers_a_text_question(engine: Engine) -> None:
    bot = await driver(engine).ready()
    await bot.open_topic("Wat voor u belangrijk is")
    await bot.media(MediaKind.VOICE, ref="voice-77")
    assert bot.recorded == [RecordAnswer("goede_dag", {"voice": "voice-77"})]
    assert "Wat vindt u belangrijker?" in bot.last_text
    await bot.press("Terug")
    assert "Uw antwoord tot nu toe: een ingesproken bericht" in bot.last_text


async def test_voice_note_on_a_button_question_is_not_an_answer(wonen: ChatDriver) -> None:
    await wonen.media(MediaKind.VOICE)
    assert wonen.outcome.effects == []
    assert WOONPLEK in wonen.last_text


# -- commands ----------------------------------------------------------------------------------


async def test_summary_before_consent(bot: ChatDriver) -> None:
    await bot.start()
    await bot.command("samenvatting")
    assert bot.outcome.effects == []
    assert "Eerst vraag ik of u mee wilt doen." in bot.notices
    assert "Wilt u meedoen?" in bot.last_text


async def test_summary_command_shows_summary_then_the_question(wonen: ChatDriver) -> None:
    await wonen.command("samenvatting")
    kinds = [type(item) for item in wonen.engine_only.outcome.items]
    assert kinds == [ShowSummary, Message]
    assert WOONPLEK in wonen.last_text


async def test_overview_during_profile_finishes_the_profile_first(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.command("overzicht")
    assert "Eerst nog even dit:" in bot.notices
    assert "Wie vult dit in?" in bot.last_text
    assert bot.conv.state == "who"


async def test_profile_command_while_choosing_who_just_asks_again(bot: ChatDriver) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.command("profiel")
    assert bot.conv.state == "who"
    assert "Wie vult dit in?" in bot.last_text


async def test_unknown_command(wonen: ChatDriver) -> None:
    await wonen.command("foo")
    assert wonen.outcome.effects == []
    assert "Dat commando ken ik niet. Met /help ziet u wat ik kan." in wonen.notices
    assert WOONPLEK in wonen.last_text


async def test_delete_before_consent(bot: ChatDriver) -> None:
    await bot.start()
    await bot.command("verwijderen")
    assert bot.outcome.effects == [DeleteEverything()]
    assert "Er was nog niets van u bewaard. Er staat nu niets meer." in bot.notices
    assert bot.conv.state == "welcome"


async def test_stop_then_verder_returns_to_the_same_question(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    old = wonen.button("Ja")
    await wonen.command("stop")
    assert wonen.conv.state == "paused"
    assert "Alles wat u heeft gezegd is bewaard" in wonen.last_text
    await wonen.command("verder")
    assert wonen.conv.state == "question"
    assert VERHUIZEN in wonen.last_text
    # A button from before the pause belongs to this same, still open question: it counts.
    await wonen.press(old)
    assert not wonen.outcome.stale
    assert wonen.recorded == [RecordAnswer("verhuizen", {"option": "ja"})]


async def test_start_while_paused_welcomes_back(wonen: ChatDriver) -> None:
    await wonen.command("stop")
    await wonen.start()
    assert any("Welkom terug" in n for n in wonen.notices)
    assert WOONPLEK in wonen.last_text


async def test_delete_confirmed_erases_and_starts_afresh(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.command("verwijderen")
    assert "Weet u het zeker?" in wonen.last_text
    assert wonen.outcome.effects == []
    await wonen.press("Ja, verwijder alles")
    assert wonen.outcome.effects == [DeleteEverything()]
    assert any("Alles is verwijderd" in n for n in wonen.notices)
    assert wonen.conv == Conversation(locale="nl")
    assert wonen.answers == {}
    await wonen.start()
    assert "Wilt u meedoen?" in wonen.last_text


async def test_delete_declined_keeps_everything(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.command("verwijderen")
    await wonen.press("Nee, toch niet")
    assert wonen.outcome.effects == []
    assert "Goed, er is niets verwijderd." in wonen.notices
    assert VERHUIZEN in wonen.last_text
    assert wonen.answers["woonplek"].value == {"option": "thuis"}


async def test_delete_while_paused_then_no_returns_to_the_question(wonen: ChatDriver) -> None:
    await wonen.press("thuis")
    await wonen.command("stop")
    await wonen.command("verwijderen")
    await wonen.press("Nee, toch niet")
    await wonen.command("verder")
    assert VERHUIZEN in wonen.last_text


def _english_catalog_translates(message: str) -> str | None:
    if not (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").exists():
        return None
    translated = translator("en").gettext(message)
    return translated if translated != message else None


async def test_taal_en_switches_to_english(wonen: ChatDriver) -> None:
    await wonen.command("taal", "en")
    assert wonen.conv.locale == "en"
    assert wonen.message is not None
    assert wonen.message.flat_buttons[0].screen == "woonplek"  # the same question again
    english = _english_catalog_translates("Goed, we gaan verder in het Nederlands.")
    if english is not None:
        assert english in wonen.notices
        header = _english_catalog_translates("{topic} · {bar} nog ongeveer {minutes} min.")
        if header is not None:
            topic = translator("en").pgettext("demo.wonen.title", "Wonen")
            assert wonen.last_text.startswith(header.format(topic=topic, bar="▱" * 8, minutes=3))
    # the conversation keeps working in the new language
    await wonen.press("thuis")
    assert wonen.recorded == [RecordAnswer("woonplek", {"option": "thuis"})]
    assert wonen.conv.locale == "en"


async def test_taal_without_a_code_offers_the_languages(wonen: ChatDriver) -> None:
    await wonen.command("taal")
    assert wonen.buttons == ["Nederlands", "English"]
    await wonen.press("English")
    assert wonen.conv.locale == "en"
    assert wonen.conv.question == "woonplek"
    await wonen.command("taal", "nl")
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
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_stored_question_that_no_longer_exists_falls_back_to_the_topic(
    engine: Engine,
) -> None:
    bot = driver(engine, _stored(question="oude_vraag", trail=["woonplek", "oude_vraag"]))
    await bot.start()
    assert any("Welkom terug" in n for n in bot.notices)
    assert bot.conv.state == "intro"
    assert "Waar wilt u oud worden?" in bot.last_text
    # a button of the vanished question does not answer anything
    await bot.send(Choice(question_id="oude_vraag", option_id="ja", **bot.ids()))
    assert bot.outcome.effects == []
    await bot.press("Beginnen")
    assert WOONPLEK in bot.last_text


async def test_stored_topic_that_no_longer_exists_falls_back_to_the_menu(engine: Engine) -> None:
    bot = driver(engine, _stored(topic="oud_onderwerp", question="oude_vraag"))
    await bot.say("ja")
    assert bot.outcome.effects == []
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text


async def test_stored_state_that_no_longer_exists_falls_back(engine: Engine) -> None:
    bot = driver(engine, _stored(state="retired_screen"))
    await bot.start()
    assert bot.conv.state == "menu"
    assert "Kies een onderwerp" in bot.last_text
    fresh = driver(engine, Conversation(state="share"))
    await fresh.start()
    assert "Wilt u meedoen?" in fresh.last_text


async def test_handle_leaves_its_inputs_untouched(wonen: ChatDriver) -> None:
    conv = wonen.conv
    snapshot = Conversation.from_dict(conv.to_dict())
    answers: dict[str, AnswerView] = {}
    wonen.engine_only.engine.handle(
        conv,
        answers,
        Choice(question_id="woonplek", option_id="thuis", **wonen.ids()),
    )
    assert conv == snapshot
    assert answers == {}


@pytest.mark.parametrize("typed", ["Liever niet", "liever niet!", "geen naam", "overslaan"])
async def test_typing_the_no_name_button_is_not_a_name(bot: ChatDriver, typed: str) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.press("Ik vul het zelf in")
    await bot.say(typed)
    assert bot.outcome.effects == [SetProfile(mode="alone", name=None)]
    assert not any("Dank u wel," in n for n in bot.notices)


@pytest.mark.parametrize("name", ["Lieve", "Liesbeth", "Geen", "Niet"])
async def test_names_that_look_a_little_like_a_button_are_kept(bot: ChatDriver, name: str) -> None:
    await bot.start()
    await bot.press("Ja, ik doe mee")
    await bot.press("Ik vul het zelf in")
    await bot.say(name)
    assert bot.outcome.effects == [SetProfile(mode="alone", name=name)]
