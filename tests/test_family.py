"""Family: a relative joins from their own phone, and every answer says who gave it.

Why: the family is who will be asked when the person can no longer speak. What the person
wants and what the family thinks they want must both be visible, attributed, and never
mixed up; and a relative sees only what the person allowed. These tests drive two people
(and a stranger) through the real service on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.content.loader import load_flows
from bot.engine import AnswerView, Conversation, Engine, MediaKind
from bot.engine.replies import InviteReply, Message, Notice, Reply
from bot.i18n import translator
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.services.summaries import load_summary
from bot.storage.models import Answer, Invite, Participant
from bot.storage.repository import Repository
from bot.summary.html import render_summary_html
from bot.summary.model import Summary
from bot.summary.text import render_text
from bot.testing import ChatDriver
from tests.summary_support import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@dataclass
class Delivered:
    """What reached other people's chats: outbox notices once sent, and one-off sentences."""

    service: ConversationService | None = None
    messages: list[tuple[str, str, str]] = field(default_factory=list)

    async def push(self, address: str, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, Notice | Message):
                self.messages.append(("terminal", address, reply.text))

    @property
    async def sent(self) -> list[tuple[str, str, str]]:
        assert self.service is not None
        while await self.service.outbox.send_due():
            pass
        return self.messages


@pytest.fixture
def notifier() -> Delivered:
    return Delivered()


@pytest.fixture
def family_service(
    runtime: Runtime, clock: FrozenClock, notifier: Delivered
) -> ConversationService:
    service = ConversationService(runtime, clock=clock)
    service.outbox.register("terminal", notifier.push)
    notifier.service = service
    return service


def chat(service: ConversationService, user: str) -> ChatDriver:
    return ChatDriver.on_service(service, user=user)


async def invite(anna: ChatDriver, may: str = "Een eigen kijk geven", see: str = "Ja") -> str:
    await anna.command("uitnodigen")
    await anna.press(may)
    handled = await anna.press(see)
    (reply,) = [r for r in handled.replies if isinstance(r, InviteReply)]
    assert len(reply.code) >= 22, "at least 128 random bits"
    return reply.code


async def join(service: ConversationService, user: str, code: str, name: str = "Els") -> ChatDriver:
    relative = chat(service, user)
    await relative.start(code)
    assert "Anna nodigt u uit" in relative.last_text
    await relative.press("Ja, ik doe mee")
    await relative.say(name)
    await relative.press("Dochter")
    return relative


async def anna_answers_and_els_differs(
    service: ConversationService,
) -> tuple[ChatDriver, ChatDriver]:
    """Anna answers where she wants to live; Els (dochter) joins and thinks otherwise."""
    anna = await chat(service, "anna").ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    els = await join(service, "els", await invite(anna))
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    return anna, els


async def count(runtime: Runtime, table: type) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def person_summary(runtime: Runtime, user: str = "anna") -> Summary:
    """The summary the professional's link shows, built as the web app builds it."""
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant("terminal", user)
        assert participant is not None
        return await load_summary(
            repo, runtime.flow, participant.person_id, locale="nl", now=FrozenClock()()
        )


async def summary_for_professional(runtime: Runtime, user: str = "anna") -> str:
    return render_text(await person_summary(runtime, user), for_professional=True)


# -- together on one phone ------------------------------------------------------------------


async def test_together_names_who_helps_and_every_answer_says_so(
    family_service: ConversationService, runtime: Runtime
) -> None:
    anna = chat(family_service, "anna")
    await anna.ready(mode="Samen met iemand", companion=("Els", "Dochter"))
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    text = await summary_for_professional(runtime)
    assert "In mijn eigen huis (samen met Els (dochter)" in text


