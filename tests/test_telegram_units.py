"""Small Telegram pieces: button data, message splitting, growing a question message,
per-chat ordering, the tidy-up priority of the send budget."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.error import RetryAfter

from bot.channels.telegram_format import (
    GROWN_MAX,
    coalesced,
    decode_button,
    encode_button,
    grown_text,
    redrawn_text,
    split_text,
)
from bot.channels.telegram_limits import TIDY, SharedFloodLimiter, Skipped
from bot.channels.telegram_order import ChatOrderedProcessor
from bot.content.loader import load_flows
from bot.engine.replies import Button, Document, Notice
from bot.engine.replies import Message as Screen
from bot.services.limits import SendBudget
from tests.conftest import DEMO_FLOWS, ROOT


@pytest.mark.parametrize("flows_dir", [DEMO_FLOWS, ROOT / "flows"], ids=["demo", "shipped"])
def test_every_button_of_every_flow_fits_in_64_bytes(flows_dir: Path) -> None:
    for flow in load_flows(flows_dir).values():
        for topic in flow.topics:
            screens = [f"i.{topic.id}", *(q.id for q in topic.questions)]
            options = [o.id for q in topic.questions for o in q.options] + ["_skip", "begin"]
            for screen in screens:
                for option in options:
                    button = Button("label", screen, option)
                    data = encode_button(button)
                    assert len(data.encode()) <= 64
                    assert decode_button(data) == (screen, option)


def test_button_data_over_64_bytes_is_refused_not_sent() -> None:
    """Telegram rejects the whole message for one button over 64 bytes: say which."""
    with pytest.raises(ValueError, match="over 64 bytes"):
        encode_button(Button("label", "s" * 60, "option"))


def test_unreadable_button_data_is_recognised_not_guessed() -> None:
    assert decode_button("0|menu|1|x") is None  # another version
    assert decode_button("1|menu|zz|x") is None
    assert decode_button("garbage") is None


def test_buttons_from_before_the_revision_went_still_work() -> None:
    """Version 1 data (`1|screen|revision|option`) stays in people's chats; its screen and
    option still count, so an old message of the same open question still answers it."""
    assert decode_button("1|woonplek|1f|thuis") == ("woonplek", "thuis")


def test_long_text_is_split_under_the_limit_without_losing_a_character() -> None:
    text = "\n\n".join(f"Alinea {n}. " + "woord " * 300 for n in range(10))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(chunk) <= 4096 for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    one_long_word = "x" * 9000
    assert [len(c) for c in split_text(one_long_word)] == [4096, 4096, 808]
    assert split_text("kort") == ["kort"]


def _update(update_id: int, chat_id: int) -> Update:
    user = User(id=chat_id, first_name="T", is_bot=False)
    chat = Chat(id=chat_id, type="private")
    message = Message(message_id=update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id=update_id, message=message)


async def test_one_chat_is_handled_in_order_while_chats_run_side_by_side() -> None:
    processor = ChatOrderedProcessor()
    log: list[tuple[int, str]] = []
    both_running = asyncio.Event()
    running: set[int] = set()

    async def work(chat_id: int, update_id: int, delay: float) -> None:
        log.append((update_id, "start"))
        running.add(chat_id)
        if len(running) == 2:
            both_running.set()
        await asyncio.sleep(delay)
        log.append((update_id, "end"))
        running.discard(chat_id)

    await asyncio.gather(
        processor.process_update(_update(1, 10), work(10, 1, 0.05)),
        processor.process_update(_update(2, 10), work(10, 2, 0.0)),
        processor.process_update(_update(3, 20), work(20, 3, 0.01)),
    )
    chat_10 = [entry for entry in log if entry[0] in (1, 2)]
    assert chat_10 == [(1, "start"), (1, "end"), (2, "start"), (2, "end")]
    assert both_running.is_set(), "another chat was not held up"
    assert processor.active_chats == 0, "locks are cleaned up after use"


async def test_a_chat_sending_many_updates_does_not_hold_up_the_others() -> None:
    """A chat's later updates wait for its earlier one without taking a processing slot:
    one person (or a script) sending many messages at once leaves room for everyone else."""
    processor = ChatOrderedProcessor(2)
    release = asyncio.Event()
    done: list[int] = []

    async def work(update_id: int, wait: bool) -> None:
        if wait:
            await release.wait()
        done.append(update_id)

    busy = [
        asyncio.create_task(processor.process_update(_update(n, 10), work(n, True)))
        for n in (1, 2, 3)
    ]
    other = processor.process_update(_update(4, 20), work(4, False))
    await asyncio.wait_for(other, 2)  # chat 20 goes while chat 10's first update is stuck
    assert done == [4]
    release.set()
    await asyncio.gather(*busy)
    assert done == [4, 1, 2, 3]


def test_a_pressed_buttons_update_is_read_without_the_keyboard_it_was_under() -> None:
    """Half of parsing a button press was building PTB objects for the keyboard of the
    message it was under, which Tijdig never reads: the long poll drops it, and only it."""
    import json

    from bot.channels.telegram_http import UpdatesRequest

    keyboard = {"inline_keyboard": [[{"text": "Thuis", "callback_data": "2|q|thuis"}]]}
    pressed = {
        "message_id": 7,
        "date": 1764500000,
        "chat": {"id": 42, "type": "private"},
        "text": "Waar wilt u wonen?",
        "reply_markup": keyboard,
    }
    user = {"id": 42, "is_bot": False, "first_name": "Anna"}
    typed = {**pressed, "message_id": 8, "from": user, "text": "hallo"}
    body = {
        "ok": True,
        "result": [
            {
                "update_id": 1,
                "callback_query": {
                    "id": "c",
                    "from": user,
                    "chat_instance": "i",
                    "data": "2|q|thuis",
                    "message": pressed,
                },
            },
            {"update_id": 2, "message": typed},
            "not an update",
        ],
    }
    data = UpdatesRequest.parse_json_payload(json.dumps(body).encode())
    query = Update.de_json(data["result"][0], None).callback_query
    assert query is not None and isinstance(query.message, Message)
    assert (query.message.message_id, query.message.chat.id) == (7, 42)
    assert query.message.text == "Waar wilt u wonen?" and query.message.reply_markup is None
    assert query.data == "2|q|thuis"
    assert data["result"][1]["message"]["reply_markup"] == keyboard, "only a pressed message"
    assert data["result"][2] == "not an update"


def test_a_question_message_grows_with_the_choice_and_the_next_question_up_to_the_cap() -> None:
    grown = grown_text("Wonen\n\nWaar wilt u wonen?", "Thuis", "Wilt u verhuizen?")
    assert grown == "Wonen\n\nWaar wilt u wonen?\n\n✓ Thuis\n\nWilt u verhuizen?"
    at_cap = "x" * (GROWN_MAX - len("\n\n✓ Ja\n\nVraag?"))
    assert grown_text(at_cap, "Ja", "Vraag?") is not None
    assert grown_text(at_cap + "x", "Ja", "Vraag?") is None
    # Telegram counts UTF-16 code units: an emoji outside the BMP counts twice.
    assert grown_text(at_cap[:-1] + "🌊", "Ja", "Vraag?") is None


def test_a_redrawn_question_keeps_what_was_answered_above_it() -> None:
    grown = "Vraag een?\n\n✓ Ja\n\nWat doet u graag?"
    assert redrawn_text(grown, "Wat doet u graag?") == grown
    assert redrawn_text(grown, "Wat doet u graag? (1)") == (
        "Vraag een?\n\n✓ Ja\n\nWat doet u graag? (1)"
    )
    assert redrawn_text("Wat doet u graag?", "Wat doet u graag? (1)") == "Wat doet u graag? (1)"


@pytest.fixture(params=["memory", "redis"])
def budget_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


async def test_a_tidy_up_waits_for_nobody_and_is_skipped_when_replies_are_queued(
    budget_url: str | None,
) -> None:
    """TIDY (taking the buttons off an answered question) takes a send slot only when the
    budget is idle: not even the reply just sent holds the next one. A reply never waits
    behind a tidy-up."""
    budget = SendBudget(1, budget_url, f"test-tidy:{uuid.uuid4().hex}")  # a slot per 1.2 s
    limiter = SharedFloodLimiter(budget)
    made: list[str] = []

    async def call(*args: Any, **kwargs: Any) -> bool:
        made.append("edit")
        return True

    tidy = ("editMessageReplyMarkup", {"chat_id": 1}, TIDY)
    try:
        assert await limiter.process_request(call, (), {}, *tidy) is True
        assert made == ["edit"], "an idle budget: the tidy-up is made"
        budget._local_tat = 0.0  # idle again
        if budget_url is not None:
            budget.key += ":fresh"
        await budget._reserve(1e12)  # a reply just took the slot: the next is 1.2 s away
        with pytest.raises(Skipped):
            await limiter.process_request(call, (), {}, *tidy)
        await budget._reserve(1e12)  # replies queued in the next slots (2.4 s ahead)
        with pytest.raises(Skipped):
            await limiter.process_request(call, (), {}, *tidy)
        assert made == ["edit"], "skipped, not made"
    finally:
        await limiter.shutdown()


async def test_a_tidy_up_refused_with_429_is_not_retried() -> None:
    limiter = SharedFloodLimiter(SendBudget(1000, None, "test-tidy-429"))
    tries: list[int] = []
    with warnings.catch_warnings():  # PTB's own constructor warns about its int form
        warnings.simplefilter("ignore")
        refusal = RetryAfter(1)

    async def refused(*args: Any, **kwargs: Any) -> bool:
        tries.append(1)
        raise refusal

    with pytest.raises(Skipped):
        await limiter.process_request(
            refused, (), {}, "editMessageReplyMarkup", {"chat_id": 1}, TIDY
        )
    assert tries == [1]


async def test_calls_bunched_up_by_a_busy_moment_still_keep_to_the_limit() -> None:
    """The budget hands out spaced slots, but when the event loop was busy, every call
    whose slot passed meanwhile wakes at once: they must still not go out more than a
    second's worth in a second, or Telegram answers 429."""
    per_second = 5
    limiter = SharedFloodLimiter(SendBudget(per_second, None, "test-busy-moment"))
    went: list[float] = []

    async def send(*args: Any, **kwargs: Any) -> bool:
        went.append(time.monotonic())
        return True

    calls = [
        asyncio.create_task(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
        )
        for _ in range(8)
    ]
    await asyncio.sleep(0)  # each has its slot, 0.22 s apart
    time.sleep(1.3)  # noqa: ASYNC251 (on purpose: the loop is busy, six slots pass)
    await asyncio.gather(*calls)
    most = max(sum(1 for t in went if start <= t < start + 1.0) for start in went)
    assert len(went) == 8 and most < per_second


