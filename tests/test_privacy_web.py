"""The web app under attack and under careless use (issue 12, points 4, 6 and 8), and fuzzed.

Why: a share token is a live credential; it must not reach a log even when the path is a
near miss. No request may produce a 500 or a response without the security headers. And a
client must not escape the rate limit by claiming another address in X-Forwarded-For.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from bot.config import load_settings
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.crypto import new_key_text
from bot.testing import ChatDriver
from bot.web.app import create_app
from bot.web.ratelimit import RateLimiter
from bot.web.security import SECURITY_HEADERS, safe_path
from bot.web.uvicorn_server import uvicorn_config
from tests.conftest import DEMO_FLOWS
from tests.summary_support import FrozenClock, link_of, texts

BASE = "http://127.0.0.1:8080"


def client_for(app: Any, address: tuple[str, int] = ("203.0.113.7", 5000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_security_headers(headers: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, name


async def links(service: ConversationService) -> tuple[str, str, str]:
    """A plain link's token, a code link's token, and the code link's id."""
    chat = ChatDriver.on_service(service)
    await chat.ready()
    plain = link_of(await chat.command("delen")).url.removeprefix(BASE + "/s/")
    replies = (await chat.command("delen", "code")).replies
    coded = link_of(replies).url.removeprefix(BASE + "/s/")
    assert re.search(r"\d{3} \d{3}", texts(replies))
    await chat.command("links")
    async with service.runtime.sessions() as session:
        from sqlalchemy import select

        from bot.storage.models import ShareLink

        link_ids = list(await session.scalars(select(ShareLink.id).order_by(ShareLink.created_at)))
    return plain, coded, link_ids[-1]


def app_for(service: ConversationService, limiter: RateLimiter | None = None) -> Any:
    return create_app(
        service.runtime,
        service,
        rate_limiter=limiter or RateLimiter(capacity=10_000, refill_per_second=10_000),
    )


# -- point 4: tokens in near-miss paths ----------------------------------------------------------


async def test_near_miss_paths_never_log_the_token(
    service: ConversationService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    token, _, _ = await links(service)
    near_misses = [
        f"//s/{token}",
        f"/S/{token}",
        f"/s//{token}",
        f"/x/s/{token}",
        f"/static/../s/{token}",
        f"/s/{token}/../pdf",
        f"/{token}",
        f"/s/{token}/PDF",
        f"/fhir/{token}",
    ]
    async with client_for(app_for(service)) as client:
        for path in near_misses:
            response = await client.get(path)
            assert response.status_code < 500, path
            assert_security_headers(response.headers)
    assert "web GET" in caplog.text
    assert token not in caplog.text
    for path in near_misses:
        assert token not in safe_path(path)
    assert safe_path(f"/s/{token}/fhir") == "/s/<token>/fhir"
    assert safe_path("/static/summary.css") == "/static/summary.css"


# -- point 6: a cookie that is not ASCII ----------------------------------------------------------


async def test_a_non_ascii_cookie_on_a_code_link_is_not_a_500(
    service: ConversationService,
) -> None:
    _, coded, link_id = await links(service)
    async with client_for(app_for(service)) as client:
        for value in (b"\xb2.x", b"\xb2\xb2.abc", b"1\xb9.x", "٣.x".encode(), b"\x00.x"):
            headers = {"cookie": b"tijdig_code_" + link_id.encode() + b"=" + value}
            response = await client.get(f"/s/{coded}", headers=headers)  # type: ignore[arg-type]
            assert response.status_code < 500, value
            assert_security_headers(response.headers)
            assert 'name="code"' in response.text  # the code form: the cookie counts for nothing


async def test_an_unexpected_error_answers_with_the_security_headers_and_logs_no_text(
    service: ConversationService, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Any) -> Any:
        raise ValueError("invalid literal for int(): 'Wilhelmina'")

    app = create_app(service.runtime, service, routes=[Route("/x", broken)])
    async with client_for(app) as client:
        response = await client.get("/x")
    assert response.status_code == 500
    assert_security_headers(response.headers)
    assert "ValueError" in caplog.text
    assert "Wilhelmina" not in caplog.text


# -- point 8: whose X-Forwarded-For counts --------------------------------------------------------


async def test_forwarded_for_counts_only_from_forwarded_allow_ips(
    runtime: Runtime, data_key: str
) -> None:
    service = ConversationService(runtime, clock=FrozenClock())
    token, _, _ = await links(service)
    loopback = ("127.0.0.1", 4000)

    async def statuses(app: Any) -> list[int]:
        async with client_for(app, loopback) as client:
            return [
                (
                    await client.get(f"/s/{token}", headers={"x-forwarded-for": f"198.51.100.{i}"})
                ).status_code
                for i in range(5)
            ]

    # Default: no proxy is trusted, not even one on 127.0.0.1.
    assert runtime.settings.forwarded_allow_ips == ""
    assert await statuses(app_for(service, RateLimiter(3, 0.001))) == [200, 200, 200, 429, 429]
    # Behind a proxy on 127.0.0.1 that is named: each forwarded client has its own budget.
    runtime.settings = dataclasses.replace(runtime.settings, forwarded_allow_ips="127.0.0.1")
    assert await statuses(app_for(service, RateLimiter(3, 0.001))) == [200] * 5
    # And uvicorn itself never applies its own default (which trusts 127.0.0.1).
    assert uvicorn_config(object(), runtime.settings).proxy_headers is False


# -- fuzzing ------------------------------------------------------------------------------------


async def call(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, dict[str, str]]:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]}
    return start["status"], headers