async def test_a_new_sitting_does_not_assume_last_times_helper(
    family_service: ConversationService, runtime: Runtime, clock: FrozenClock
) -> None:
    """Els helped on Monday; on Tuesday Anna answers alone: that answer is hers alone, and
    she is told how to name today's helper. Within a sitting Els stays named."""
    anna = chat(family_service, "anna")
    await anna.ready(mode="Samen met iemand", companion=("Els", "Dochter"))
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    clock.advance(minutes=50)  # a cup of tea: the same sitting
    await anna.press("Nee")
    assert "Vorige keer" not in anna.said
    clock.advance(days=1)
    await anna.command("verder")
    assert "Vorige keer vulde u dit samen met Els in. Helpt Els of iemand anders" in anna.said
    await anna.command("overzicht")
    await anna.open_topic("Wat voor u belangrijk is")
    await anna.say("Koffie met de buren")
    text = await summary_for_professional(runtime)
    assert "In mijn eigen huis (samen met Els (dochter)" in text
    assert "Koffie met de buren (samen met" not in text
    assert "Koffie met de buren" in text


# -- inviting and joining -------------------------------------------------------------------


async def test_a_relative_joins_gives_a_view_and_the_person_adopts_it(
    family_service: ConversationService, runtime: Runtime, notifier: Delivered
) -> None:
    anna = await chat(family_service, "anna").ready()
    code = await invite(anna)
    assert await count(runtime, Participant) == 1, "nothing about the relative yet"
    els = await join(family_service, "els", code)
    assert "Uw kijk op de wensen van Anna" in els.last_text
    await els.open_topic("Wonen")
    assert "Wat denkt u: waar wil Anna het liefst wonen als Anna ouder wordt?" in els.last_text
    await els.press("Waar zorg is")
    # her view is not Anna's answer, and Anna is told
    assert "ouder wordt?: Waar zorg is" not in await summary_for_professional(runtime)
    ((channel, address, text),) = await notifier.sent
    assert (channel, address) == ("terminal", "anna") and "Els (dochter)" in text
    await anna.open_topic("Wonen")
    assert "Els (dochter) denkt: Waar zorg is" in anna.last_text
    await anna.press("Overnemen van Els (dochter)")
    assert "Overgenomen" in anna.said
    text = await summary_for_professional(runtime)
    assert "ouder wordt?: Waar zorg is (ingevuld door de persoon zelf" in text
    assert "Els (dochter) denkt: Waar zorg is" in text


async def test_a_differing_view_is_listed_for_the_professional(
    family_service: ConversationService, runtime: Runtime
) -> None:
    # Why: issue 9 item 5. "Om te bespreken" names differences on the first screen's items
    # (here: what a good day is); a difference elsewhere (where to live) shows at its
    # question only, or the professional's first screen fills with every small difference.
    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna))
    await anna.open_topic("Wat voor u belangrijk is")
    await anna.say("Koffie met de buren")
    await anna.command("overzicht")
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    await els.open_topic("Wat voor u belangrijk is")
    await els.say("Wandelen in het bos")
    await els.command("overzicht")
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    text = await summary_for_professional(runtime)
    to_discuss = text[text.index("— Om te bespreken —") : text.index("— Wat voor u")]
    assert "Els (dochter) denkt anders over: Een goede dag" in to_discuss
    assert "(Koffie met de buren / Wandelen in het bos)" in to_discuss
    assert "Waar wilt u het liefst wonen" not in to_discuss, "not a first-screen item"
    assert "Els (dochter) denkt: Waar zorg is" in text, "still shown at its question"
    summary = await person_summary(runtime)
    assert len(summary.to_discuss) == 1
    page = render_summary_html(summary)
    first = page[page.index("Voor de zorgverlener") : page.index("Alle onderwerpen")]
    assert "Een goede dag" in first and "wonen" not in first
    rest = page[page.index("Alle onderwerpen") :]
    assert rest.count("relative-view differs") == 2


