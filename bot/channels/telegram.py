"""Telegram: updates in, engine events out; replies in, Bot API calls out. No rules live here.

`TelegramChannel.build_application` is the one place where the python-telegram-bot
Application is assembled; the host runs the channel for `python -m bot run` (polling, or
a webhook when TELEGRAM_WEBHOOK_URL is set) beside the web app that serves summary links.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import traceback
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import BaseRoute
from telegram import Bot, BotCommand, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram import Message as TgMessage
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram_format import (
    CHECK,
    MAX_MESSAGE,
    coalesced,
    decode_button,
    grown_text,
    keyboard,
    media_of,
    qr_caption,
    qr_png,
    redrawn_text,
    split_text,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_limits import SharedFloodLimiter
from bot.channels.telegram_live import LiveKeyboards
from bot.channels.telegram_order import ChatOrderedProcessor
from bot.channels.telegram_webhook import webhook_route
from bot.config import ConfigError, Settings
from bot.engine import Choice, Command, Event, Media, Start, Text
from bot.engine.replies import Document, InviteReply, LinkReply, Message, Notice, Reply
from bot.i18n import N_, available_locales, negotiate, translator
from bot.logging_setup import cap_library_logs
from bot.services.conversation import ConversationService, Handled
from bot.services.inbox import Inbox
from bot.services.limits import NOTICE, SendBudget, namespace
from bot.services.outbox import Unreachable

log = logging.getLogger(__name__)


COMMAND_DESCRIPTIONS = {
    "start": N_("Beginnen of opnieuw beginnen"),
    "verder": N_("Verder waar u was"),
    "overzicht": N_("Alle onderwerpen en hoe ver u bent"),
    "samenvatting": N_("Al uw antwoorden op een rij"),
    "delen": N_("Een link maken voor uw huisarts"),
    "links": N_("Uw links bekijken of intrekken"),
    "uitnodigen": N_("Iemand uitnodigen om mee te doen"),
    "familie": N_("Wie meedoet, en iemand verwijderen"),
    "wissel": N_("Kiezen wiens wensen u invult"),
    "nakijken": N_("Nagaan of uw wensen nog kloppen"),
    "herinneringen": N_("Kiezen hoe vaak Tijdig u herinnert"),
    "taal": N_("Een andere taal kiezen"),
    "privacy": N_("Wat Tijdig bewaart en wie het ziet"),
    "mijngegevens": N_("Alles wat Tijdig van u bewaart"),
    "verwijderen": N_("Alles wissen"),
    "help": N_("Wat Tijdig kan"),
    "stop": N_("Stoppen voor nu"),
}


class TelegramChannel:
    """Thin handlers named after what the person did; each turns an update into an event."""

    name = "telegram"
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
        # The message per chat whose buttons are the current screen's (a button answer grows
        # it into the next question); the one before loses its buttons when there is room.
        self.live_keyboards = LiveKeyboards()
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
                    update = Update.de_json(json.loads(item.payload), self.application.bot)
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
        await self.live_keyboards.close()
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
        if await self.answer_in_place(query.message, handled):
            return
        await self.mark_pressed(query.message, handled)
        await self.send(context, chat_id, handled, pressed=query.message)

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
        await self.send(context, message.chat.id, await self.deliver(event))

    async def sent_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        event = Text(text=message.text, **self._ids(update, message.chat.id))
        await self.send(context, message.chat.id, await self.deliver(event))

    async def sent_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        kind, ref = media_of(message)
        event = Media(kind=kind, ref=ref, **self._ids(update, message.chat.id))
        await self.send(context, message.chat.id, await self.deliver(event))

    async def edited_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        assert message is not None
        tr = translator(self._locale_hint(update))
        await self._send_text(
            context,
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
        await self._send_text(
            context,
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

    # sending ------------------------------------------------------------------------------------
    async def answer_in_place(self, pressed: Any, handled: Handled) -> bool:
        """A button answer in one chat-bound call: the pressed question shows the choice and
        grows into the next question with its buttons, so earlier answers stay readable
        above it. Telegram allows about 30 such calls a second per bot, so one call instead
        of two (mark the choice, send the next question) serves twice the people.

        Only for the plain case, one next screen with buttons after an answer: anything else
        (several messages, a notice, a document, a stale or duplicate press, a re-draw, a
        message past GROWN_MAX, a newer screen below this one) goes the usual way: False.
        """
        if not isinstance(pressed, TgMessage) or not pressed.text or not handled.echo:
            return False
        if handled.duplicate or handled.stale or len(handled.replies) != 1:
            return False
        (reply,) = handled.replies
        if not isinstance(reply, Message) or not reply.buttons or reply.redraw or reply.lasting:
            return False
        chat_id = pressed.chat.id
        live = self.live_keyboards.get(chat_id)
        if live is not None and live > pressed.message_id:
            return False  # a newer screen is below (ids grow): the next question goes under it
        text = grown_text(pressed.text, handled.echo, reply.text)
        if text is None:
            return False
        try:
            await without_reading(
                pressed.get_bot(),
                "editMessageText",
                chat_id=chat_id,
                message_id=pressed.message_id,
                text=text,
                reply_markup=keyboard(reply),
            )
        except BadRequest:
            return False  # too old to edit: the usual way still shows it
        except Forbidden:
            log.info("chat blocked the bot; marking participant and not retrying")
            await self.service.mark_blocked(self.name, str(chat_id))
            return True
        self.live_keyboards.replace(pressed.get_bot(), chat_id, pressed.message_id)
        return True

    async def mark_pressed(self, pressed: Any, handled: Handled) -> None:
        """Show the choice on the question that was answered and drop its old buttons."""
        if not isinstance(pressed, TgMessage) or handled.duplicate:
            return
        if any(isinstance(r, Message) and r.redraw for r in handled.replies):
            return  # the same screen is re-drawn in place instead
        self.live_keyboards.drop(pressed.chat.id, pressed.message_id)  # its buttons go now
        marked = ""
        if handled.echo and not handled.stale and pressed.text:
            marked = f"{pressed.text}\n\n{CHECK}{handled.echo}"
        try:
            if marked and len(marked) <= MAX_MESSAGE:  # else it would be refused as too long
                await pressed.edit_text(marked, reply_markup=None)
            else:
                await pressed.edit_reply_markup(reply_markup=None)
        except BadRequest:
            pass  # too old to edit, or already without buttons: nothing to tidy

    async def send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        handled: Handled,
        *,
        pressed: Any = None,
    ) -> None:
        try:
            for reply in handled.replies:
                await self.render(context, chat_id, reply, handled, pressed)
        except Forbidden:
            log.info("chat blocked the bot; marking participant and not retrying")
            await self.service.mark_blocked(self.name, str(chat_id))

    async def render(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        reply: Reply,
        handled: Handled,
        pressed: Any,
    ) -> None:
        bot = context.bot
        if isinstance(reply, Message):
            markup = keyboard(reply)
            if reply.redraw and isinstance(pressed, TgMessage):
                # keep the answers above the question when the message had grown
                text = redrawn_text(pressed.text or "", reply.text)
                with contextlib.suppress(BadRequest):
                    await pressed.edit_text(text, reply_markup=markup)
                return
            await self._send_text(context, chat_id, reply.text, markup, lasting=reply.lasting)
        elif isinstance(reply, Notice):
            await self._send_text(context, chat_id, reply.text)
        elif isinstance(reply, LinkReply):
            await bot.send_message(
                chat_id,
                f"{reply.text}\n\n{reply.url}",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            await bot.send_photo(chat_id, qr_png(reply.url), caption=qr_caption(handled.locale))
        elif isinstance(reply, InviteReply):
            # A deep link: opening it sends "/start <code>" from the relative's own phone.
            url = f"https://t.me/{bot.username}?start={reply.code}"
            await bot.send_message(
                chat_id,
                f"{reply.text}\n\n{url}",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            await bot.send_photo(chat_id, qr_png(url), caption=qr_caption(handled.locale))
        elif isinstance(reply, Document):
            await bot.send_document(
                chat_id,
                document=io.BytesIO(reply.content),
                filename=reply.filename,
                caption=reply.caption or None,
            )

    async def _send_text(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        lasting: bool = False,
    ) -> None:
        chunks = split_text(text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await without_reading(
                context.bot,
                "sendMessage",
                chat_id=chat_id,
                text=chunk,
                reply_markup=markup if last else None,
            )
        if markup is not None and not lasting:  # a side list's buttons stay usable
            self.live_keyboards.replace(context.bot, chat_id, sent["message_id"])


async def without_reading(bot: Bot, method: str, **params: Any) -> Any:
    """A text message sent or edited (sendMessage, editMessageText; link previews off)
    without parsing the result into PTB objects: PTB would build a whole `Message` with
    its keyboard (for the edit of a button answer, about 6% of the CPU of an answer)
    where Tijdig needs at most its id.
    `do_api_request` hands back the raw result (through the rate limiter, with PTB's
    errors); the method's name goes in lower case because the Bot API's method names are
    case-insensitive and PTB warns about a name it has a method for."""
    params["link_preview_options"] = LinkPreviewOptions(is_disabled=True)
    return await bot.do_api_request(method.lower(), api_kwargs=params)


def build_application(settings: Settings, channel: TelegramChannel) -> Application:  # type: ignore[type-arg]
    token = settings.require_telegram_token()
    builder = (
        Application.builder()
        .token(token)
        .concurrent_updates(ChatOrderedProcessor(after=channel.update_done))
    )
    if settings.telegram_rate_limit:  # 0: no limiter (a local Bot API server, tests)
        key = f"send:{namespace(token)}"
        budget = SendBudget.for_settings(settings, key)
        builder = builder.rate_limiter(SharedFloodLimiter(budget))
    builder = _bot_api(builder, settings)
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    private = filters.ChatType.PRIVATE
    application.add_handler(
        ChatMemberHandler(channel.blocked_the_bot, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, channel.wrote_in_group))
    application.add_handler(CallbackQueryHandler(channel.pressed_button))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, channel.edited_message)
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, channel.sent_command))
    application.add_handler(MessageHandler(private & filters.TEXT, channel.sent_text))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, channel.sent_media)
    )
    application.add_error_handler(on_error)
    application.bot_data["channel"] = channel
    return application


def _bot_api(builder: Any, settings: Settings) -> Any:
    """The Bot API's address and the HTTP client (aiohttp: bot/channels/telegram_http.py);
    one connection for the long poll, a pool for everything else."""
    builder = builder.request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
    return _with_base_url(builder, settings)


def _with_base_url(builder: Any, settings: Settings) -> Any:
    """TELEGRAM_API_BASE_URL: another Bot API server (a local one, or the tests' fake)."""
    base = settings.telegram_api_base_url
    if not base:
        return builder
    builder = builder.base_url(base if "{token}" in base else base + "/bot")
    return builder.base_file_url(
        base.replace("/bot{token}", "/file/bot{token}") if "{token}" in base else base + "/file/bot"
    )


async def push_replies(bot: Bot, address: str, replies: list[Reply]) -> None:
    """The outbox's messages: text with its buttons (a side list: they stay usable)."""
    try:
        for reply in replies:
            if isinstance(reply, Message | Notice):
                markup = keyboard(reply) if isinstance(reply, Message) else None
                chunks = split_text(reply.text)
                for index, chunk in enumerate(chunks):
                    await bot.send_message(
                        int(address),
                        chunk,
                        reply_markup=markup if index == len(chunks) - 1 else None,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                        # after the replies to people who are chatting (when a limiter is set)
                        **(
                            {"rate_limit_args": NOTICE}
                            if getattr(bot, "rate_limiter", None)
                            else {}
                        ),
                    )
    except Forbidden:
        raise Unreachable from None  # the outbox marks the chat blocked


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu in Dutch (the default) and in every other language we speak."""
    for locale in available_locales():
        tr = translator(locale)
        commands = [
            BotCommand(name, tr.gettext(text)) for name, text in COMMAND_DESCRIPTIONS.items()
        ]
        language = None if locale == "nl" else locale
        await application.bot.set_my_commands(commands, language_code=language)
        if locale == "nl":
            await application.bot.set_my_commands(commands, language_code="nl")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what failed without anything personal, and tell the person kindly."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    # Where it failed, but not the exception's message: messages can quote what was typed.
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("error while handling update_id=%s: %s\n%s", update_id, type(error).__name__, frames)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    tr = translator(negotiate(user.language_code if user else None))
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            update.effective_chat.id,
            tr.gettext(
                "Sorry, er ging iets mis aan mijn kant. Uw antwoorden zijn bewaard. "
                "Probeer het zo nog eens, of typ /verder."
            ),
        )


# -- what `python -m bot` asks of a channel module ----------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m bot run` takes its settings from the environment only."""


def create(settings: Settings, args: argparse.Namespace) -> TelegramChannel:
    return TelegramChannel(settings)


class TelegramNotifier:
    """For `python -m bot serve` alone: sends notices through the Bot API, receives nothing."""

    name = TelegramChannel.name

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def push(self, address: str, replies: list[Reply]) -> None:
        await push_replies(self.bot, address, replies)

    async def close(self) -> None:
        await self.bot.shutdown()


async def open_notifier(settings: Settings) -> TelegramNotifier | None:
    if not settings.telegram_bot_token:
        return None
    try:
        application = _bot_api(
            Application.builder().token(settings.require_telegram_token()).updater(None), settings
        ).build()
        await application.bot.initialize()
        return TelegramNotifier(application.bot)
    except Exception as exc:  # the web app still serves links without notifications
        log.warning("Telegram notifications are off in serve mode: %s", type(exc).__name__)
        return None