async def test_a_reply_refused_with_429_waits_as_asked_and_goes_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram's retry_after is obeyed, and reading it leaves no deprecation warning in
    the log (PTB 22 warns when its int form is read)."""
    limiter = SharedFloodLimiter(SendBudget(1000, None, "test-reply-429"))
    slept: list[float] = []
    monkeypatch.setattr(asyncio, "sleep", lambda seconds: _record(slept, seconds))
    tries: list[int] = []
    with warnings.catch_warnings():  # PTB's own constructor warns too: not ours to fix
        warnings.simplefilter("ignore")
        refusal = RetryAfter(3)

    async def refused_once(*args: Any, **kwargs: Any) -> bool:
        tries.append(1)
        if len(tries) == 1:
            raise refusal
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await limiter.process_request(
            refused_once, (), {}, "sendMessage", {"chat_id": 1}, None
        )
    assert tries == [1, 1] and pytest.approx(3.1) in slept


async def _record(slept: list[float], seconds: float) -> None:
    slept.append(seconds)


def test_notices_become_the_first_paragraphs_of_the_message_after_them() -> None:
    """One message instead of two (one call against Telegram's flood limit), in order."""
    button = Button(label="Wonen", screen="menu", option="wonen")
    menu = Screen(text="Kies een onderwerp.", buttons=((button,),))
    merged = coalesced([Notice("Klaar: Wonen."), Notice("Dank u wel!"), menu])
    assert merged == [
        Screen(text="Klaar: Wonen.\n\nDank u wel!\n\nKies een onderwerp.", buttons=((button,),))
    ]
    redraw = Screen(text="Kies wat past.", buttons=((button,),), redraw=True)
    assert coalesced([Notice("Genoteerd."), redraw]) == [Notice("Genoteerd."), redraw]
    long = Screen(text="x" * 4090)
    assert coalesced([Notice("Klaar."), long]) == [Notice("Klaar."), long], "past 4,096"
    emoji = Screen(text="🌊" * 2045)  # 4,090 UTF-16 code units: Telegram counts those
    assert coalesced([Notice("Klaar."), emoji]) == [Notice("Klaar."), emoji]
    document = Document(filename="a.json", mime_type="application/json", content=b"{}")
    assert coalesced([Notice("Hier is het."), document, Notice("Tot ziens.")]) == [
        Notice("Hier is het."),
        document,
        Notice("Tot ziens."),
    ]


async def test_the_aiohttp_client_maps_failures_to_ptb_errors() -> None:
    """PTB retries and logs by its own error types: a refused connection is a NetworkError,
    a server that does not answer in time is TimedOut, and nothing is left open."""
    from telegram.error import NetworkError, TimedOut

    from bot.channels.telegram_http import AiohttpRequest

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)  # reads nothing, answers nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(2, read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/bot1:x/getMe", "POST")
        server.close()
        await server.wait_closed()
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/bot1:x/getMe", "POST")
    finally:
        await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request(f"http://127.0.0.1:{port}/bot1:x/getMe", "POST")


async def test_the_aiohttp_client_goes_through_the_proxy_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind a company proxy Telegram is reached through HTTP(S)_PROXY, as with PTB's
    default client: the request goes to the proxy, naming the Bot API's URL."""
    from bot.channels.telegram_http import AiohttpRequest

    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        body = b'{"ok":true,"result":true}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        status, body = await request.do_request("http://api.telegram.test/bot1:x/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
    assert status == 200 and body == b'{"ok":true,"result":true}'
    assert seen == [b"POST http://api.telegram.test/bot1:x/getMe HTTP/1.1\r\n"]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no certificate authority signed."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_the_aiohttp_client_refuses_a_bot_api_whose_certificate_nobody_signed(
    tmp_path: Path,
) -> None:
    """Over https the Bot API's certificate is checked (the token travels in the URL): a
    server with a self-signed certificate gets nothing but the TLS handshake."""
    from telegram.error import NetworkError

    from bot.channels.telegram_http import AiohttpRequest

    cert_file, key_file = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    requests: list[bytes] = []

    async def server_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            requests.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(server_side, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(2, read_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match=r"[Cc]ertificate"):
            await request.do_request(f"https://127.0.0.1:{port}/bot1:x/getMe", "POST")
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
    assert requests == []