HEADER_BYTES = st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
SEGMENT = st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=30
)  # an HTTP server never hands a surrogate in a path


def test_fuzz_the_web_app_never_answers_500_and_always_has_the_headers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    loop = asyncio.new_event_loop()
    app_settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tijdig.db'}",
        data_key=new_key_text(),
        flows_dir=DEMO_FLOWS,
        _env_file=None,
    )
    runtime = loop.run_until_complete(Runtime.create(app_settings))
    try:
        service = ConversationService(runtime)
        plain, coded, link_id = loop.run_until_complete(links(service))
        app = app_for(service)

        paths = st.one_of(
            SEGMENT.map(lambda s: "/" + s),
            st.lists(SEGMENT, max_size=6).map(lambda parts: "/" + "/".join(parts)),
            st.tuples(st.sampled_from([plain, coded, "x" * 43, ""]), SEGMENT).map(
                lambda t: f"/s/{t[0]}/{t[1]}"
            ),
            st.sampled_from([plain, coded]).map(lambda t: f"/s/{t}"),
            st.sampled_from(["txt", "fhir", "pdf"]).map(lambda f: f"/s/{plain}/{f}"),
        )
        cookies = st.one_of(
            HEADER_BYTES,
            HEADER_BYTES.map(lambda v: b"tijdig_code_" + link_id.encode() + b"=" + v),
        )

        @settings(
            max_examples=250,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(
            method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE"]),
            path=paths,
            query=st.binary(max_size=200),
            cookie=cookies,
            content_type=st.sampled_from(
                [b"application/x-www-form-urlencoded", b"multipart/form-data", b"", b"\xff"]
            ),
            body=st.binary(max_size=3000),
        )
        def one_request(
            method: str, path: str, query: bytes, cookie: bytes, content_type: bytes, body: bytes
        ) -> None:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": method,
                "scheme": "http",
                "path": path,
                "raw_path": quote(path, safe="/").encode(),
                "query_string": query,
                "root_path": "",
                "headers": [
                    (b"host", b"testserver"),
                    (b"cookie", cookie),
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                ],
                "client": ("203.0.113.9", 1234),
                "server": ("testserver", 80),
            }
            status, headers = loop.run_until_complete(call(app, scope, body))
            assert status < 500, (method, path, status)
            assert_security_headers(headers)

        one_request()
    finally:
        loop.run_until_complete(runtime.close())
        loop.close()
    for token in (plain, coded):
        assert token not in caplog.text


async def test_a_query_string_that_is_not_utf8_is_a_400_with_the_headers(
    service: ConversationService,
) -> None:
    token, _, _ = await links(service)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/s/{token}",
        "raw_path": f"/s/{token}".encode(),
        "query_string": b"lang=\x80",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("203.0.113.9", 1234),
        "server": ("testserver", 80),
    }
    status, headers = await call(app_for(service), scope, b"")
    assert status == 400
    assert_security_headers(headers)
