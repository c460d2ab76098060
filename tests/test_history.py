"""History for the professional: when each wish was given and last confirmed, what it was
before and until when, and which wishes have not been looked at for a long time; on the
page, in the PDF, in the text download, in FHIR, and in /samenvatting.

Why: a GP must see whether a wish is from last week or from three years ago, and what it
was before, to know whether to ask again.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from bot.services.runtime import Runtime
from bot.summary.fhir import questionnaire_response
from bot.summary.html import render_summary_html
from bot.summary.model import Summary
from bot.summary.pdf import render_pdf
from bot.summary.text import render_text
from bot.web.app import create_app
from bot.web.ratelimit import RateLimiter
from tests.summary_support import link_of
from tests.test_outbox import Box, make_box
from tests.test_web import GOOD_DAY, client_for, fill_in_demo

STALE = "al lang niet nagekeken"


async def summary_of(box: Box) -> Summary:
    async with box.service.runtime.sessions() as session:
        return await box.service.link_opening.summary(session, 1, "nl")


def first_screen(html: str) -> str:
    return html.split('<section class="topics"')[0]


async def reviewed_a_year_later(runtime: Runtime) -> Box:
    """Filled in on 2 March 2026; on 3 March 2027 the good day is confirmed and the donor
    register changed from Ja to Nee."""
    box = await make_box(runtime)
    await fill_in_demo(box.chat)
    box.clock.advance(days=366)
    await box.chat.command("nakijken")
    await box.chat.press("Klopt nog")
    await box.chat.press("Aanpassen")
    await box.chat.press("Nee")
    await box.chat.press("Nee, niets veranderd")
    return box


async def test_the_first_screen_marks_wishes_not_looked_at_for_longer_than_review_after(
    runtime: Runtime,
) -> None:
    box = await make_box(runtime)
    await fill_in_demo(box.chat)
    box.clock.advance(days=300)
    assert STALE not in render_summary_html(await summary_of(box))
    box.clock.advance(days=66)  # more than a year since they were given
    html = render_summary_html(await summary_of(box))
    assert first_screen(html).count(STALE) == 2  # what matters most, the donor register
    assert STALE in render_text(await summary_of(box), for_professional=True)
    await box.chat.command("nakijken")
    await box.chat.press("Klopt nog")
    await box.chat.press("Klopt nog")
    assert STALE not in render_summary_html(await summary_of(box))


async def test_page_pdf_and_text_show_given_confirmed_and_what_it_was_before(
    runtime: Runtime,
) -> None:
    box = await reviewed_a_year_later(runtime)
    summary = await summary_of(box)
    html = render_summary_html(summary)
    assert "nagekeken op 3 maart 2027" in html  # the good day, confirmed
    assert "eerder: Ja, tot 3 maart 2027" in html  # the donor register, changed
    assert "2 maart 2026" in html  # when the good day was given
    pdf = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(summary))).pages)
    assert "nagekeken op 3 maart 2027" in pdf and "eerder: Ja, tot 3 maart 2027" in pdf
    text = render_text(summary, for_professional=True)
    assert GOOD_DAY.splitlines()[1] in text
    assert "2 maart 2026, nagekeken op 3 maart 2027)" in text
    assert "\n    eerder: Ja, tot 3 maart 2027" in text


async def test_a_correction_while_filling_in_is_not_an_earlier_wish(runtime: Runtime) -> None:
    box = await make_box(runtime)
    await fill_in_demo(box.chat)
    box.clock.advance(minutes=20)
    await box.chat.command("overzicht")
    await box.chat.press("Wonen")
    await box.chat.press("Beginnen")
    await box.chat.press("In mijn eigen huis")
    html = render_summary_html(await summary_of(box))
    assert "In mijn eigen huis" in html and "eerder:" not in html
    box.clock.advance(days=2)
    await box.chat.command("overzicht")
    await box.chat.press("Wonen")
    await box.chat.press("Beginnen")
    await box.chat.press("Waar zorg is")
    html = render_summary_html(await summary_of(box))
    assert "eerder: In mijn eigen huis, tot 4 maart 2026" in html
    assert "In een aangepaste woning" not in html  # corrected within minutes


async def test_samenvatting_says_the_same_in_words(runtime: Runtime) -> None:
    box = await reviewed_a_year_later(runtime)
    await box.chat.command("samenvatting")
    said = box.chat.said
    assert "(nagekeken op 3 maart 2027)" in said
    assert "Nee\n    eerder: Ja, tot 3 maart 2027" in said


async def test_fhir_carries_the_confirmation_and_the_earlier_answer(runtime: Runtime) -> None:
    box = await reviewed_a_year_later(runtime)
    summary = await summary_of(box)
    response = questionnaire_response(
        summary, box.service.runtime.flow, base_url="https://tijdig.example", response_id="r1"
    )
    items = {item["linkId"]: item for group in response["item"] for item in group.get("item", [])}
    ext = "https://tijdig.example/fhir/StructureDefinition/"
    good_day = {e["url"]: e for e in items["goede_dag"]["extension"]}
    assert good_day[ext + "confirmed-at"]["valueDateTime"].startswith("2027-03-03")
    assert good_day[ext + "answered-at"]["valueDateTime"].startswith("2026-03-02")
    (earlier,) = [e for e in items["donor"]["extension"] if e["url"] == ext + "earlier-answer"]
    parts = {e["url"]: e for e in earlier["extension"]}
    assert parts["answer"]["valueString"] == "Ja"
    assert parts["until"]["valueDateTime"].startswith("2027-03-03")
    json.dumps(response)  # plain JSON


# -- changed since the professional opened the link ----------------------------------------------

BANNER = "Gewijzigd sinds u dit opende op 2 maart 2026 10:40."


async def test_the_professional_sees_what_changed_since_their_previous_visit(
    runtime: Runtime,
) -> None:
    box = await make_box(runtime)
    await fill_in_demo(box.chat)
    path = link_of(await box.chat.command("delen")).url.split("8080", 1)[1]
    app = create_app(runtime, box.service, rate_limiter=RateLimiter(1000, 100))
    async with client_for(app) as gp:
        assert BANNER.split(" op")[0] not in (await gp.get(path)).text  # first visit
        box.clock.advance(minutes=10)
        assert "Gewijzigd sinds" not in (await gp.get(f"{path}/txt")).text  # the same visit
        box.clock.advance(days=2)
        await box.chat.command("nakijken")  # the person changes the donor register
        await box.chat.press("Klopt nog")
        await box.chat.press("Aanpassen")
        await box.chat.press("Nee")
        await box.chat.press("Nee, niets veranderd")
        box.clock.advance(days=1)

        page = (await gp.get(path)).text
        assert BANNER in page
        assert page.count('<mark class="changed">gewijzigd</mark>') == 2  # first screen, topic
        donor = page.split("Staat u in het donorregister?")[1].split("</dd>")[0]
        assert '<mark class="changed">' in donor
        good_day = page.split("Een goede dag")[-1].split("</dd>")[0]
        assert "gewijzigd" not in good_day  # only confirmed, not changed

        box.clock.advance(minutes=5)  # downloads in the same visit show the same
        pdf = (await gp.get(f"{path}/pdf")).content
        pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert BANNER in " ".join(pdf_text.split())
        text = (await gp.get(f"{path}/txt")).text
        assert BANNER in text and "(ingevuld door de persoon zelf, 4 maart 2026, gewijzigd" in text
        fhir = (await gp.get(f"{path}/fhir")).json()
        assert fhir["extension"][0]["url"].endswith("/changed-since")
        assert fhir["extension"][0]["valueDateTime"].startswith("2026-03-02T09:40")
        marked = [
            item["linkId"]
            for group in fhir["item"]
            for item in group["item"]
            if any(e["url"].endswith("/changed-since-opened") for e in item["extension"])
        ]
        assert marked == ["donor"]

        box.clock.advance(hours=2)  # the next visit: the change was seen
        assert "Gewijzigd sinds" not in (await gp.get(path)).text


async def test_after_a_change_the_person_is_asked_whether_to_tell_their_gp(
    runtime: Runtime,
) -> None:
    box = await make_box(runtime)
    await fill_in_demo(box.chat)
    path = link_of(await box.chat.command("delen")).url.split("8080", 1)[1]
    await box.chat.command("nakijken")  # a change before the GP opened it: nothing to tell
    await box.chat.press("Aanpassen")
    await box.chat.say("Lezen in de zon")
    box.clock.advance(hours=1)
    assert [m.text for m in await box.send()] == []
    app = create_app(runtime, box.service, rate_limiter=RateLimiter(1000, 100))
    async with client_for(app) as gp:
        assert (await gp.get(path)).status_code == 200
    await box.send()  # "your summary was opened"
    box.clock.advance(days=2)
    await box.chat.command("nakijken")
    await box.chat.press("Klopt nog")
    await box.chat.press("Aanpassen")
    await box.chat.press("Nee")  # the donor register changed after the GP looked
    box.clock.advance(minutes=10)
    await box.chat.press("Wonen")  # and, ten minutes later, where they want to live
    await box.chat.press("Aanpassen")
    await box.chat.press("Waar zorg is")
    box.clock.advance(minutes=29)
    assert await box.send() == []  # not while they may still be busy
    box.clock.advance(minutes=2)
    (ask,) = await box.send()
    assert "Uw huisarts had uw samenvatting al geopend." in ask.text
    handled = await box.chat.press(ask.flat_buttons[0])
    note = box.chat.notices[0]
    assert "Beste dokter, ik heb mijn wensen in Tijdig aangepast." in note
    assert "De link die uw huisarts al heeft, blijft ook werken." in note
    new_path = link_of(handled).url.split("8080", 1)[1]  # the link to send with it
    assert new_path != path
    async with client_for(app) as gp:
        page = (await gp.get(new_path)).text
    assert "Waar zorg is" in page
    box.clock.advance(days=1)
    later = [m.text for m in await box.send()]  # the new link's opening is told, as ever
    assert not [t for t in later if "al geopend" in t], "asked once"


def test_the_treatment_table_marks_an_old_treatment_wish_too(tmp_path: Path) -> None:
    from bot.content.loader import load_flows
    from bot.summary.history import with_history
    from bot.summary.model import build_summary
    from tests.summary_support import T0, rich_answers, write_rich_flow

    flow = load_flows(write_rich_flow(tmp_path / "flows"))["rijk"]
    answers = rich_answers()
    later = T0 + timedelta(days=400)
    summary = build_summary(flow, answers, locale="nl", person_name=None, mode="alone", now=later)
    html = render_summary_html(
        with_history(summary, flow, list(answers.values()), {}, review_after=timedelta(days=365))
    )
    treatments = html.split('<table class="treatments"')[1].split("</table>")[0]
    assert STALE in treatments
