"""The summary behind a share link, as a professional's browser sees it: page, PDF, FHIR and
text; expiry, revocation, access code, rate limit, headers, access log and notification."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.models import LinkAccess
from bot.testing import ChatDriver
from bot.web.app import create_app
from bot.web.ratelimit import RateLimiter
from bot.web.security import CSP, safe_path
from bot.web.server import DeferredApp, start_background
from tests.conftest import DEMO_FLOWS, ROOT
from tests.serve_support import first_answer, stop_server
from tests.summary_support import (
    CollectingNotifier,
    FrozenClock,
    install_english,
    link_of,
    texts,
)

GOOD_DAY = 'Tuin & koffie <script>alert("x")</script>\nen dan "lezen"'
MOVE_TO = "Naar Zwolle, bij mijn dochter"
HEADERS = {
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
    "cache-control": "no-store",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
}
CLIENT = ("203.0.113.7", 50000)


@dataclass
class Web:
    chat: ChatDriver
    client: httpx.AsyncClient
    clock: FrozenClock
    notifier: CollectingNotifier
    service: ConversationService

    async def sent(self) -> list[tuple[str, str, str]]:
        """What reached the chat: the outbox sends what is due now."""
        await self.service.outbox.send_due()
        return self.notifier.sent

    async def link(self, *args: str) -> str:
        """A new link's path (/s/<token>), made in the chat."""
        url = link_of(await self.chat.command("delen", *args)).url
        return url.removeprefix(self.service.runtime.settings.public_base_url)

    async def code(self) -> tuple[str, str]:
        replies = (await self.chat.command("delen", "code")).replies
        path = link_of(replies).url.removeprefix(self.service.runtime.settings.public_base_url)
        found = re.search(r"(\d{3}) (\d{3})", texts(replies))
        assert found
        return path, found.group(1) + found.group(2)

    async def log(self) -> list[LinkAccess]:
        async with self.service.runtime.sessions() as session:
            query = select(LinkAccess).order_by(LinkAccess.id)
            return list((await session.execute(query)).scalars())


async def fill_in_demo(chat: ChatDriver) -> None:
    """A short chat session over the demo flow: every topic, every kind of question."""
    await chat.ready(name="Anna")
    await chat.press("belangrijk")
    await chat.press("Beginnen")
    await chat.say(GOOD_DAY)
    await chat.press("4")
    await chat.press("Wandelen")
    await chat.press("Lezen")
    await chat.press("Klaar")
    await chat.press("Wonen")
    await chat.press("Beginnen")
    await chat.press("aangepaste")
    await chat.press("Ja")
    await chat.say(MOVE_TO)
    await chat.press("Verder")
    await chat.press("levenseinde")
    await chat.press("we beginnen")
    await chat.say("Piet")
    await chat.press("Zoon")
    await chat.say("0612345678")
    await chat.press("Ja")


def client_for(app: object, address: tuple[str, int] = CLIENT) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def web(service: ConversationService) -> AsyncIterator[Web]:
    clock = FrozenClock()
    service = ConversationService(service.runtime, clock=clock)
    notifier = CollectingNotifier().attach(service.outbox)
    app = create_app(
        service.runtime,
        service,
        rate_limiter=RateLimiter(capacity=1000, refill_per_second=100),
    )
    chat = ChatDriver.on_service(service)
    await fill_in_demo(chat)
    async with client_for(app) as client:
        yield Web(chat, client, clock, notifier, service)


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)


# -- opening --------------------------------------------------------------------------------------


async def test_the_page_shows_every_answer_and_the_first_screen(web: Web) -> None:
    path = await web.link()
    response = await web.client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)
    page = response.text
    for answer in (
        GOOD_DAY,
        MOVE_TO,
        "4 van 5",
        "Wandelen, Lezen",
        "In een aangepaste woning",
        "Piet · Zoon · 0612345678",
    ):
        assert str(escape(answer)) in page, answer
    assert "<script>alert" not in page
    assert page.index("Voor de zorgverlener") < page.index("Alle onderwerpen")
    assert "Wensen voor later van Anna" in page
    head = page[: page.index("</head>")]
    assert "Anna" not in head and "Piet" not in head
    assert 'href="/static/summary.css"' in head
    assert f'href="{path}/pdf?lang=nl"' in page and f'href="{path}/fhir?lang=nl"' in page


