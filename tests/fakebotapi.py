"""A fake Telegram Bot API server for tests.

Why: the Telegram channel must be tested end to end with the real python-telegram-bot
(PTB) stack, its HTTP client, form encoding and JSON parsing included, without reaching
api.telegram.org. `FakeBotAPI` serves the Bot API methods the bot uses over real HTTP on
127.0.0.1, lets a test push user updates (messages, callback queries, duplicates), records
every call the bot makes, and injects failures (blocked users, 429 flood limits).

Usage::

    async with FakeBotAPI() as api:
        app = Application.builder().token(api.token).base_url(api.base_url).build()
        ...
        api.push_message(42, "/start")
        [call] = await api.wait_for_call("sendMessage", chat_id=42)

Behaviour that mirrors the real Bot API (so bugs show up here rather than in production):
updates are re-sent until confirmed through `offset`; a newer getUpdates ends an older one
with 409; getUpdates answers 409 while a webhook is set; `editMessageText` without
`reply_markup` removes the inline keyboard; an edit that changes nothing answers 400
"message is not modified"; empty or over-long texts answer 400; with parse_mode HTML the
result text has the tags stripped (unsupported or unbalanced tags answer 400 "can't parse
entities"); only inline keyboards are echoed in the returned Message.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["AnsweredCallback", "ApiError", "Call", "FakeBotAPI", "ReceivedFile", "StoredFile"]

T = TypeVar("T")
JSON = dict[str, Any]

DEFAULT_TOKEN = "123456789:TEST-fake-bot-token"
DEFAULT_GROUP_USER_ID = 5550001
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_LONG_POLL = 50.0

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

# PTB sends str values as-is and everything else JSON-encoded. These parameters are strings
# in the Bot API, so they are never JSON-decoded ("123" must stay the text "123").
_STRING_PARAMS = frozenset(
    {
        "action", "address", "business_connection_id", "callback_query_id", "caption",
        "description", "emoji", "file_id", "first_name", "inline_message_id", "ip_address",
        "language_code", "last_name", "message_effect_id", "name", "parse_mode",
        "phone_number", "question", "secret_token", "short_description", "text", "title",
        "url", "vcard", "document", "photo", "voice", "audio", "video", "animation",
        "sticker", "thumbnail", "video_note",
    }
)  # fmt: skip

_SEND_METHODS = ("sendMessage", "sendDocument", "sendPhoto")


class ApiError(Exception):
    """An error answer of the Bot API; raised inside method handlers."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class ReceivedFile:
    """A file the bot uploaded in a multipart request."""

    field: str
    filename: str | None
    content: bytes
    content_type: str | None


@dataclass
class Call:
    """One Bot API request the bot made, recorded when it was answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, ReceivedFile]
    time: float  # time.monotonic() when the request arrived
    ok: bool = True
    result: Any = None
    error: JSON | None = None

    @property
    def chat_id(self) -> int | str | None:
        """The chat the call was about, if any."""
        return _chat_key(self.params["chat_id"]) if "chat_id" in self.params else None

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"error {self.error}"
        return f"Call({self.method} {self.params!r} files={list(self.files)} {status})"


@dataclass(frozen=True)
class AnsweredCallback:
    """An answerCallbackQuery call."""

    id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class _Queued:
    update: JSON
    forced: bool = False  # re-queued by redeliver(): sent once even below the offset
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class StoredFile:
    """A file getFile and the file URL serve (user uploads pushed by tests, bot uploads)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str


@dataclass
class _Failure:
    error_code: int
    description: str
    parameters: JSON | None