async def test_a_view_on_a_question_the_person_has_not_answered_still_shows(
    family_service: ConversationService, runtime: Runtime
) -> None:
    # Why: issue 9 items 4 and 5. Anna has not reached "Wonen"; Els's view on it was
    # dropped, so neither the GP nor Anna's /samenvatting ever saw it.
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from bot.summary.fhir import questionnaire_response

    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna))
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    text = await summary_for_professional(runtime)
    assert (
        "• Waar wilt u het liefst wonen als u ouder wordt?: nog niet beantwoord\n"
        "    Els (dochter) denkt: Waar zorg is\n"
    ) in text
    assert "Om te bespreken" not in text, "nothing of Anna's to differ from"
    await anna.command("samenvatting")
    assert "ouder wordt?: nog niet beantwoord\n    Els (dochter) denkt: Waar zorg is" in anna.said
    summary = await person_summary(runtime)
    assert summary.answered == 0 and summary.last_answered_at is None
    topics = render_summary_html(summary).split("Alle onderwerpen")[1]
    assert "nog niet beantwoord" in topics and "Els (dochter) denkt" in topics
    assert "ingevuld door" not in topics, "not an answer, so no one gave it"
    resource = questionnaire_response(
        summary, runtime.flow, base_url="https://x.example", response_id="r1"
    )
    QuestionnaireResponse.model_validate(resource)
    assert "item" not in resource, "Anna answered nothing"
    (view,) = [e for e in resource["extension"] if e["url"].endswith("/relative-view")]
    assert view["extension"] == [
        {"url": "linkId", "valueString": "woonplek"},
        {"url": "who", "valueString": "Els (dochter)"},
        {"url": "view", "valueString": "Waar zorg is"},
    ]


async def test_a_removed_relatives_kept_view_still_shows(
    family_service: ConversationService, runtime: Runtime, notifier: Delivered
) -> None:
    # Why: issue 9 item 6. "Bewaren" kept Els's rows, but views no longer linked to a
    # relative were filtered out: kept meant gone. They show, as the /familie screen says,
    # without a name; a name kept with the rows (`with_enc`) is shown when there is one.
    from bot.storage.repository import WITH

    anna, _els = await anna_answers_and_els_differs(family_service)
    await anna.command("familie")
    await anna.press("Els verwijderen")
    assert "Bewaren: het blijft staan, zonder naam." in anna.last_text
    await anna.press("Bewaren")
    assert await count(runtime, Answer) == 2
    told = [t for *_, t in await notifier.sent if "niet meer mee" in t]
    kept = "Wat u invulde, blijft staan, zonder uw naam."
    assert told == [f"U doet niet meer mee met de wensen van Anna. {kept}"]
    text = await summary_for_professional(runtime)
    assert "ouder wordt?: In mijn eigen huis (ingevuld door de persoon zelf" in text
    assert "    Een naaste die niet meer meedoet denkt: Waar zorg is" in text
    assert "Om te bespreken" not in text, "where to live is not on the first screen"
    async with runtime.sessions() as session, session.begin():
        repo = Repository(session, runtime.cipher)
        key = await repo.keys.of(1)
        kept = key.encrypt_json({"name": "Els", "relation": "dochter"}, WITH)
        await session.execute(
            Answer.__table__.update().where(Answer.perspective == "view").values(with_enc=kept)  # type: ignore[attr-defined]
        )
    assert "    Els (dochter) denkt: Waar zorg is" in await summary_for_professional(runtime)


async def test_a_helper_fills_in_the_persons_answers_marked_as_theirs(
    family_service: ConversationService, runtime: Runtime
) -> None:
    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna, may="Mijn antwoorden invullen"))
    assert "Wensen van Anna" in els.last_text
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    assert "ouder wordt?: Waar zorg is (ingevuld door Els (dochter)" in (
        await summary_for_professional(runtime)
    )
    await anna.open_topic("Wonen")  # at the next open question; one back is Els's answer
    await anna.press("Terug")
    assert "Uw antwoord tot nu toe: Waar zorg is" in anna.last_text


