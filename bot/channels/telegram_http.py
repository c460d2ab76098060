"""The Bot API over aiohttp: python-telegram-bot's `BaseRequest` on an aiohttp session.

Every answer costs three HTTP calls (the update, the answer to the button, the edit), and
httpx, PTB's default client, spent about 1.2 ms of CPU more per call than aiohttp on the
same loopback server (bench/telegram_bench.py; see README, Performance). Parameters go as
one JSON body (the Bot API takes application/json), uploads as multipart, as PTB's own
client sends them; timeouts and errors map to PTB's own `TimedOut` and `NetworkError`, so
retries and logging work as with the default.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_BODY = {
    "Content-Type": "application/json",
    "User-Agent": BaseRequest.USER_AGENT,
}
AGENT = {"User-Agent": BaseRequest.USER_AGENT}


class AiohttpRequest(BaseRequest):
    """One connection pool of `pool_size`; `read_timeout` etc. as PTB's HTTPXRequest."""

    def __init__(
        self,
        pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.pool_size = pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of_host: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the environment, read here once
            # (aiohttp's trust_env reads the whole environment on every call).
            connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
            self._proxies = urllib.request.getproxies()
            self._proxy_of_host = {}

    def _proxy(self, url: str) -> str | None:
        """The environment's proxy for this URL's scheme and host, unless NO_PROXY names it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxy_of_host:
            proxy = self._proxies.get(parts.scheme)
            if proxy and urllib.request.proxy_bypass_environment(key[1], self._proxies):
                proxy = None
            self._proxy_of_host[key] = proxy
        return self._proxy_of_host[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        # aiohttp has no write timeout of its own: the whole call gets read + write at most.
        total = None if read is None or write is None else read + write + (connect or 0)
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        if files:
            body: Any = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                body.add_field(name, value)
            for name, part in files.items():
                filename, content, *mime = part  # PTB: (file name, bytes, MIME type)
                body.add_field(
                    name, content, filename=filename, content_type=mime[0] if mime else None
                )
            headers = AGENT
        elif request_data is not None and (parameters := request_data.parameters):
            # One JSON body (the Bot API takes application/json): encoded in C, where a
            # form's percent-encoding of a grown question message took about 2% of an answer.
            body, headers = json.dumps(parameters, ensure_ascii=False).encode(), JSON_BODY
        else:
            body, headers = None, AGENT
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy(url),
                ssl=tls_context() if url.startswith("https:") else True,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


@cache
def tls_context() -> ssl.SSLContext:
    """As PTB's httpx client: certifi's CA bundle (a slim image may lack the system's).
    Made at the first https call and shared by every client: each costs about 2 MB and
    30 ms, and a local Bot API server over http needs none."""
    return ssl.create_default_context(cafile=certifi.where())


def _given(value: Any, default: float | None) -> float | None:
    """PTB passes a marker (`BaseRequest.DEFAULT_NONE` and the like) when the caller named
    no timeout: then ours applies. A number, or None for no limit, is the caller's."""
    return value if value is None or isinstance(value, int | float) else default


def without_keyboard(update: Any) -> Any:
    """A pressed button's update carries the whole message it was under, keyboard included,
    and PTB builds an object for every button of it (half of parsing such an update).
    Tijdig reads the message's id, chat and text, never its keyboard: it is left out.
    Anything that is not an update's shape is handed on as it is, for PTB to refuse."""
    query = update.get("callback_query") if isinstance(update, dict) else None
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        message.pop("reply_markup", None)
    return update


class UpdatesRequest(AiohttpRequest):
    """The long poll's client: updates without the pressed message's keyboard, before PTB
    parses them (`parse_json_payload` is PTB's documented place for that)."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            for update in result:
                without_keyboard(update)
        return data
