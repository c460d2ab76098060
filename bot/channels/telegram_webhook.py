"""Webhook mode: Telegram posts updates to the web app, which queues them for PTB.

PTB starts and stops in the web app's lifespan, so one process and one port serve both
the webhook and the summary links.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000


def webhook_route(application: Application, secret: str, path: str) -> Route:  # type: ignore[type-arg]
    async def receive_update(request: Request) -> Response:
        """Check the secret, queue the update, and answer 200 at once."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook post with a wrong or missing secret refused")
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return Response(status_code=413)
        try:
            update = Update.de_json(json.loads(body), application.bot)
        except (ValueError, TypeError, KeyError):
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(path, receive_update, methods=["POST"])


async def serve_webhook(
    settings: Settings,
    runtime: Any,
    service: Any,
    application: Application,  # type: ignore[type-arg]
    stop: asyncio.Event,
) -> None:
    from bot.channels.telegram import register_commands, register_notifier
    from bot.web.server import start_background

    url = settings.telegram_webhook_url
    secret = settings.telegram_webhook_secret
    assert url and secret, "load_settings guarantees both"
    path = urlsplit(url).path or "/"

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await application.initialize()
        await register_commands(application)
        register_notifier(application, service)
        await application.start()
        await application.bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        log.info("Tijdig is running (webhook)")
        try:
            yield
        finally:
            await application.stop()
            await application.shutdown()

    web = await start_background(
        runtime, service, routes=[webhook_route(application, secret, path)], lifespan=lifespan
    )
    if not web.running:
        raise ConfigError(
            f"The webhook needs the web app, which could not start on "
            f"{settings.web_host}:{settings.web_port}."
        )
    try:
        await stop.wait()
    finally:
        await web.stop()