@pytest.mark.parametrize("how", ["used", "unknown", "expired", "revoked"])
async def test_a_code_that_does_not_work_gets_one_kind_sentence_and_creates_nothing(
    family_service: ConversationService, runtime: Runtime, clock: FrozenClock, how: str
) -> None:
    anna = await chat(family_service, "anna").ready()
    code = await invite(anna)
    if how == "used":
        await join(family_service, "els", code)
    elif how == "unknown":
        code = code[::-1]
    elif how == "expired":
        clock.advance(days=runtime.settings.invite_days, seconds=1)
    else:
        await anna.command("familie")
        await anna.press("Uitnodiging 1 intrekken")
        assert "De uitnodiging is ingetrokken" in anna.said
    before = await count(runtime, Participant)
    stranger = chat(family_service, "stranger")
    await stranger.start(code)
    assert "Deze uitnodiging werkt niet (meer)" in stranger.said
    assert "Anna" not in stranger.said
    assert await count(runtime, Participant) == before


async def test_repeated_wrong_codes_are_slowed_down(family_service: ConversationService) -> None:
    guesser = chat(family_service, "guesser")
    for attempt in range(5):
        await guesser.start(f"wrong-code-{attempt:02d}-xxxxxxxxxx")
        assert "werkt niet" in guesser.said
    await guesser.start("another-wrong-code-xxxxxxxxx")
    assert "Probeer het over tien minuten" in guesser.said


async def test_declining_the_invitation_keeps_nothing_and_the_code_still_works(
    family_service: ConversationService, runtime: Runtime
) -> None:
    anna = await chat(family_service, "anna").ready()
    code = await invite(anna)
    els = chat(family_service, "els")
    await els.start(code)
    await els.press("Nee, liever niet")
    assert "Er is niets van u bewaard" in els.said
    assert await count(runtime, Participant) == 1
    await join(family_service, "els", code)
    assert await count(runtime, Participant) == 2


async def test_a_typed_yes_answers_the_join_screen(
    family_service: ConversationService, runtime: Runtime
) -> None:
    anna = await chat(family_service, "anna").ready()
    els = chat(family_service, "els")
    await els.start(await invite(anna))
    await els.say("ja")
    assert "Hoe heet u?" in els.last_text
    assert await count(runtime, Participant) == 2


# -- what a relative may do -----------------------------------------------------------------


async def test_only_the_person_shares_invites_and_decides_who_takes_part(
    family_service: ConversationService,
) -> None:
    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna))
    for command in ("delen", "uitnodigen", "familie", "links"):
        await els.command(command)
        assert "Dat kan alleen Anna zelf doen." in els.said, command


async def test_a_relative_who_may_not_read_sees_only_their_own_view(
    family_service: ConversationService,
) -> None:
    anna = await chat(family_service, "anna").ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    els = await join(family_service, "els", await invite(anna, see="Nee"))
    await els.command("samenvatting")
    assert "Uw kijk op de wensen van Anna" in els.said
    assert "In mijn eigen huis" not in els.said
    reader = await join(family_service, "bert", await invite(anna, see="Ja"), name="Bert")
    await reader.command("samenvatting")
    assert "In mijn eigen huis" in reader.said
    helper = await join(
        family_service, "cor", await invite(anna, may="Mijn antwoorden invullen", see="Nee")
    )
    await helper.command("samenvatting")
    assert "Wat u invulde voor Anna" in helper.said
    assert "In mijn eigen huis" not in helper.said


async def test_the_person_removes_a_relative_keeping_or_erasing_what_they_gave(
    family_service: ConversationService, runtime: Runtime, notifier: Delivered
) -> None:
    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna, may="Mijn antwoorden invullen"))
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    await anna.command("familie")
    assert "Els (dochter): vult uw antwoorden in, mag meelezen" in anna.said
    await anna.press("Els verwijderen")
    await anna.press("Wissen")
    assert await count(runtime, Answer) == 0
    assert await count(runtime, Participant) == 1
    assert any("U doet niet meer mee met de wensen van Anna" in t for *_, t in await notifier.sent)
    await els.say("hallo")
    assert "Wilt u meedoen?" in els.last_text, "Els is a stranger again"


