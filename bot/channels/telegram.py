"""Telegram: updates in, engine events out. No rules live here.

The handlers are named after what the person did; each turns an update into an engine
event and hands the turn's replies to `ReplySender` (bot/channels/telegram_replies.py).
PTB's Application is assembled in bot/channels/telegram_app.py. The host runs the channel
for `python -m bot run` (polling, or a webhook when TELEGRAM_WEBHOOK_URL is set) beside
the web app that serves summary links.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram_app import NAME, build_application, open_notifier, register_commands
from bot.channels.telegram_format import coalesced, decode_button, media_of
from bot.channels.telegram_http import without_keyboard
from bot.channels.telegram_replies import ReplySender, push_replies
from bot.config import ConfigError, Settings
from bot.engine import Choice, Command, Event, Media, Start, Text
from bot.engine.replies import Reply
from bot.i18n import negotiate, translator
from bot.logging_setup import cap_library_logs
from bot.services.conversation import ConversationService, Handled
from bot.services.inbox import Inbox

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

__all__ = ["TelegramChannel", "add_arguments", "create", "open_notifier"]

log = logging.getLogger(__name__)


class TelegramChannel:
    """Thin handlers named after what the person did; each turns an update into an event."""

    name = NAME
    wants_web = True
    interactive = False

    def __init__(self, settings: Settings, *, poll_timeout: int = 30, web: bool = True) -> None:
        cap_library_logs()
        self.settings = settings
        self.settings.require_telegram_token()
        self.poll_timeout = poll_timeout
        self.wants_web = web or bool(settings.telegram_webhook_url)
        self._service: ConversationService | None = None
        self._finished = asyncio.Event()
        self.replies = ReplySender(blocked=self._blocked)
        # Webhook mode: updates are kept in the database inbox until answered.
        self.inbox: Inbox | None = None
        self._recovered: set[int] = set()  # update ids taken over from a process that died
        self._recovery: asyncio.Task[None] | None = None
        self.application = build_application(settings, self)

    @property
    def service(self) -> ConversationService:
        assert self._service is not None, "the host starts the channel with its service"
        return self._service

    # lifecycle (the host calls these) --------------------------------------------------------
    def routes(self) -> Sequence[BaseRoute]:
        url, secret = self.settings.telegram_webhook_url, self.settings.telegram_webhook_secret
        if not url or not secret:
            return ()
        from bot.channels.telegram_webhook import webhook_route  # Starlette: webhook mode only

        path = urlsplit(url).path or "/"
        return (webhook_route(self.application, secret, path, self.keep_update),)

    async def keep_update(self, update: Update, body: bytes) -> bool:
        if self.inbox is None:
            raise RuntimeError("the channel has not started yet")
        return await self.inbox.store(update.update_id, body)

    async def update_done(self, update: object) -> None:
        """The update was handled and answered: the inbox can forget it."""
        if self.inbox is not None and isinstance(update, Update):
            self._recovered.discard(update.update_id)
            await self.inbox.done(update.update_id)

    async def recover_updates(self) -> None:
        """Take over updates that another process received but never finished."""
        interval = min(5.0, self.settings.inbox_lease_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            try:
                assert self.inbox is not None
                items = await self.inbox.claim_expired()
            except Exception as exc:
                log.warning("inbox not readable now (%s)", type(exc).__name__)
                continue
            for item in items:
                log.info("taking over update_id=%s (attempt %s)", item.update_id, item.attempts)
                try:
                    update = Update.de_json(
                        without_keyboard(json.loads(item.payload)), self.application.bot
                    )
                except (ValueError, TypeError, KeyError):
                    await self.inbox.done(item.update_id)
                    continue
                self._recovered.add(item.update_id)
                await self.application.update_queue.put(update)

    async def start(self, service: ConversationService, *, web_running: bool) -> None:
        self._service = service
        application = self.application
        if self.settings.telegram_webhook_url:
            self.inbox = Inbox(service.runtime, self.name, lease=self.settings.inbox_lease_seconds)
        try:
            await application.initialize()
        except InvalidToken as exc:
            cause = str(exc.__cause__ or exc)  # PTB re-raises the server's answer as the cause
            if "Not Found" in cause and self.settings.telegram_api_base_url:  # 401: the token
                raise ConfigError(
                    "The Bot API server answers 404 Not Found: TELEGRAM_API_BASE_URL is wrong "
                    "(it should end in /bot or /bot{token})."
                ) from None
            raise ConfigError(
                "Telegram does not accept TELEGRAM_BOT_TOKEN; check it with @BotFather."
            ) from None
        await register_commands(application)
        await application.start()
        if self.settings.telegram_webhook_url:
            if not web_running:
                raise ConfigError(
                    f"The webhook needs the web app, which could not start on "
                    f"{self.settings.web_host}:{self.settings.web_port}."
                )
            await application.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
            self._recovery = asyncio.create_task(self.recover_updates(), name="inbox recovery")
            log.info("Tijdig is running (webhook)")
            return
        assert application.updater is not None
        await application.updater.start_polling(
            timeout=self.poll_timeout,
            poll_interval=0,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        log.info("Tijdig is running (polling)")

    async def finished(self) -> None:
        await self._finished.wait()  # a bot runs until it is stopped

    async def stop(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        application = self.application
        await self.replies.close()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def push(self, address: str, replies: list[Reply]) -> None:
        """Messages outside a turn (a reminder with its buttons, a notice) from the outbox."""
        await push_replies(self.application.bot, address, replies)

    # handlers ----------------------------------------------------------------------------
    async def pressed_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.from_user is not None
        with contextlib.suppress(TelegramError):
            await query.answer()  # at once, so the button stops spinning
        decoded = decode_button(query.data or "")
        chat_id = query.message.chat.id if query.message else query.from_user.id
        base = self._ids(update, chat_id)
        if decoded is None:
            event: Event = Text(text="", **base)  # an unreadable old button: show where we are
        else:
            screen, option = decoded
            event = Choice(question_id=screen, option_id=option, **base)
        handled = await self.deliver(event)
        if await self.replies.answer_in_place(query.message, handled):
            return
        await self.replies.mark_pressed(query.message, handled)
        await self.replies.send(context.bot, chat_id, handled, pressed=query.message)

    async def sent_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name, _, args = message.text[1:].partition(" ")
        name = name.split("@")[0].lower()
        base = self._ids(update, message.chat.id)
        event: Event = (
            Start(payload=args.strip() or None, **base)
            if name == "start"
            else Command(name=name, args=args, **base)
        )
        await self.replies.send(context.bot, message.chat.id, await self.deliver(event))

    async def sent_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        event = Text(text=message.text, **self._ids(update, message.chat.id))
        await self.replies.send(context.bot, message.chat.id, await self.deliver(event))

    async def sent_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        kind, ref = media_of(message)
        event = Media(kind=kind, ref=ref, **self._ids(update, message.chat.id))
        await self.replies.send(context.bot, message.chat.id, await self.deliver(event))

    async def edited_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        assert message is not None
        tr = translator(self._locale_hint(update))
        await self.replies.send_text(
            context.bot,
            message.chat.id,
            tr.gettext(
                "U heeft een bericht aangepast. Ik gebruik wat u eerst stuurde. "
                "Wilt u een antwoord veranderen? Kies dan 'Terug' bij de vraag."
            ),
        )

    async def wrote_in_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not (message.text or "").startswith("/"):
            return  # stay quiet in a group unless someone speaks to the bot
        tr = translator(self._locale_hint(update))
        username = context.bot.username
        await self.replies.send_text(
            context.bot,
            message.chat.id,
            tr.gettext(
                "Tijdig werkt alleen in een persoonlijk gesprek, want uw antwoorden zijn privé. "
                "Stuur mij een eigen bericht: {link}"
            ).format(link=f"https://t.me/{username}"),
        )

    async def blocked_the_bot(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram tells us when someone blocks the bot: stop sending before a 403 does."""
        change = update.my_chat_member
        if change is None or change.chat.type != "private":
            return
        if change.new_chat_member.status == "kicked":
            await self.service.mark_blocked(self.name, str(change.chat.id))

    async def _blocked(self, chat_id: int) -> None:
        await self.service.mark_blocked(self.name, str(chat_id))

    # translation helpers ---------------------------------------------------------------------
    def _ids(self, update: Update, chat_id: int) -> dict[str, Any]:
        user = update.effective_user
        return {
            "user_id": str(user.id if user else chat_id),
            "chat_id": str(chat_id),
            "event_id": str(update.update_id),
            "language_hint": user.language_code if user else None,
        }

    def _locale_hint(self, update: Update) -> str:
        user = update.effective_user
        return negotiate(user.language_code if user else None)

    async def deliver(self, event: Event) -> Handled:
        order = int(event.event_id)  # Telegram's update_id: one sequence per bot
        handled = await self.service.handle(self.name, event, order=order)
        if handled.duplicate and order in self._recovered:
            # Taken over from a process that died after saving this turn but maybe before
            # answering: show the person where they are, so nobody is left waiting.
            again = Command(
                name="verder",
                args="",
                user_id=event.user_id,
                chat_id=event.chat_id,
                event_id=f"{event.event_id}:again",
                language_hint=event.language_hint,
            )
            handled = await self.service.handle(self.name, again)
        return dataclasses.replace(handled, replies=coalesced(handled.replies))


# -- what `python -m bot` asks of a channel module ----------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m bot run` takes its settings from the environment only."""


def create(settings: Settings, args: argparse.Namespace) -> TelegramChannel:
    return TelegramChannel(settings)
