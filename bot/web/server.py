"""Running the web app: on its own (`python -m bot serve`) or in the background of the
terminal chat and the Telegram bot (`start_background`), on WEB_HOST:WEB_PORT.

Uvicorn's access log is off: it would print request paths, and a share link's path is its
token. The app logs requests itself, with the token replaced.

Client addresses: X-Forwarded-For counts only from the addresses in the setting
FORWARDED_ALLOW_IPS (default empty: from nobody), applied by the app itself (see
create_app); uvicorn's own proxy handling, which would trust 127.0.0.1 by default, is off.
The rate limit and the access log's hashed address depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.routing import BaseRoute

from bot.config import ConfigError, Settings
from bot.services import notify
from bot.web.app import create_app

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


def uvicorn_config(app: Any, settings: Settings, *, background: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,  # the app applies FORWARDED_ALLOW_IPS itself
        lifespan="off" if background else "auto",
        log_config=None if background else uvicorn.config.LOGGING_CONFIG,
        log_level=None if background else "info",
    )


class _QuietServer(uvicorn.Server):
    """Uvicorn without its signal handlers: the chat or the bot owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Server(uvicorn.Server):
    """Uvicorn that stops on Ctrl-C or SIGTERM and then returns (instead of re-raising the
    signal), so `serve` can close the database and exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stop = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stop}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass
class BackgroundWeb:
    """The web app running beside a chat; `stop()` ends it (a no-op if it never started)."""

    server: uvicorn.Server | None
    task: asyncio.Task[None] | None
    host: str
    port: int

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
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]] | None = None,
) -> BackgroundWeb:
    """Serve the web app on WEB_HOST:WEB_PORT inside the running event loop.

    Used by the terminal chat (so a link from /delen opens on this machine) and by
    `python -m bot run`. If the port is taken, this says so on stderr and the chat goes
    on without the web app. `routes` and `lifespan` let the Telegram webhook ride along.
    """
    settings: Settings = runtime.settings
    app = create_app(runtime, service, notify.registry, routes=routes)
    if lifespan is not None:
        app.router.lifespan_context = lifespan
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
    config = uvicorn_config(app, settings, background=True)
    if lifespan is not None:
        config.lifespan = "on"
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="tijdig-web")
    for _ in range(int(START_TIMEOUT_SECONDS / 0.01)):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    handle = BackgroundWeb(server, task, settings.web_host, port)
    if not server.started:
        await handle.stop()
        sock.close()
        print("The web app did not start; share links will not open.", file=sys.stderr)
        return BackgroundWeb(None, None, settings.web_host, port)
    log.info("web app running on %s", handle.url)
    return handle


async def serve(settings: Settings) -> int:
    """`python -m bot serve`: only the web app, until Ctrl-C."""
    from bot.services.conversation import ConversationService
    from bot.services.runtime import Runtime

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        sock = bind(settings.web_host, settings.web_port)
    except OSError as exc:
        raise ConfigError(
            f"WEB_PORT {settings.web_port} on WEB_HOST {settings.web_host} cannot be used "
            f"({exc.strerror or exc}); pick another port or stop what uses it"
        ) from None
    runtime = None
    telegram = None
    try:
        runtime = await Runtime.create(settings)
        for line in runtime.notices:
            print(line, file=sys.stderr)
        service = ConversationService(runtime)
        app = create_app(runtime, service, notify.registry)
        telegram = await _telegram_notifications(settings, service)
        server = _Server(uvicorn_config(app, settings, background=False))
        port = sock.getsockname()[1]
        print(
            f"Tijdig web app on http://{settings.web_host}:{port} "
            f"(links are made as {settings.public_base_url}/s/...)",
            file=sys.stderr,
        )
        await server.serve(sockets=[sock])
    finally:
        if telegram is not None:
            with contextlib.suppress(Exception):
                await telegram.shutdown()
        if runtime is not None:
            await runtime.close()
        sock.close()
    return 0


async def _telegram_notifications(settings: Settings, service: Any) -> Any:
    """In `serve` alone, tell people on Telegram about openings too (when a token is set)."""
    if not settings.telegram_bot_token:
        return None
    try:
        from bot.channels.telegram import build_application, register_notifier

        application = build_application(settings, service)
        await application.initialize()
        register_notifier(application, service)
        return application
    except Exception as exc:  # the web app still serves links without notifications
        log.warning("Telegram notifications are off in serve mode: %s", type(exc).__name__)
        return None