async def test_a_relatives_erase_takes_their_part_only(
    family_service: ConversationService, runtime: Runtime
) -> None:
    _anna, els = await anna_answers_and_els_differs(family_service)
    await els.command("verwijderen")
    assert "De eigen antwoorden van Anna blijven staan" in els.last_text
    await els.press("Ja, verwijder alles")
    assert await count(runtime, Answer) == 1, "Anna's answer stays, Els's view goes"
    assert await count(runtime, Participant) == 1


async def test_the_persons_erase_unlinks_every_relative_and_tells_them(
    family_service: ConversationService, runtime: Runtime, notifier: Delivered
) -> None:
    anna = await chat(family_service, "anna").ready()
    await join(family_service, "els", await invite(anna))
    await invite(anna)  # an open invitation goes too
    await anna.command("verwijderen")
    await anna.press("Ja, verwijder alles")
    for table in (Participant, Answer, Invite):
        assert await count(runtime, table) == 0, table.__name__
    assert any(
        address == "els" and "U doet niet meer mee" in text
        for _c, address, text in await notifier.sent
    )


async def test_one_chat_is_a_person_and_a_relative_and_switches(
    family_service: ConversationService,
) -> None:
    anna = await chat(family_service, "anna").ready()
    bert = await chat(family_service, "bert").ready(name="Bert")
    code = await invite(anna)
    await bert.start(code)
    await bert.press("Ja, ik doe mee")
    await bert.say("Bert")
    await bert.press("Zoon")
    assert "Uw kijk op de wensen van Anna" in bert.last_text
    await bert.command("wissel")
    assert bert.buttons == ["Mijn eigen wensen", "✓ Wensen van Anna"]
    await bert.press("Mijn eigen wensen")
    assert "Uw kijk" not in bert.last_text and "Kies een onderwerp" in bert.last_text
    await bert.command("wissel")
    assert bert.buttons == ["✓ Mijn eigen wensen", "Wensen van Anna"]


async def test_my_data_of_the_person_lists_relatives_and_of_a_relative_only_their_part(
    family_service: ConversationService,
) -> None:
    import json

    anna = await chat(family_service, "anna").ready()
    els = await join(family_service, "els", await invite(anna))
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    mine = json.loads((await anna.command("mijngegevens")).replies[0].content)  # type: ignore[union-attr]
    (relative,) = mine["relatives"]
    assert relative["name"] == "Els" and len(relative["contributed"]) == 1
    hers = json.loads((await els.command("mijngegevens")).replies[0].content)  # type: ignore[union-attr]
    assert hers["you"]["name"] == "Els" and len(hers["what_you_gave"]) == 1
    assert "relatives" not in hers and "answers" not in hers


async def test_the_invite_expires_after_invite_days(
    family_service: ConversationService, runtime: Runtime, clock: FrozenClock
) -> None:
    anna = await chat(family_service, "anna").ready()
    code = await invite(anna)
    clock.advance(days=runtime.settings.invite_days, seconds=-1)
    await join(family_service, "els", code)  # one second before it expires: still works


async def test_fhir_says_who_gave_each_answer_and_carries_views_beside_them(
    family_service: ConversationService, runtime: Runtime
) -> None:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from bot.summary.fhir import questionnaire_response

    anna, _els = await anna_answers_and_els_differs(family_service)
    helper = await join(
        family_service, "cor", await invite(anna, may="Mijn antwoorden invullen"), name="Cor"
    )
    await helper.open_topic("Wonen")  # Cor answers the next open question for Anna
    await helper.press("Nee")
    summary = await person_summary(runtime)
    resource = questionnaire_response(
        summary, runtime.flow, base_url="https://x.example", response_id="r1"
    )
    QuestionnaireResponse.model_validate(resource)
    assert resource["author"] == {"display": "Cor (dochter)"}
    items = {i["linkId"]: i for group in resource["item"] for i in group["item"]}
    views = [e for e in items["woonplek"]["extension"] if e["url"].endswith("/relative-view")]
    assert views and {"url": "view", "valueString": "Waar zorg is"} in views[0]["extension"]
    assert items["woonplek"]["answer"][0]["valueCoding"]["code"] == "thuis", "hers, not Els's"
    by_name = [e for e in items["verhuizen"]["extension"] if e["url"].endswith("answered-by-name")]
    assert by_name == [
        {
            "url": "https://x.example/fhir/StructureDefinition/answered-by-name",
            "valueString": "Cor (dochter)",
        }
    ]


