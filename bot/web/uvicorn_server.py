"""Uvicorn, configured for Tijdig and started on a socket the host already holds.

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
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from bot.config import Settings

START_TIMEOUT_SECONDS = 10


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


class QuietServer(uvicorn.Server):
    """Uvicorn without its signal handlers: the chat or the bot owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: Any, settings: Settings, sock: socket.socket
) -> tuple[QuietServer, asyncio.Task[None]]:
    """Uvicorn serving `app` on `sock`, once it has started (or failed: see the task)."""
    server = QuietServer(uvicorn_config(app, settings))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="tijdig-web")
    for _ in range(int(START_TIMEOUT_SECONDS / 0.01)):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    return server, task
