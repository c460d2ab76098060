"""Webhook mode: Telegram posts updates to the web app, which stores them, then queues them.

The route rides on the host's web app, so one process and one port serve both the webhook
and the summary links; the Telegram channel registers the webhook once the app listens.

Nothing acknowledged is lost: `store` commits the update to the database inbox before
Telegram gets its 200. When the inbox cannot be written, Telegram gets a 503 and sends the
update again later. So it does while the process is stopping (SIGTERM): behind a load
balancer the update goes to another process; it is not queued where nobody will take it.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.channels.telegram_http import without_keyboard

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000

# Keep the update (raw body) durably; False when it was already kept (a redelivery).
Store = Callable[[Update, bytes], Awaitable[bool]]


def webhook_route(
    application: Application,  # type: ignore[type-arg]
    secret: str,
    path: str,
    store: Store | None = None,
) -> Route:
    async def receive_update(request: Request) -> Response:
        """Check the secret, keep the update, queue it, and answer 200."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook post with a wrong or missing secret refused")
            return Response(status_code=403)
        if getattr(request.app.state, "stopping", False) or not application.running:
            return Response(status_code=503)  # stopping: another process, or a retry
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return Response(status_code=413)
        try:
            update = Update.de_json(without_keyboard(json.loads(body)), application.bot)
        except (ValueError, TypeError, KeyError):
            return Response(status_code=400)
        if store is not None:
            try:
                new = await store(update, body)
            except Exception as exc:  # the database is away: let Telegram send it again
                log.warning(
                    "webhook update not stored (%s); asking for a retry", type(exc).__name__
                )
                return Response(status_code=503)
            if not new:
                return Response(status_code=200)  # already kept: handled or being handled
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(path, receive_update, methods=["POST"])