async def test_the_pdf_names_who_gave_each_answer_and_shows_views_beside_them(
    family_service: ConversationService, runtime: Runtime
) -> None:
    import io

    from pypdf import PdfReader

    from bot.summary.pdf import render_pdf

    anna = await chat(family_service, "anna").ready(mode="Samen met iemand")
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    els = await join(family_service, "els", await invite(anna))
    await els.open_topic("Wonen")
    await els.press("Waar zorg is")
    summary = await person_summary(runtime)
    pdf = render_pdf(summary)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "samen met Els (dochter)" in text
    assert "Els (dochter) denkt" in text and "Waar zorg is" in text


def test_the_printed_join_command_works_for_a_code_that_starts_with_a_dash() -> None:
    """Invite codes are URL-safe base64, so one in 64 starts with '-': the terminal prints
    the command so that argparse reads it as the code, not as another option."""
    import io
    import shlex

    from bot.__main__ import build_parser
    from bot.channels.terminal import TerminalChat

    out = io.StringIO()
    chat = TerminalChat(ConversationService.handle, "anna", out, echo_input=False)  # type: ignore[arg-type]
    chat.render(InviteReply(code="-Qn7x_abc", days=7, text="Geef dit door:"))
    printed = next(line for line in out.getvalue().splitlines() if "--join" in line)
    command = shlex.split(printed)
    assert command[:3] == ["python", "-m", "bot"]
    assert build_parser().parse_args(command[3:]).join == "-Qn7x_abc"


async def test_klopt_nog_confirms_the_persons_own_answer_never_a_relatives_view(
    family_service: ConversationService, runtime: Runtime, clock: FrozenClock
) -> None:
    # Why: a view is newer than Anna's answer; her "Klopt nog" is about her own wish.
    anna, _els = await anna_answers_and_els_differs(family_service)
    clock.advance(days=40)
    await anna.command("nakijken")
    await anna.press("Wonen")
    assert "Uw antwoord: In mijn eigen huis" in anna.last_text
    await anna.press("Klopt nog")
    assert (await person_summary(runtime)).by_question["woonplek"].confirmed_at == clock.now
    assert "nagekeken op" in await summary_for_professional(runtime)
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        confirmed = await repo.confirmations(1)
        own = {a.id for a in await repo.answer_history(1, perspective="person")}
        assert confirmed and set(confirmed) <= own, "the view is not confirmed"


# -- a helper who may not read --------------------------------------------------------------


