"""Webhook mode: Telegram posts updates to the web app, which queues them for PTB.

The route rides on the host's web app, so one process and one port serve both the webhook
and the summary links; the Telegram channel registers the webhook once the app listens.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

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