class _Server(uvicorn.Server):
    """uvicorn Server that runs inside a test's event loop.

    Why: no signal handlers (pytest owns them), a ready event instead of polling `started`,
    and an exit event instead of uvicorn's 0.1 s tick loop.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        await self.exit_requested.wait()


class FakeBotAPI:
    """A fake Telegram Bot API server over real HTTP; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "tijdig_test_bot",
        bot_first_name: str = "Tijdig",
        host: str = "127.0.0.1",
        flood_limit: int | None = None,
    ) -> None:
        self.token = token
        self.host = host
        # Like Telegram: more than `flood_limit` chat-bound calls in any one second are
        # refused with 429 and retry_after (counted in `flood_refused`).
        self.flood_limit = flood_limit
        self.flood_refused = 0
        self._chat_bound_times: list[float] = []
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: dict[str | None, list[JSON]] = {}
        self.deleted_messages: list[tuple[int | str, int]] = []
        self.webhook_url: str = ""
        self.blocked_chats: set[int | str] = set()

        self._queue: list[_Queued] = []
        self._update_ids = itertools.count(100001)
        self._last_update_id = 100000
        self._ids = itertools.count(1)
        self._next_message_id: dict[int | str, int] = {}
        self._chats: dict[int | str, JSON] = {}
        self._store: dict[int | str, dict[int, JSON]] = {}
        self._bot_message_ids: dict[int | str, list[int]] = {}
        self._callback_ids: set[str] = set()
        self._files: dict[str, StoredFile] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._poll_generation = 0
        self._active_polls = 0
        self._closing = False
        self._changed = asyncio.Event()

        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Callable[[JSON, dict[str, ReceivedFile]], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "deleteMessage": self._delete_message,
                "getFile": self._get_file,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on a free port of `host` in the running event loop."""
        if self._task is not None:
            raise RuntimeError("FakeBotAPI already started")
        # An explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections;
        # without it every response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file_endpoint, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._closing = False
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="FakeBotAPI")
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            sock.close()
            await self._task  # re-raises the startup error
            raise RuntimeError("FakeBotAPI server stopped during startup")

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered with an empty list first."""
        if self._server is None or self._task is None:
            return
        self._closing = True
        self._notify()
        self._server.should_exit = True
        self._server.exit_requested.set()
        try:
            await self._task
        finally:
            self._server = None
            self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For PTB's `base_url`: PTB substitutes `{token}` with the bot's token."""
        return f"{self.url}/bot{{token}}"

    @property
    def base_file_url(self) -> str:
        """For PTB's `base_file_url` (file downloads after getFile)."""
        return f"{self.url}/file/bot{{token}}"

    # ------------------------------------------------------------------ pushing updates

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update for getUpdates; assigns `update_id` when missing."""
        if "update_id" in update:
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))
            self._update_ids = itertools.count(self._last_update_id + 1)
        else:
            update["update_id"] = next(self._update_ids)
            self._last_update_id = update["update_id"]
        callback = update.get("callback_query")
        if isinstance(callback, dict) and "id" in callback:
            self._callback_ids.add(str(callback["id"]))
        self._queue.append(_Queued(update))
        self._notify()
        return update

    def redeliver(self, update: JSON) -> JSON:
        """Queue the identical update again (same update_id), as a duplicate delivery.

        It is handed out once by the next getUpdates even when the bot's offset has already
        passed it, then dropped like any confirmed update.
        """
        self._queue.append(_Queued(update, forced=True))
        self._notify()
        return update

    def push_message(
        self,
        chat_id: int | str,
        text: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        language_code: str = "nl",
        chat_type: str = "private",
        **extra_message_fields: Any,
    ) -> JSON:
        """Queue a message from a user; extra fields (sticker=..., location=...) are merged in.

        Commands get `bot_command` entities so PTB's CommandHandler sees them. The user id
        defaults to the chat id in private chats.
        """
        message = self._user_message(
            chat_id, user_id, first_name, language_code, chat_type, text, extra_message_fields
        )
        return self.push_update({"message": message})

    def push_sticker(self, chat_id: int | str, emoji: str = "👍", **kwargs: Any) -> JSON:
        """Queue a sticker message; `kwargs` go to push_message."""
        n = next(self._ids)
        sticker = {
            "file_id": f"fake-sticker-{n}",
            "file_unique_id": f"ustk{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.push_message(chat_id, sticker=sticker, **kwargs)

    def push_photo(
        self,
        chat_id: int | str,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        caption: str | None = None,
        **kwargs: Any,
    ) -> JSON:
        """Queue a photo message; the largest size can be downloaded via getFile."""
        stored = self.add_file(content, "photos", "jpg")
        photo = [
            {
                "file_id": f"{stored.file_id}-thumb",
                "file_unique_id": f"{stored.file_unique_id}t",
                "width": 90,
                "height": 90,
                "file_size": min(len(content), 1000),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(content),
            },
        ]
        if caption is not None:
            kwargs["caption"] = caption
        return self.push_message(chat_id, photo=photo, **kwargs)

    def push_voice(
        self,
        chat_id: int | str,
        content: bytes = b"OggS-fake-voice",
        *,
        duration: int = 2,
        mime_type: str = "audio/ogg",
        **kwargs: Any,
    ) -> JSON:
        """Queue a voice note; its content can be downloaded via getFile."""
        stored = self.add_file(content, "voice", "oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self.push_message(chat_id, voice=voice, **kwargs)

    def push_document(
        self,
        chat_id: int | str,
        content: bytes = b"%PDF-1.4 fake",
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        **kwargs: Any,
    ) -> JSON:
        """Queue a document message; its content can be downloaded via getFile."""
        stored = self.add_file(content, "documents", file_name.rpartition(".")[2] or "bin")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        if caption is not None:
            kwargs["caption"] = caption
        return self.push_message(chat_id, document=document, **kwargs)

    def push_edited_message(
        self,
        chat_id: int | str,
        message_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        language_code: str = "nl",
    ) -> JSON:
        """Queue an edited_message update for a message the user sent earlier."""
        key = _chat_key(chat_id)
        message = self._store.get(key, {}).get(message_id)
        if message is None:
            chat = self._chat(key)
            message = self._user_message(
                key, user_id, first_name, language_code, chat["type"], text, {}
            )
            message["message_id"] = message_id
            self._store[key][message_id] = message
        message["text"] = text
        message.pop("entities", None)
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        message["edit_date"] = int(time.time())
        return self.push_update({"edited_message": copy.deepcopy(message)})

    def push_callback(
        self,
        chat_id: int | str,
        data: str,
        *,
        message_id: int,
        user_id: int | None = None,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> JSON:
        """Queue a callback query (inline button press) on message `message_id`.

        The attached message is the current state of that message (text, reply_markup) when
        the fake knows it.
        """
        key = _chat_key(chat_id)
        chat = self._chat(key)
        message = self._store.get(key, {}).get(message_id)
        if message is None:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": self.bot_user,
                "text": "",
            }
        query_id = str(8_000_000_000 + next(self._ids))
        callback = {
            "id": query_id,
            "from": self._user(key, chat["type"], user_id, first_name, language_code),
            "message": copy.deepcopy(message),
            "chat_instance": f"ci{abs(hash(key)) % 10**12}",
            "data": data,
        }
        return self.push_update({"callback_query": callback})

    # ------------------------------------------------------------------ failure injection

    def block_chat(self, chat_id: int | str) -> None:
        """Make every call for this chat answer 403 "bot was blocked by the user"."""
        self.blocked_chats.add(_chat_key(chat_id))

    def unblock_chat(self, chat_id: int | str) -> None:
        self.blocked_chats.discard(_chat_key(chat_id))

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next call of `method` fail once (queue several by calling again)."""
        parameters = {"retry_after": retry_after} if error_code == 429 else None
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request: injected failure",
                403: "Forbidden: injected failure",
                409: "Conflict: injected failure",
            }.get(error_code, f"Internal Server Error: injected failure {error_code}")
        failure = _Failure(error_code, description, parameters)
        self._failures.setdefault(method.lower(), []).append(failure)

    def add_method(
        self, method: str, handler: Callable[[JSON, dict[str, ReceivedFile]], Any]
    ) -> None:
        """Serve an extra Bot API method: `handler(params, files)` returns the result.

        It may raise ApiError or be async.
        """
        self._methods[method.lower()] = (method, handler)

    def add_file(self, content: bytes, folder: str = "documents", ext: str = "bin") -> StoredFile:
        """Store a file that getFile and the file URL can serve."""
        n = next(self._ids)
        path = f"{folder}/file_{n}.{ext}"
        stored = StoredFile(f"fake-{folder}-{n}", f"u{folder[:3]}{n}", content, path)
        self._files[stored.file_id] = stored
        return stored

    # ------------------------------------------------------------------ inspection

    def mark(self) -> int:
        """Current number of calls; pass as `since=` to wait only for later calls."""
        return len(self.calls)

    def calls_for(
        self, method: str, chat_id: int | str | None = None, *, since: int | None = None
    ) -> list[Call]:
        """Recorded calls of `method` (optionally for one chat), oldest first."""
        wanted = method.lower()
        key = None if chat_id is None else _chat_key(chat_id)
        return [
            call
            for call in self.calls[since or 0 :]
            if call.method.lower() == wanted and (key is None or call.chat_id == key)
        ]

    def sent_messages(self, chat_id: int | str, *, since: int | None = None) -> list[JSON]:
        """Messages the bot sent to the chat (sendMessage/Document/Photo results), in order.

        These are snapshots as sent; see messages() for the state after edits.
        """
        key = _chat_key(chat_id)
        return [
            call.result
            for call in self.calls[since or 0 :]
            if call.ok and call.method in _SEND_METHODS and call.chat_id == key
        ]

    def messages(self, chat_id: int | str) -> list[JSON]:
        """Current state of the bot's messages in the chat (edits applied, deletes removed)."""
        key = _chat_key(chat_id)
        store = self._store.get(key, {})
        ids = self._bot_message_ids.get(key, [])
        return [copy.deepcopy(store[i]) for i in ids if i in store]

    def message(self, chat_id: int | str, message_id: int) -> JSON | None:
        """Current state of one message (the bot's or a user's), or None."""
        found = self._store.get(_chat_key(chat_id), {}).get(message_id)
        return copy.deepcopy(found) if found is not None else None

    def last_text(self, chat_id: int | str) -> str | None:
        """Text (or caption) of the bot's latest sent message in the chat, as it is now."""
        sent = self.sent_messages(chat_id)
        if not sent:
            return None
        last = self.message(chat_id, sent[-1]["message_id"]) or sent[-1]
        return last.get("text", last.get("caption"))

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot through getUpdates' offset."""
        return [queued.update for queued in self._queue]

    @property
    def active_polls(self) -> int:
        """How many getUpdates requests are waiting right now (long polling)."""
        return self._active_polls

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the test API reads better than asyncio.timeout
    ) -> T:
        """Wait until `predicate()` is truthy and return its value.

        Re-checked whenever a call is recorded or the state changes, never on a timer.
        """
        try:
            return await self._wait_until(predicate, timeout)
        except TimeoutError:
            raise AssertionError(
                f"condition not met within {timeout} s; calls so far:\n{self._describe_calls()}"
            ) from None

    async def wait_for_call(
        self,
        method: str,
        chat_id: int | str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (for `chat_id`) arrived; return all matches.

        `since` is a mark() value: only calls after it count. Failed calls count too (see
        Call.ok).
        """

        def enough() -> list[Call] | None:
            found = self.calls_for(method, chat_id, since=since)
            return found if len(found) >= count else None

        try:
            return await self._wait_until(enough, timeout)
        except TimeoutError:
            where = "" if chat_id is None else f" for chat {chat_id}"
            got = len(self.calls_for(method, chat_id, since=since))
            raise AssertionError(
                f"expected {count} {method} call(s){where} within {timeout} s, got {got}; "
                f"calls so far:\n{self._describe_calls(since)}"
            ) from None

    async def wait_for_sent(
        self,
        chat_id: int | str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> list[JSON]:
        """Wait until the bot sent `count` messages (any send method) to the chat."""

        def enough() -> list[JSON] | None:
            found = self.sent_messages(chat_id, since=since)
            return found if len(found) >= count else None

        try:
            return await self._wait_until(enough, timeout)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} message(s) sent to chat {chat_id} within {timeout} s; "
                f"calls so far:\n{self._describe_calls(since)}"
            ) from None

    # ------------------------------------------------------------------ internals: waiting

    def _notify(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], T], seconds: float) -> T:
        async with asyncio.timeout(seconds):
            while True:
                changed = self._changed
                result = predicate()
                if result:
                    return result
                await changed.wait()

    def _describe_calls(self, since: int | None = None) -> str:
        calls = self.calls[since or 0 :]
        return "\n".join(f"  {call!r}" for call in calls) or "  (none)"

    # ------------------------------------------------------------------ internals: HTTP

    async def _endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        if request.path_params["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return JSONResponse(body, status_code=401)
        name = request.path_params["method"]
        try:
            params, files = await _read_params(request)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.error_code)
        known = self._methods.get(name.lower())
        call = Call(known[0] if known else name, params, files, arrived)
        try:
            if known is None:
                raise ApiError(404, "Not Found: method not found")
            self._check_failures(call)
            result = known[1](params, files)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as exc:
            call.ok = False
            call.error = exc.body()
            self._record(call)
            return JSONResponse(call.error, status_code=exc.error_code)
        call.result = copy.deepcopy(result)
        self._record(call)
        return JSONResponse({"ok": True, "result": result})

    async def _file_endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response("Unauthorized", status_code=401)
        path = request.path_params["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return Response(stored.content, media_type="application/octet-stream")
        return Response("Not Found", status_code=404)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify()

    def max_chat_bound_in_any_second(self) -> int:
        """The most chat-bound calls that arrived within any one second (accepted ones)."""
        times = sorted(c.time for c in self.calls if c.chat_id is not None and c.ok)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def _check_flood(self, call: Call) -> None:
        if self.flood_limit is None or call.chat_id is None:
            return
        window = self._chat_bound_times
        while window and call.time - window[0] >= 1.0:
            window.pop(0)
        if len(window) >= self.flood_limit:
            self.flood_refused += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        window.append(call.time)

    def _check_failures(self, call: Call) -> None:
        self._check_flood(call)
        pending = self._failures.get(call.method.lower())
        if pending:
            failure = pending.pop(0)
            raise ApiError(failure.error_code, failure.description, failure.parameters)
        if call.chat_id is not None and call.chat_id in self.blocked_chats:
            raise ApiError(403, BLOCKED)

    # ------------------------------------------------------------------ internals: state

    def _chat(self, key: int | str) -> JSON:
        """The chat object for `key`, inventing a plausible one for unknown chats."""
        chat = self._chats.get(key)
        if chat is None:
            if isinstance(key, int) and key > 0:
                chat = {"id": key, "type": "private", "first_name": "Test"}
            elif isinstance(key, int) and str(key).startswith("-100"):
                chat = {"id": key, "type": "supergroup", "title": f"Group {key}"}
            elif isinstance(key, int):
                chat = {"id": key, "type": "group", "title": f"Group {key}"}
            else:
                chat_id = -1001000000000 - len(self._chats)
                chat = {"id": chat_id, "type": "channel", "title": key, "username": key[1:]}
            self._chats[key] = chat
        return chat

    def _user(
        self,
        key: int | str,
        chat_type: str,
        user_id: int | None,
        first_name: str,
        language_code: str,
    ) -> JSON:
        if user_id is None:
            private = chat_type == "private" and isinstance(key, int)
            user_id = key if private and isinstance(key, int) else DEFAULT_GROUP_USER_ID
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def _user_message(
        self,
        chat_id: int | str,
        user_id: int | None,
        first_name: str,
        language_code: str,
        chat_type: str,
        text: str | None,
        extra: JSON,
    ) -> JSON:
        key = _chat_key(chat_id)
        if key not in self._chats:
            chat: JSON = {"id": key, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = first_name
            else:
                chat["title"] = f"Group {key}"
            self._chats[key] = chat
        chat = self._chat(key)
        message: JSON = {
            "message_id": self._new_message_id(key),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(key, chat["type"], user_id, first_name, language_code),
        }
        if text is not None:
            message["text"] = text
            entities = _command_entities(text)
            if entities:
                message["entities"] = entities
        message.update(extra)
        self._store.setdefault(key, {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _new_message_id(self, key: int | str) -> int:
        message_id = self._next_message_id.get(key, 1)
        self._next_message_id[key] = message_id + 1
        return message_id

    def _bot_message(self, params: JSON, **content: Any) -> JSON:
        """Store and return a new message from the bot in params' chat."""
        key = _required_chat(params)
        message: JSON = {
            "message_id": self._new_message_id(key),
            "from": self.bot_user,
            "chat": self._chat(key),
            "date": int(time.time()),
        }
        message.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        reply_to = _reply_to_id(params)
        if reply_to is not None and reply_to in self._store.get(key, {}):
            replied = copy.deepcopy(self._store[key][reply_to])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        self._store.setdefault(key, {})[message["message_id"]] = message
        self._bot_message_ids.setdefault(key, []).append(message["message_id"])
        return copy.deepcopy(message)

    def _editable(self, params: JSON) -> JSON:
        key = _required_chat(params)
        message = self._store.get(key, {}).get(_int_param(params, "message_id"))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    # ------------------------------------------------------------------ Bot API methods

    def _true(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        return True

    def _get_me(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        return self.bot_user

    async def _get_updates(self, params: JSON, files: dict[str, ReceivedFile]) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # ends an older long poll with 409, as Telegram does
        self._confirm(offset)
        if not self._available() and timeout > 0 and not self._closing:
            self._active_polls += 1
            self._notify()
            try:
                with contextlib.suppress(TimeoutError):
                    await self._wait_until(
                        lambda: (
                            self._available()
                            or self._closing
                            or self._poll_generation != generation
                        ),
                        timeout,
                    )
            finally:
                self._active_polls -= 1
            if self._poll_generation != generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request")
        batch = sorted(self._available(), key=lambda queued: queued.update_id)[:limit]
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(queued.update) for queued in batch]

    def _available(self) -> list[_Queued]:
        return [] if self._closing else self._queue

    def _confirm(self, offset: int) -> None:
        """Drop updates confirmed by `offset` (negative: keep only the last -offset)."""
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset:
            self._queue = [
                queued
                for queued in self._queue
                if queued.update_id >= offset or (queued.forced and not queued.delivered)
            ]

    def _delete_webhook(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _set_webhook(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    def _set_my_commands(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be a JSON array")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or None] = commands
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, ReceivedFile]) -> list[JSON]:
        return self.commands.get(params.get("language_code") or None, [])

    def _delete_my_commands(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        self.commands.pop(params.get("language_code") or None, None)
        return True

    def _send_message(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        visible, entities = _apply_parse_mode(text, params.get("parse_mode"))
        if len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        content: JSON = {"text": visible}
        entities = params.get("entities") or entities
        if entities:
            content["entities"] = entities
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._bot_message(params, **content)

    def _caption(self, params: JSON) -> JSON:
        caption = params.get("caption")
        if not caption:
            return {}
        visible, entities = _apply_parse_mode(caption, params.get("parse_mode"))
        if len(visible) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        content: JSON = {"caption": visible}
        entities = params.get("caption_entities") or entities
        if entities:
            content["caption_entities"] = entities
        return content

    def _incoming_file(
        self, params: JSON, files: dict[str, ReceivedFile], name: str, folder: str
    ) -> tuple[StoredFile, str | None, str | None]:
        """The uploaded (or referenced) file of parameter `name`: stored, filename, mime."""
        upload = files.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            ext = (upload.filename or "").rpartition(".")[2] or "bin"
            stored = self.add_file(upload.content, folder, ext)
            return stored, upload.filename, upload.content_type
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value], None, None
            filename = value.rstrip("/").rpartition("/")[2] or None
            return self.add_file(b"", folder, "bin"), filename, None  # a URL or unknown file_id
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    def _send_document(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        _required_chat(params)
        stored, filename, mime = self._incoming_file(params, files, "document", "documents")
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if filename:
            document["file_name"] = filename
        if mime:
            document["mime_type"] = mime
        return self._bot_message(params, document=document, **self._caption(params))

    def _send_photo(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        _required_chat(params)
        stored, _, _ = self._incoming_file(params, files, "photo", "photos")
        size = len(stored.content)
        thumb = {
            "file_id": f"{stored.file_id}-thumb",
            "file_unique_id": f"{stored.file_unique_id}t",
            "width": 90,
            "height": 67,
            "file_size": min(size, 1000),
        }
        full = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 800,
            "height": 600,
            "file_size": size,
        }
        photo = [thumb, full]
        return self._bot_message(params, photo=photo, **self._caption(params))

    def _send_chat_action(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        _required_chat(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: action is empty")
        return True

    def _edit_message_text(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        visible, entities = _apply_parse_mode(text, params.get("parse_mode"))
        if len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        entities = params.get("entities") or entities
        markup = params.get("reply_markup") or None
        if (
            message.get("text") == visible
            and message.get("entities") == (entities or None)
            and message.get("reply_markup") == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = visible
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        _set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, ReceivedFile]
    ) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        markup = params.get("reply_markup") or None
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        _set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _answer_callback_query(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_ids:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callbacks.append(
            AnsweredCallback(
                id=query_id,
                text=params.get("text"),
                show_alert=bool(params.get("show_alert", False)),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
            )
        )
        return True

    def _delete_message(self, params: JSON, files: dict[str, ReceivedFile]) -> bool:
        key = _required_chat(params)
        message_id = _int_param(params, "message_id")
        if self._store.get(key, {}).pop(message_id, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted_messages.append((key, message_id))
        return True

    def _get_file(self, params: JSON, files: dict[str, ReceivedFile]) -> JSON:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id) or self._files.get(file_id.removesuffix("-thumb"))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


# ---------------------------------------------------------------------- helpers


def _chat_key(value: Any) -> int | str:
    """Chat ids arrive as ints or strings ("42", "@channel"); use int when numeric."""
    if isinstance(value, bool):
        raise ApiError(400, "Bad Request: chat not found")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _required_chat(params: JSON) -> int | str:
    if params.get("chat_id") in (None, ""):
        raise ApiError(400, "Bad Request: chat_id is empty")
    return _chat_key(params["chat_id"])


def _int_param(params: JSON, name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {name} is invalid") from None


def _reply_to_id(params: JSON) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return int(reply["message_id"])
    if params.get("reply_to_message_id") is not None:
        return int(params["reply_to_message_id"])
    return None


def _set_markup(message: JSON, markup: Any) -> None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JSON]:
    """bot_command entities as Telegram computes them (offsets in UTF-16 code units)."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: match.start(1)]),
            "length": _utf16_len(match.group(1)),
        }
        for match in re.finditer(r"(?:^|(?<=\s))(/[A-Za-z0-9_]{1,32}(?:@\w+)?)", text)
    ]


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_params(raw: dict[str, str]) -> JSON:
    return {key: _decode_value(key, value) for key, value in raw.items()}


async def _read_params(request: Request) -> tuple[JSON, dict[str, ReceivedFile]]:
    """Parameters from the query string and the body (form, multipart or JSON)."""
    params: JSON = _decode_params(dict(request.query_params))
    files: dict[str, ReceivedFile] = {}
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params, files
    if kind == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if isinstance(decoded, dict):
            params.update(decoded)
    elif kind == "multipart/form-data":
        fields, files = _parse_multipart(body, content_type)
        params.update(_decode_params(fields))
    else:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update(_decode_params(dict(pairs)))
    return params, files


def _disposition_param(disposition: str, name: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{name}="([^"]*)"', disposition)
    if match is None:
        return None
    # httpx escapes '"' as %22 and '\' as '\\' in form field parameters
    return match.group(1).replace("%22", '"').replace("\\\\", "\\")


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, ReceivedFile]]:
    """Parse multipart/form-data without python-multipart (not a project dependency)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ApiError(400, "Bad Request: multipart body without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, ReceivedFile] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        filename = _disposition_param(disposition, "filename")
        if filename is None:
            fields[name] = content.decode("utf-8")
        else:
            files[name] = ReceivedFile(name, filename, content, headers.get("content-type"))
    return fields, files


# ---------------------------------------------------------------------- parse_mode HTML

_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
    "a": "text_link", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
    "span": "spoiler",
}  # fmt: skip


class _TelegramHTML(HTMLParser):
    """Telegram's HTML subset: strips tags into entities, rejects what Telegram rejects."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.text = ""
        self.entities: list[JSON] = []
        self.stack: list[tuple[str, int, JSON]] = []

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        index = self.line_starts[line - 1] + column
        return len(self.source[:index].encode("utf-8"))

    def _fail(self, reason: str) -> None:
        raise ApiError(400, f"Bad Request: can't parse entities: {reason}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag not in _HTML_ENTITY_TYPES or (tag == "span" and values.get("class") != "tg-spoiler"):
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        entity: JSON = {"type": _HTML_ENTITY_TYPES[tag]}
        if tag == "a":
            entity["url"] = values.get("href") or ""
        elif tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = values.get("emoji-id") or ""
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (values.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][2]["language"] = language
            entity = {}
        self.stack.append((tag, _utf16_len(self.text), entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            expected = f'"</{self.stack[-1][0]}>"' if self.stack else "no end tag"
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, expected {expected}, "
                f'found "</{tag}>"'
            )
        _, start, entity = self.stack.pop()
        length = _utf16_len(self.text) - start
        if entity and length:
            self.entities.append({**entity, "offset": start, "length": length})

    def handle_data(self, data: str) -> None:
        self.text += data

    def finish(self) -> tuple[str, list[JSON]]:
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return self.text, self.entities


def _apply_parse_mode(text: str, parse_mode: Any) -> tuple[str, list[JSON]]:
    """The visible text and entities; only HTML is interpreted, Markdown stays raw."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        parser = _TelegramHTML(text)
        parser.feed(text)
        return parser.finish()
    return text, []