async def test_a_helper_who_may_not_read_never_sees_or_overwrites_the_persons_answers(
    family_service: ConversationService, runtime: Runtime
) -> None:
    # Why: issue 9 item 7. Cor may fill in but not read; pressing "Terug" showed him
    # "Uw antwoord tot nu toe: ..." with Anna's own answer.
    anna = await chat(family_service, "anna").ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    cor = await join(
        family_service,
        "cor",
        await invite(anna, may="Mijn antwoorden invullen", see="Nee"),
        name="Cor",
    )
    seen: list[str] = []
    await cor.open_topic("Wonen")  # at the first open question
    seen.append(cor.said)
    assert "Denkt Anna erover om te verhuizen?" in cor.last_text
    await cor.press("Terug")  # Anna's answer: there, but not shown and not to be changed
    seen.append(cor.said)
    assert "kan alleen Anna zien en veranderen" in cor.last_text
    assert "Overslaan" not in cor.buttons and "Waar zorg is" not in cor.buttons
    await cor.say("Waar zorg is")  # typed: not an answer here either
    seen.append(cor.said)
    await cor.press("Verder")
    await cor.press("Nee")  # his own answer for Anna
    seen.append(cor.said)
    await cor.press("Verder")  # past the last screen, a tip
    assert "Klaar: Wonen" in cor.said
    await cor.open_topic("Wonen")  # everything answered: from the top, to look over
    seen.append(cor.said)
    await cor.press("Verder")
    seen.append(cor.said)
    assert "Uw antwoord tot nu toe: Nee" in cor.last_text, "what he gave, he sees"
    await cor.command("samenvatting")
    seen.append(cor.said)
    assert "In mijn eigen huis" not in "\n".join(seen)
    assert await count(runtime, Answer) == 2, "Anna's answer and Cor's, nothing more"
    assert "ouder wordt?: In mijn eigen huis (ingevuld door de persoon zelf" in (
        await summary_for_professional(runtime)
    )


async def test_a_helper_who_may_not_read_is_not_led_by_the_persons_answers(
    family_service: ConversationService,
) -> None:
    # Why: a follow-up asked only after Anna's "Ja" would tell Cor what she answered.
    anna = await chat(family_service, "anna").ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    await anna.press("Ja")
    assert "Waar zou u naartoe willen?" in anna.last_text
    await anna.say("Naar de kust in Zoutelande")
    cor = await join(
        family_service,
        "cor",
        await invite(anna, may="Mijn antwoorden invullen", see="Nee"),
        name="Cor",
    )
    seen: list[str] = []
    await cor.open_topic("Wonen")
    seen.append(cor.said)
    while "Verder" in cor.buttons:
        await cor.press("Verder")
        seen.append(cor.said)
    text = "\n".join(seen)
    assert "Klaar: Wonen" in text
    assert "naartoe willen" not in text and "Zoutelande" not in text


async def test_a_helper_who_may_read_sees_and_changes_the_persons_answers(
    family_service: ConversationService, runtime: Runtime
) -> None:
    anna = await chat(family_service, "anna").ready()
    await anna.open_topic("Wonen")
    await anna.press("In mijn eigen huis")
    bert = await join(
        family_service,
        "bert",
        await invite(anna, may="Mijn antwoorden invullen", see="Ja"),
        name="Bert",
    )
    await bert.open_topic("Wonen")
    await bert.press("Terug")
    assert "Uw antwoord tot nu toe: In mijn eigen huis" in bert.last_text
    await bert.press("Waar zorg is")
    assert "ouder wordt?: Waar zorg is (ingevuld door Bert (dochter)" in (
        await summary_for_professional(runtime)
    )


def demo_engine() -> Engine:
    flow = load_flows(Path(__file__).resolve().parent / "data" / "flows")["demo"]
    return Engine(flow, translator, ("nl",))


async def test_nothing_typed_or_spoken_replaces_an_answer_a_helper_may_not_read() -> None:
    # Why: Cor may not read Anna's answer, so he may not replace it unseen either.
    at_her_text = Conversation(
        state="question",
        consented=True,
        role="helper",
        subject="Anna",
        topic="wonen",
        question="verhuizen_waarheen",
    )
    cor = ChatDriver.on_engine(demo_engine(), at_her_text)
    cor.answers.update(
        verhuizen=AnswerView({"option": "ja"}),  # his own
        verhuizen_waarheen=AnswerView({}, hidden=True),  # Anna's
    )
    await cor.command("verder")
    assert "kan alleen Anna zien en veranderen" in cor.last_text
    assert "Overslaan" not in cor.buttons
    await cor.say("Naar de kust")
    assert not cor.recorded
    await cor.say("overslaan")
    assert not cor.recorded
    await cor.media(MediaKind.VOICE)
    assert not cor.recorded