async def test_pdf_fhir_and_text_downloads(web: Web) -> None:
    path = await web.link()
    pdf = await web.client.get(f"{path}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert_security_headers(pdf)
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert MOVE_TO in text and "Tuin & koffie" in text and "In een aangepaste woning" in text

    fhir = await web.client.get(f"{path}/fhir")
    assert fhir.status_code == 200 and fhir.headers["content-type"] == "application/fhir+json"
    assert_security_headers(fhir)
    resource = fhir.json()
    QuestionnaireResponse.model_validate(resource)
    answers = [
        answer
        for group in resource["item"]
        for item in group["item"]
        for answer in item.get("answer", [])
    ]
    assert {"valueString": GOOD_DAY} in answers and {"valueInteger": 4} in answers

    plain = await web.client.get(f"{path}/txt")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/plain")
    assert GOOD_DAY.splitlines()[0] in plain.text and MOVE_TO in plain.text
    assert_security_headers(plain)

    assert (await web.client.get(f"{path}/docx")).status_code == 404


async def test_questionnaire_robots_and_static_files(web: Web) -> None:
    questionnaire = await web.client.get("/fhir/Questionnaire/tijdig")
    assert questionnaire.status_code == 200
    Questionnaire.model_validate(questionnaire.json())
    assert questionnaire.json()["url"] == "http://127.0.0.1:8080/fhir/Questionnaire/tijdig"
    robots = await web.client.get("/robots.txt")
    assert "Disallow: /s/" in robots.text.splitlines()
    css = await web.client.get("/static/summary.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for response in (questionnaire, robots, css, await web.client.get("/nergens")):
        for name in ("referrer-policy", "x-robots-tag", "content-security-policy"):
            assert response.headers[name] == HEADERS[name]


async def test_unknown_and_malformed_tokens_are_404(web: Web) -> None:
    path = await web.link()
    token = path.rsplit("/", 1)[1]
    for unknown in (
        "/s/" + token[:-1] + ("A" if token[-1] != "A" else "B"),
        "/s/kort",
        "/s/" + "x" * 43 + "/pdf",
    ):
        response = await web.client.get(unknown)
        assert response.status_code == 404, unknown
        assert_security_headers(response)
        assert "Deze link kennen we niet" in response.text
    assert await web.log() == []  # an unknown token belongs to no link: nothing to log


# -- expiry, revocation ----------------------------------------------------------------------------


async def test_a_link_expires_after_share_link_days(web: Web) -> None:
    path = await web.link()
    web.clock.advance(days=29, hours=23)
    assert (await web.client.get(path)).status_code == 200
    web.clock.advance(hours=1)
    response = await web.client.get(path)
    assert response.status_code == 410
    assert_security_headers(response)
    assert "verlopen" in response.text and "/delen" in response.text
    assert (await web.client.get(f"{path}/pdf")).status_code == 410
    assert [entry.outcome for entry in await web.log()][-2:] == ["expired", "expired"]
    assert "geen werkende links" in texts(await web.chat.command("links"))


async def test_a_revoked_link_is_410(web: Web) -> None:
    path = await web.link()
    assert (await web.client.get(path)).status_code == 200
    await web.chat.command("links")
    await web.chat.press("Link 1 intrekken")
    response = await web.client.get(path)
    assert response.status_code == 410
    assert "ingetrokken" in response.text and "nieuwe link" in response.text
    assert (await web.client.get(f"{path}/fhir")).status_code == 410


# -- access code -----------------------------------------------------------------------------------


async def test_access_code_form_cookie_and_downloads(web: Web) -> None:
    path, code = await web.code()
    form = await web.client.get(path)
    assert form.status_code == 200
    assert '<form method="post"' in form.text and MOVE_TO not in form.text
    assert_security_headers(form)
    redirect = await web.client.get(f"{path}/pdf")
    assert redirect.status_code == 303 and redirect.headers["location"] == path
    wrong = await web.client.post(path, data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 403 and "nog 4 keer" in wrong.text
    right = await web.client.post(path, data={"code": f"{code[:3]} {code[3:]}"})
    assert right.status_code == 303 and right.headers["location"] == path
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Path=/s/" in cookie and "Max-Age=3600" in cookie
    assert code not in cookie
    page = await web.client.get(path)
    assert page.status_code == 200 and str(escape(MOVE_TO)) in page.text
    assert (await web.client.get(f"{path}/pdf")).content.startswith(b"%PDF")
    # The cookie is short-lived and tied to this link.
    web.clock.advance(hours=2)
    assert '<form method="post"' in (await web.client.get(path)).text
    outcomes = [entry.outcome for entry in await web.log()]
    assert outcomes[:4] == ["code_required", "code_required", "wrong_code", "code_ok"]


async def test_five_wrong_codes_lock_the_link(web: Web) -> None:
    path, code = await web.code()
    wrong = "123456" if code != "123456" else "654321"
    for left in (4, 3, 2, 1):
        response = await web.client.post(path, data={"code": wrong})
        assert response.status_code == 403 and f"nog {left} keer" in response.text
    locked = await web.client.post(path, data={"code": wrong})
    assert locked.status_code == 410 and "geblokkeerd" in locked.text
    # Locked for good: the right code no longer helps.
    assert (await web.client.post(path, data={"code": code})).status_code == 410
    assert (await web.client.get(path)).status_code == 410
    assert any("vijf keer een verkeerde toegangscode" in text for *_, text in await web.sent())


async def test_a_huge_code_form_is_read_only_as_far_as_needed(web: Web) -> None:
    path, _code = await web.code()
    kib_read = 0

    async def a_megabyte_slowly() -> AsyncIterator[bytes]:
        """The body is handed over as the app asks for it, so what it reads is counted."""
        nonlocal kib_read
        yield b"code="
        for _ in range(1024):
            kib_read += 1
            yield b"9" * 1024

    response = await web.client.post(path, content=a_megabyte_slowly())
    assert response.status_code == 403 and "nog 4 keer" in response.text
    assert kib_read <= 3, f"{kib_read} KiB of a code form were read; 2 KiB is the most"


# -- rate limit, log, notification ---------------------------------------------------------------


async def test_rate_limit_per_client(service: ConversationService) -> None:
    clock = FrozenClock()
    service = ConversationService(service.runtime, clock=clock)
    app = create_app(
        service.runtime,
        service,
        rate_limiter=RateLimiter(capacity=3, refill_per_second=0.01),
    )
    chat = ChatDriver.on_service(service)
    await chat.ready()
    path = link_of(await chat.command("delen")).url.removeprefix("http://127.0.0.1:8080")
    async with client_for(app) as client, client_for(app, ("198.51.100.9", 1)) as other:
        statuses = [(await client.get(path)).status_code for _ in range(3)]
        limited = await client.get("/s/" + "y" * 43)
        assert statuses == [200, 200, 200]
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert_security_headers(limited)
        assert (await client.post(path, data={"code": "1"})).status_code == 429
        assert (await other.get(path)).status_code == 200
        assert (await client.get("/robots.txt")).status_code == 200  # only /s/ is limited


async def test_access_log_and_chat_notification_at_most_hourly(web: Web) -> None:
    path = await web.link()
    assert (await web.client.get(path)).status_code == 200
    assert len(await web.sent()) == 1
    web.clock.advance(minutes=10)
    assert (await web.client.get(f"{path}/pdf")).status_code == 200
    assert len(await web.sent()) == 1
    channel, address, text = web.notifier.sent[0]
    assert (channel, address) == ("terminal", "anna")
    assert text.startswith("Uw samenvatting is geopend op 2 maart 2026 om 10:30 (webpagina).")
    web.clock.advance(minutes=55)
    assert (await web.client.get(f"{path}/fhir")).status_code == 200
    assert len(await web.sent()) == 2
    assert "om 11:35 (FHIR)" in web.notifier.sent[1][2]
    log = await web.log()
    assert [(e.format, e.outcome) for e in log] == [("html", "ok"), ("pdf", "ok"), ("fhir", "ok")]
    assert len({e.link_id for e in log}) == 1
    assert all(len(e.client_hash) == 64 and CLIENT[0] not in e.client_hash for e in log)
    listing = texts(await web.chat.command("links"))
    assert "webpagina geopend" in listing and "PDF geopend" in listing
    assert "FHIR geopend" in listing and "Laatst geopend: 2 maart 2026 11:35" in listing


async def test_language_switch(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    install_english(monkeypatch)
    path = await web.link()
    english = await web.client.get(f"{path}?lang=en")
    assert '<html lang="en">' in english.text and "For the care professional" in english.text
    assert str(escape(MOVE_TO)) in english.text  # free text as written
    assert f'href="{path}/pdf?lang=en"' in english.text
    assert 'hreflang="nl"' in english.text and 'aria-current="page">English' in english.text
    dutch = await web.client.get(f"{path}?lang=xx")
    assert '<html lang="nl">' in dutch.text
    assert (await web.client.get(f"{path}/fhir?lang=en")).json()["language"] == "en"
    gone = await web.client.get("/s/" + "z" * 43 + "?lang=en")
    assert '<html lang="en">' in gone.text


async def test_the_token_never_reaches_the_logs(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    path = await web.link()
    token = path.rsplit("/", 1)[1]
    await web.client.get(path)
    await web.client.get(f"{path}/pdf")
    await web.client.post(path, data={"code": "123456"})
    assert "web GET /s/<token>/pdf 200" in caplog.text
    assert "link=" in caplog.text and token not in caplog.text
    assert safe_path(f"/s/{token}/fhir") == "/s/<token>/fhir"


# -- serving ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_background_server_serves_links_and_stops(runtime: Runtime) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, web_port=0)
    service = ConversationService(runtime)
    handle = await start_background(runtime, service)
    try:
        assert handle.running and handle.port != 0
        chat = ChatDriver.on_service(service)
        await chat.ready()
        path = link_of(await chat.command("delen")).url.removeprefix("http://127.0.0.1:8080")
        async with httpx.AsyncClient(base_url=handle.url) as client:
            assert (await client.get("/health")).text == "ok"
            assert (await client.get("/ready")).text == "ready"
            response = await client.get(path)
            assert response.status_code == 200 and "server" not in response.headers
    finally:
        await handle.stop()
    assert not handle.running


async def test_a_web_server_that_cannot_start_closes_its_port_and_says_so(
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Uvicorn is loaded at the first connection; if that fails, the port closes (later
    clicks are refused at once instead of hanging) and stderr and the log say why."""
    runtime.settings = dataclasses.replace(runtime.settings, web_port=0)
    handle = await start_background(runtime, ConversationService(runtime))
    monkeypatch.setitem(sys.modules, "bot.web.uvicorn_server", None)  # as if not installed
    with socket.create_connection(("127.0.0.1", handle.port), timeout=2):
        for _ in range(100):
            if not handle.running:
                break
            await asyncio.sleep(0.02)
    assert not handle.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", handle.port), timeout=2).close()
    assert "The web app did not start" in capsys.readouterr().err
    assert "the web server cannot start (ModuleNotFoundError)" in caplog.text
    await handle.stop()


async def test_a_process_that_only_serves_the_web_app_starts_it_at_once(
    runtime: Runtime,
) -> None:
    """`python -m bot serve` has nothing else to do: uvicorn and the app start with it, so
    a problem with them shows at start, not at a GP's first click."""
    runtime.settings = dataclasses.replace(runtime.settings, web_port=0)
    handle = await start_background(runtime, ConversationService(runtime), at_once=True)
    try:
        assert handle.task is not None and handle.running
        assert handle.app is not None and handle.app.built
    finally:
        await handle.stop()


async def test_a_web_app_that_cannot_be_built_says_so_kindly_and_tries_again(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """The app is built at the first request; if that fails, the professional reads a
    short sentence (503, in the default language), the log names the kind of failure once
    (never its message, which could hold a secret), and a later request tries again."""
    service = ConversationService(runtime)
    broken = [True]

    def build() -> Any:
        if broken[0]:
            raise ModuleNotFoundError("redis://user:secret@host is not reachable")
        return create_app(runtime, service)

    app = DeferredApp(build, "en")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tijdig") as client:
        for _ in range(2):
            response = await client.get("/health")
            assert response.status_code == 503
            assert response.text == "The summary cannot be shown right now. Please try again later."
        broken[0] = False
        assert (await client.get("/health")).text == "ok"
    failures = [r.getMessage() for r in caplog.records if "cannot be built" in r.getMessage()]
    assert failures == ["the web app cannot be built (ModuleNotFoundError); answering 503"]
    assert "secret" not in caplog.text


async def test_a_web_app_never_asked_for_stops_and_frees_its_port(runtime: Runtime) -> None:
    """Uvicorn starts at the first connection; a process that never had one still
    listens until it stops, and then lets the port go."""
    runtime.settings = dataclasses.replace(runtime.settings, web_port=0)
    handle = await start_background(runtime, ConversationService(runtime))
    assert handle.running and handle.task is None
    with socket.create_connection(("127.0.0.1", handle.port), timeout=2):
        pass  # the port takes connections before uvicorn is there
    await asyncio.sleep(0.3)
    assert handle.task is not None  # that connection started it
    await handle.stop()
    assert not handle.running
    handle = await start_background(runtime, ConversationService(runtime))
    port = handle.port
    await handle.stop()
    assert not handle.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


async def test_a_process_stopping_before_any_request_is_not_ready(runtime: Runtime) -> None:
    """The web app is built at its first request; a SIGTERM that comes before it must
    still turn `/ready` to 503, so the load balancer sends no more updates here."""
    runtime.settings = dataclasses.replace(runtime.settings, web_port=0)
    handle = await start_background(runtime, ConversationService(runtime))
    try:
        handle.refuse_updates()
        async with httpx.AsyncClient(base_url=handle.url) as client:
            assert (await client.get("/ready")).status_code == 503
            assert (await client.get("/health")).text == "ok"
    finally:
        await handle.stop()


async def test_background_server_on_a_busy_port_lets_the_chat_go_on(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        runtime.settings = dataclasses.replace(runtime.settings, web_port=port)
        handle = await start_background(runtime, ConversationService(runtime))
        assert not handle.running
        await handle.stop()
    assert "could not start" in capsys.readouterr().err


async def test_python_m_bot_serve(tmp_path: Path, data_key: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "DATA_KEY": data_key,
        "FLOWS_DIR": str(DEMO_FLOWS),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": "",
        # this checkout's bot, not wherever the editable install points
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            response = await first_answer(client, "/fhir/Questionnaire/tijdig")
            assert response.status_code == 200
            assert (await client.get("/s/" + "q" * 43)).status_code == 404
    finally:
        raw = await stop_server(process)
    err = raw.decode()
    assert process.returncode == 0, err
    assert "q" * 43 not in err  # no token in uvicorn's or our logs
    assert "Traceback" not in err


def test_chat_no_web_flag() -> None:
    from bot.__main__ import build_parser

    assert build_parser().parse_args(["chat", "--no-web"]).no_web is True
    assert build_parser().parse_args(["chat"]).no_web is False


def test_terminal_chat_starts_the_web_app_and_stops_it(tmp_path: Path, data_key: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        "DATA_KEY": data_key,
        "FLOWS_DIR": str(DEMO_FLOWS),
        "WEB_PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "tester"],
        input="1\n1\nTester\n/delen\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"http://127.0.0.1:{port}/s/" in result.stdout
    assert "Traceback" not in result.stderr


def test_questionnaire_json_is_stable(tmp_path: Path) -> None:
    """The served Questionnaire is plain JSON a FHIR server accepts (no NaN, no sets)."""
    from bot.content.loader import load_flows
    from bot.summary.fhir import questionnaire

    flow = load_flows(DEMO_FLOWS)["demo"]
    served = questionnaire(flow, locale="nl", base_url="https://x.example")
    text = json.dumps(served, allow_nan=False)  # NaN or Infinity would raise here
    assert json.loads(text) == served, "only JSON types (no tuples, sets or NaN)"
    assert json.loads(text)["item"][0]["item"][0]["linkId"] == "goede_dag"
