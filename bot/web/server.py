"""Running the web app inside the host's event loop (`start_background`), on
WEB_HOST:WEB_PORT: beside the terminal chat, beside the Telegram bot, or alone (`serve`).

The port is taken and listening from the start, but the web server (uvicorn, with its
command-line tool and supervisors) and the app (Starlette, the summary renderers, the
page code) are loaded when the first connection arrives: together about 4 MB of a
process that would otherwise only chat. That first connection waits in the port's
backlog meanwhile (about 0.1 s, once). A channel that brings its own routes (a Telegram
webhook, whose updates come at once and often) gets both at start. How uvicorn is set
up: `bot.web.uvicorn_server`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import i18n

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from bot.config import Settings

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """Take the port now, so that "in use" is one clear sentence and port 0 works."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class DeferredApp:
    """An ASGI app that builds the real one at its first request (see the module's
    docstring); until then only `stopping` is kept, and handed on when it is built.

    Should building fail (a library missing from the installation, say), each request
    gets a short 503 in the default language, the log says once what failed (its kind
    only: a message could hold a setting's secret), and the next request tries again."""

    def __init__(self, build: Callable[[], Any], locale: str = i18n.SOURCE_LOCALE) -> None:
        self._build = build
        self._locale = locale
        self._app: Any = None
        self._stopping = False
        self._failed: str | None = None

    @property
    def built(self) -> bool:
        return self._app is not None

    def app(self) -> Any:
        if self._app is None:
            self._app = self._build()
            self._app.state.stopping = self._stopping
        return self._app

    def close(self) -> None:
        """The server stopped: end what the app runs beside it (its PDF process)."""
        if self._app is not None:
            self._app.state.pdf.close()

    def refuse_updates(self) -> None:
        self._stopping = True
        if self._app is not None:
            self._app.state.stopping = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            app = self.app()
        except Exception as exc:
            if self._failed != type(exc).__name__:
                self._failed = type(exc).__name__
                log.error("the web app cannot be built (%s); answering 503", self._failed)
            if scope["type"] == "http":
                await self._unavailable(send)
            return
        self._failed = None
        await app(scope, receive, send)

    async def _unavailable(self, send: Any) -> None:
        text = i18n.translator(self._locale).gettext(
            "De samenvatting kan nu niet worden getoond. Probeer het later nog eens."
        )
        body = text.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"60"),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Connections that may wait in the port's queue while uvicorn is loaded (uvicorn's own).
BACKLOG = 2048


@dataclass
class BackgroundWeb:
    """The web app beside a chat: listening from the start, served by uvicorn from the
    first connection on (or at once, `serve_now`); `stop()` ends it."""

    host: str
    port: int
    app: DeferredApp | None = None
    settings: Settings | None = field(default=None, repr=False)
    sock: socket.socket | None = None
    server: Any = None
    task: asyncio.Task[None] | None = None
    _starting: asyncio.Task[bool] | None = field(default=None, repr=False)

    def refuse_updates(self) -> None:
        """Stopping: `/ready` and a channel's webhook answer 503 from now on, so the load
        balancer sends requests to another process (summary pages are still served)."""
        if self.app is not None:
            self.app.refuse_updates()

    @property
    def running(self) -> bool:
        if self.task is not None:
            return not self.task.done()
        return self.sock is not None  # listening; uvicorn comes with the first connection

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_at_first_connection(self) -> None:
        assert self.sock is not None
        self.sock.listen(BACKLOG)
        asyncio.get_running_loop().add_reader(self.sock.fileno(), self._first_connection)

    def _first_connection(self) -> None:
        if self.sock is None or self._starting is not None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.sock.fileno())
        self._starting = loop.create_task(self.serve_now(), name="tijdig-web-start")

    async def serve_now(self) -> bool:
        """Start uvicorn on the socket; False (said on stderr, the port closed, so waiting
        connections are refused rather than left hanging) when it does not start."""
        assert self.sock is not None and self.settings is not None and self.app is not None
        try:
            from bot.web.uvicorn_server import serve

            self.server, self.task = await serve(self.app, self.settings, self.sock)
        except Exception as exc:
            log.error("the web server cannot start (%s)", type(exc).__name__)
        if self.server is None or not self.server.started:
            await self.stop()
            print("The web app did not start; share links will not open.", file=sys.stderr)
            return False
        log.info("web app running on %s", self.url)
        return True

    async def stop(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and asyncio.current_task() is not starting:
            await asyncio.gather(starting, return_exceptions=True)
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 5)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()
            except BaseException as exc:  # uvicorn's own failure; it was already logged
                log.warning("web app stopped with %s", type(exc).__name__)
        if self.sock is not None:
            if self.task is None:  # still waiting for its first connection
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.app is not None:
            self.app.close()


async def start_background(
    runtime: Any,
    service: Any,
    *,
    routes: Sequence[BaseRoute] = (),
    at_once: bool = False,
) -> BackgroundWeb:
    """Serve the web app on WEB_HOST:WEB_PORT inside the running event loop.

    The host starts it for every command (so a link from /delen opens on this machine).
    If the port is taken, this says so on stderr and the chat goes on without the web
    app. `routes` lets a channel's webhook ride along on the same port. With `routes`, or
    `at_once` (a process that only serves the web app), uvicorn and the app start now, so
    a problem with them shows at start; else at the first connection.
    """
    settings: Settings = runtime.settings

    def build() -> Any:
        from bot.web.app import create_app

        return create_app(runtime, service, routes=routes)

    try:
        sock = bind(settings.web_host, settings.web_port)
    except OSError as exc:
        print(
            f"The web app could not start on {settings.web_host}:{settings.web_port} "
            f"({exc.strerror or exc}); share links will not open from this process.",
            file=sys.stderr,
        )
        return BackgroundWeb(settings.web_host, settings.web_port)
    port = sock.getsockname()[1]
    app = DeferredApp(build, settings.default_locale)
    handle = BackgroundWeb(settings.web_host, port, app, settings, sock)
    if routes or at_once:  # a webhook's updates come at once and often: none waits
        handle.app.app()  # type: ignore[union-attr]
        await handle.serve_now()
    else:
        handle.serve_at_first_connection()
        log.info("web app listening on %s", handle.url)
    return handle
