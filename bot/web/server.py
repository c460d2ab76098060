"""Running the web app inside the host's event loop (`start_background`), on
WEB_HOST:WEB_PORT: beside the terminal chat, beside the Telegram bot, or alone (`serve`).

Uvicorn's access log is off: it would print request paths, and a share link's path is its
token. The app logs requests itself, with the token replaced.

Client addresses: X-Forwarded-For counts only from the addresses in the setting
FORWARDED_ALLOW_IPS (default empty: from nobody), applied by the app itself (see
create_app); uvicorn's own proxy handling, which would trust 127.0.0.1 by default, is off.
The rate limit and the access log's hashed address depend on it.

The app itself (Starlette, the summary renderers, the page code: about 1.2 MB of a
process) is built at the first request, not at start: a bot that only chats never
loads it, and a GP's first page waits once for the import (about 0.1 s). A channel that
brings its own routes (a Telegram webhook) gets the app built at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn

from bot.config import Settings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 10


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


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,  # the app applies FORWARDED_ALLOW_IPS itself
        lifespan="off",
        log_config=None,
        log_level=None,
    )


class DeferredApp:
    """An ASGI app that builds the real one at its first request (see the module's
    docstring); until then only `stopping` is kept, and handed on when it is built."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None
        self._stopping = False

    @property
    def built(self) -> bool:
        return self._app is not None

    def app(self) -> Any:
        if self._app is None:
            self._app = self._build()
            self._app.state.stopping = self._stopping
        return self._app

    def refuse_updates(self) -> None:
        self._stopping = True
        if self._app is not None:
            self._app.state.stopping = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)


class _QuietServer(uvicorn.Server):
    """Uvicorn without its signal handlers: the chat or the bot owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class BackgroundWeb:
    """The web app running beside a chat; `stop()` ends it (a no-op if it never started)."""

    server: uvicorn.Server | None
    task: asyncio.Task[None] | None
    host: str
    port: int
    app: DeferredApp | None = None

    def refuse_updates(self) -> None:
        """Stopping: `/ready` and a channel's webhook answer 503 from now on, so the load
        balancer sends requests to another process (summary pages are still served)."""
        if self.app is not None:
            self.app.refuse_updates()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 5)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()
        except BaseException as exc:  # uvicorn's own failure; it was already logged
            log.warning("web app stopped with %s", type(exc).__name__)


async def start_background(
    runtime: Any,
    service: Any,
    *,
    routes: Sequence[BaseRoute] = (),
) -> BackgroundWeb:
    """Serve the web app on WEB_HOST:WEB_PORT inside the running event loop.

    The host starts it for every command (so a link from /delen opens on this machine).
    If the port is taken, this says so on stderr and the chat goes on without the web
    app. `routes` lets a channel's webhook ride along on the same port.
    """
    settings: Settings = runtime.settings

    def build() -> Any:
        from bot.web.app import create_app

        return create_app(runtime, service, routes=routes)

    app = DeferredApp(build)
    if routes:  # a webhook's updates come at once and often: no first one waits
        app.app()
    try:
        sock = bind(settings.web_host, settings.web_port)
    except OSError as exc:
        print(
            f"The web app could not start on {settings.web_host}:{settings.web_port} "
            f"({exc.strerror or exc}); share links will not open from this process.",
            file=sys.stderr,
        )
        return BackgroundWeb(None, None, settings.web_host, settings.web_port)
    port = sock.getsockname()[1]
    config = uvicorn_config(app, settings)
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="tijdig-web")
    for _ in range(int(START_TIMEOUT_SECONDS / 0.01)):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    handle = BackgroundWeb(server, task, settings.web_host, port, app)
    if not server.started:
        await handle.stop()
        sock.close()
        print("The web app did not start; share links will not open.", file=sys.stderr)
        return BackgroundWeb(None, None, settings.web_host, port)
    log.info("web app running on %s", handle.url)
    return handle
