"""The summary page in a real browser (Debian's chromium, headless): zero axe-core violations
for WCAG 2.2 AA, reflow at 320 px, readable at 200 % zoom, visible focus, no CSP errors.
Screenshots go to $TIJDIG_ARTIFACTS (default /tmp/tijdig-artifacts), never into the repo."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.repository import Repository
from bot.testing import ChatDriver
from bot.web.server import BackgroundWeb, start_background
from tests.conftest import ROOT
from tests.summary_support import link_of, rich_answers, texts, write_rich_flow

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}

# Visually hidden on purpose (screen-reader only): a 1 px box that clips its content.
SR_ONLY = """const srOnly = el => {
  for (let e = el; e; e = e.parentElement) {
    const r = e.getBoundingClientRect();
    if (r.width <= 1 && r.height <= 1 && getComputedStyle(e).overflow !== 'visible') return true;
  }
  return false;
};"""
# Elements whose content would be cut off: scrolled or clipped overflow that is too small.
CLIPPED = (
    "() => { "
    + SR_ONLY
    + """ return [...document.querySelectorAll('body *')].filter(el => {
  if (srOnly(el)) return false;
  const s = getComputedStyle(el);
  const cuts = ['hidden', 'clip', 'scroll', 'auto'];
  const wide = cuts.includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
  const tall = cuts.includes(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
  return (wide || tall) && el.getClientRects().length > 0;
}).map(el => el.tagName + '.' + el.className); }"""
)
# Visible elements that stick out of the viewport sideways.
OFF_SCREEN = (
    "() => { "
    + SR_ONLY
    + """ return [...document.querySelectorAll('main *, header *, footer *')].filter(el => {
  if (srOnly(el)) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && (r.right > document.documentElement.clientWidth + 1 || r.left < -1);
}).map(el => el.tagName + ' ' + (el.textContent || '').trim().slice(0, 40)); }"""
)


def require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        "Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium; .ci/run installs it)"
    )
    if os.environ.get("TIJDIG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TIJDIG_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def artifacts() -> Path:
    directory = Path(os.environ.get("TIJDIG_ARTIFACTS", "/tmp/tijdig-artifacts")).resolve()
    assert ROOT not in (directory, *directory.parents), "artifacts must stay out of the repo"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass
class Served:
    web: BackgroundWeb
    page_url: str
    code_url: str
    code: str


@pytest.fixture
async def served(tmp_path: Path, data_key: str) -> AsyncIterator[Served]:
    require_browser()
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        data_key=data_key,
        flows_dir=write_rich_flow(tmp_path / "flows"),
        web_port=0,
        _env_file=None,
    )
    runtime = await Runtime.create(settings)
    service = ConversationService(runtime)
    web = await start_background(runtime, service)
    try:
        chat = ChatDriver.on_service(service)
        await chat.ready(name="Anna Jansen")
        await store_rich_answers(runtime)
        base = settings.public_base_url
        page = link_of(await chat.command("delen")).url.removeprefix(base)
        replies = (await chat.command("delen", "code")).replies
        code_page = link_of(replies).url.removeprefix(base)
        found = re.search(r"(\d{3}) (\d{3})", texts(replies))
        assert found
        yield Served(web, web.url + page, web.url + code_page, found.group(1) + found.group(2))
    finally:
        await web.stop()
        await runtime.close()


async def store_rich_answers(runtime: Runtime) -> None:
    """Every answer of the rich flow, as if given in the chat (some by a relative)."""
    async with runtime.sessions() as session, session.begin():
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant("terminal", "anna")
        assert participant is not None
        for record in rich_answers().values():
            participant.role = record.role
            await repo.add_answer(
                participant,
                record.question_id,
                record.value,
                skipped=record.skipped,
                together=record.together,
                flow_version=runtime.flow.version,
            )
        participant.role = "self"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            await instance.close()


async def open_page(browser: Any, url: str, **context: Any) -> tuple[Any, list[str]]:
    page = await (await browser.new_context(**context)).new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = await page.goto(url)
    assert response is not None
    return page, problems


async def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x: {v['nodes'][0]['html'][:120]})"
        for v in results.response["violations"]
    ]


async def test_summary_page_has_no_axe_violations(served: Served, browser: Any) -> None:
    page, problems = await open_page(
        browser, served.page_url, viewport={"width": 1280, "height": 900}
    )
    assert await page.title() == "Tijdig – samenvatting"
    assert await page.locator("h1").inner_text() == "Wensen voor later van Anna Jansen"
    assert await page.locator("table th[scope=row]").count() == 6
    await page.screenshot(path=str(artifacts() / "summary-desktop.png"), full_page=True)
    assert problems == []  # no CSP violations, no script errors
    assert await axe_violations(page) == []


async def test_summary_page_reflows_at_320_px(served: Served, browser: Any) -> None:
    page, _ = await open_page(browser, served.page_url, viewport={"width": 320, "height": 640})
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 320
    assert await page.evaluate(OFF_SCREEN) == []
    assert await page.evaluate(CLIPPED) == []
    await page.screenshot(path=str(artifacts() / "summary-320px.png"), full_page=True)
    assert await axe_violations(page) == []
    # The stacked treatments table is still a table to assistive technology.
    cdp = await page.context.new_cdp_session(page)
    tree = await cdp.send("Accessibility.getFullAXTree")
    roles = [node["role"]["value"] for node in tree["nodes"] if node.get("role")]
    assert roles.count("rowheader") == 6 and roles.count("columnheader") == 2


async def test_summary_page_at_200_percent_zoom(served: Served, browser: Any) -> None:
    """200 % zoom of a 1280 px wide window: a 640 CSS px viewport at twice the density."""
    page, _ = await open_page(
        browser,
        served.page_url,
        viewport={"width": 640, "height": 450},
        device_scale_factor=2,
    )
    scroll = await page.evaluate("document.scrollingElement.scrollWidth")
    client = await page.evaluate("document.scrollingElement.clientWidth")
    assert scroll <= client
    assert await page.evaluate(OFF_SCREEN) == []
    assert await page.evaluate(CLIPPED) == []
    size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18  # large readable type
    await page.screenshot(path=str(artifacts() / "summary-zoom-200.png"), full_page=True)


async def test_keyboard_focus_is_visible(served: Served, browser: Any) -> None:
    page, _ = await open_page(browser, served.page_url, viewport={"width": 1280, "height": 900})
    await page.keyboard.press("Tab")
    focused = await page.evaluate(
        """() => {
        const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect();
        return {text: el.textContent.trim(), outline: s.outlineStyle, width: s.outlineWidth,
                top: r.top, bottom: r.bottom};
    }"""
    )
    assert focused["text"] == "Naar de inhoud"
    assert focused["outline"] != "none" and focused["width"] != "0px"
    assert 0 <= focused["top"] < focused["bottom"] <= 900
    await page.screenshot(path=str(artifacts() / "summary-focus.png"))


async def test_print_hides_navigation(served: Served, browser: Any) -> None:
    page, _ = await open_page(browser, served.page_url, viewport={"width": 1280, "height": 900})
    await page.emulate_media(media="print")
    assert not await page.locator("nav.downloads").is_visible()
    assert await page.locator("table.treatments").is_visible()


async def test_code_form_and_gone_page_have_no_axe_violations(served: Served, browser: Any) -> None:
    page, problems = await open_page(
        browser, served.code_url, viewport={"width": 375, "height": 700}
    )
    assert await page.locator("label[for=code]").count() == 1
    assert await axe_violations(page) == []
    await page.fill("#code", "000000")
    await page.click("button[type=submit]")
    assert await page.locator("#code-fout").is_visible()
    assert await axe_violations(page) == []
    await page.screenshot(path=str(artifacts() / "code-form.png"), full_page=True)
    # The right code opens the summary (the SameSite=Strict cookie survives the redirect).
    await page.fill("#code", f"{served.code[:3]} {served.code[3:]}")
    await page.click("button[type=submit]")
    assert await page.locator("h1").inner_text() == "Wensen voor later van Anna Jansen"
    cookies = await page.context.cookies()
    assert [(c["httpOnly"], c["sameSite"], c["path"]) for c in cookies] == [(True, "Strict", "/s/")]
    gone, _ = await open_page(browser, served.page_url.rsplit("/", 1)[0] + "/" + "n" * 43)
    assert await axe_violations(gone) == []
    assert [p for p in problems if "Security Policy" in p] == []  # the 403 itself is expected
