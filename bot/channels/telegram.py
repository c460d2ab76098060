"""Telegram: updates in, engine events out; replies in, Bot API calls out. No rules live here.

`build_application` is the one place where the python-telegram-bot Application is
assembled; `run_bot` is what `python -m bot run` starts (polling, or a webhook when
TELEGRAM_WEBHOOK_URL is set), together with the web app that serves summary links.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import signal
import traceback
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram import (
    Message as TgMessage,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import ConfigError, Settings
from bot.engine import Choice, Command, Event, Media, MediaKind, Start, Text
from bot.engine.replies import Button, Document, LinkReply, Message, Notice, Reply
from bot.engine.turn import LANGUAGE_SCREEN, LINKS_SCREEN
from bot.i18n import N_, available_locales, negotiate, translator
from bot.logging_setup import cap_library_logs
from bot.services.conversation import ConversationService, Handled
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_MESSAGE = 4096
CALLBACK_VERSION = "1"
MAX_LIVE_KEYBOARDS = 10_000


COMMAND_DESCRIPTIONS = {
    "start": N_("Beginnen of opnieuw beginnen"),
    "verder": N_("Verder waar u was"),
    "overzicht": N_("Alle onderwerpen en hoe ver u bent"),
    "samenvatting": N_("Al uw antwoorden op een rij"),
    "delen": N_("Een link maken voor uw huisarts"),
    "links": N_("Uw links bekijken of intrekken"),
    "taal": N_("Een andere taal kiezen"),
    "privacy": N_("Wat Tijdig bewaart en wie het ziet"),
    "mijngegevens": N_("Alles wat Tijdig van u bewaart"),
    "verwijderen": N_("Alles wissen"),
    "help": N_("Wat Tijdig kan"),
    "stop": N_("Stoppen voor nu"),
}


# -- button data ------------------------------------------------------------------------------


def encode_button(button: Button) -> str:
    """`1|screen|revision|option`: short, versioned, and at most Telegram's 64 bytes."""
    data = f"{CALLBACK_VERSION}|{button.screen}|{button.revision:x}|{button.option}"
    if len(data.encode()) > 64:
        raise ValueError(f"button data over 64 bytes for screen {button.screen!r}")
    return data


def decode_button(data: str) -> tuple[str, int, str] | None:
    """(screen, revision, option), or None for data this version cannot read."""
    parts = data.split("|")
    if len(parts) != 4 or parts[0] != CALLBACK_VERSION:
        return None
    try:
        return parts[1], int(parts[2], 16), parts[3]
    except ValueError:
        return None


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=encode_button(b)) for b in row]
            for row in message.buttons
        ]
    )


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Telegram refuses messages over 4,096 characters: split at paragraphs, then lines."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if current and len(current) + len(piece) > limit:
            chunks.append(current.rstrip("\n"))
            current = ""
        current += piece
    if current.strip():
        chunks.append(current.rstrip("\n"))
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        pieces.append(line)
    return pieces


# -- per-chat ordering ----------------------------------------------------------------------------


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of one chat run one after another; different chats run at the same time.

    A lock exists only while a chat has updates in flight, so a bot with many thousands of
    chats holds locks for the few that are active.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @property
    def active_chats(self) -> int:
        return len(self._locks)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up; locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to tear down; locks go with their last update."""


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


# -- the channel ----------------------------------------------------------------------------------


class TelegramChannel:
    """Thin handlers named after what the person did; each turns an update into an event."""

    def __init__(self, service: ConversationService) -> None:
        self.service = service
        # The one message per chat whose buttons are the current screen's. When a new screen
        # is sent, the old one loses its buttons, so a stray tap on it is less likely. Kept
        # in memory only (after a restart, old buttons are still handled safely).
        self.live_keyboards: OrderedDict[int, int] = OrderedDict()

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
            screen, revision, option = decoded
            event = Choice(question_id=screen, revision=revision, option_id=option, **base)
        handled = await self.deliver(event)
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
            await self.service.mark_blocked(CHANNEL, str(change.chat.id))

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
        return await self.service.handle(CHANNEL, event)

    # sending ------------------------------------------------------------------------------------
    async def mark_pressed(self, pressed: Any, handled: Handled) -> None:
        """Show the choice on the question that was answered and drop its old buttons."""
        if not isinstance(pressed, TgMessage) or handled.duplicate:
            return
        if any(isinstance(r, Message) and r.redraw for r in handled.replies):
            return  # the same screen is re-drawn in place instead
        if self.live_keyboards.get(pressed.chat.id) == pressed.message_id:
            del self.live_keyboards[pressed.chat.id]  # its buttons go now, not again later
        try:
            if handled.echo and not handled.stale and pressed.text:
                await pressed.edit_text(f"{pressed.text}\n\n✓ {handled.echo}", reply_markup=None)
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
            await self.service.mark_blocked(CHANNEL, str(chat_id))

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
                with contextlib.suppress(BadRequest):
                    await pressed.edit_text(reply.text, reply_markup=markup)
                return
            await self._send_text(context, chat_id, reply.text, markup)
        elif isinstance(reply, Notice):
            await self._send_text(context, chat_id, reply.text)
        elif isinstance(reply, LinkReply):
            await bot.send_message(
                chat_id,
                f"{reply.text}\n\n{reply.url}",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            await bot.send_photo(chat_id, qr_png(reply.url), caption=qr_caption(handled.locale))
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
    ) -> None:
        chunks = split_text(text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await context.bot.send_message(
                chat_id,
                chunk,
                reply_markup=markup if last else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        if markup is not None and is_screen(markup):
            await self.replace_live_keyboard(context, chat_id, sent.message_id)

    async def replace_live_keyboard(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int
    ) -> None:
        previous = self.live_keyboards.pop(chat_id, None)
        self.live_keyboards[chat_id] = message_id
        while len(self.live_keyboards) > MAX_LIVE_KEYBOARDS:
            self.live_keyboards.popitem(last=False)
        if previous is not None and previous != message_id:
            with contextlib.suppress(BadRequest):
                await context.bot.edit_message_reply_markup(chat_id, previous, reply_markup=None)


def is_screen(markup: InlineKeyboardMarkup) -> bool:
    """Buttons of a conversation screen, not of a side list (languages, links to revoke),
    which stay usable from older messages."""
    first = markup.inline_keyboard[0][0].callback_data
    decoded = decode_button(first) if isinstance(first, str) else None
    return decoded is not None and decoded[0] not in (LANGUAGE_SCREEN, LINKS_SCREEN)


def media_of(message: TgMessage) -> tuple[MediaKind, str]:
    if message.voice:
        return MediaKind.VOICE, message.voice.file_id
    if message.audio:
        return MediaKind.VOICE, message.audio.file_id
    if message.photo:
        return MediaKind.PHOTO, ""
    if message.sticker:
        return MediaKind.STICKER, ""
    if message.document:
        return MediaKind.DOCUMENT, ""
    if message.location or message.venue:
        return MediaKind.LOCATION, ""
    if message.contact:
        return MediaKind.CONTACT, ""
    if message.video or message.video_note or message.animation:
        return MediaKind.VIDEO, ""
    return MediaKind.OTHER, ""


def qr_png(url: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=3)
    return buffer.getvalue()


def qr_caption(locale: str) -> str:
    return translator(locale).gettext("Dezelfde link als QR-code, om te scannen.")


# -- assembling and running -----------------------------------------------------------------------


def build_application(settings: Settings, service: ConversationService) -> Application:  # type: ignore[type-arg]
    token = settings.require_telegram_token()
    builder = (
        Application.builder()
        .token(token)
        .concurrent_updates(ChatOrderedProcessor())
        .rate_limiter(AIORateLimiter(max_retries=2))
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base if "{token}" in base else base + "/bot")
        builder = builder.base_file_url(
            base.replace("/bot{token}", "/file/bot{token}")
            if "{token}" in base
            else base + "/file/bot"
        )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    channel = TelegramChannel(service)
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


async def run_bot(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    poll_timeout: int = 30,
    web: bool = True,
) -> int:
    """Polling (or webhook) plus the web app, until SIGINT/SIGTERM or `stop` is set."""

    cap_library_logs()
    settings.require_telegram_token()
    runtime = await Runtime.create(settings)
    stop = stop or _stop_on_signals()
    try:
        for notice in runtime.notices:
            log.warning(notice)
        service = ConversationService(runtime)
        application = build_application(settings, service)
        if settings.telegram_webhook_url:
            from bot.channels.telegram_webhook import serve_webhook

            await serve_webhook(settings, runtime, service, application, stop)
            return 0
        await run_polling(settings, runtime, service, application, stop, poll_timeout, web)
    finally:
        await runtime.close()
    return 0


async def run_polling(
    settings: Settings,
    runtime: Runtime,
    service: ConversationService,
    application: Application,  # type: ignore[type-arg]
    stop: asyncio.Event,
    poll_timeout: int,
    web: bool,
) -> None:
    try:
        await application.initialize()
    except InvalidToken as exc:
        cause = str(exc.__cause__ or exc)  # PTB re-raises the server's answer as the cause
        if "Not Found" in cause and settings.telegram_api_base_url:  # 401 is the token
            raise ConfigError(
                "The Bot API server answers 404 Not Found: TELEGRAM_API_BASE_URL is wrong "
                "(it should end in /bot or /bot{token})."
            ) from None
        raise ConfigError(
            "Telegram does not accept TELEGRAM_BOT_TOKEN; check it with @BotFather."
        ) from None
    await register_commands(application)
    register_notifier(application, service)
    web_server = None
    if web:
        from bot.web.server import start_background

        web_server = await start_background(runtime, service)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        timeout=poll_timeout,
        poll_interval=0,
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
    )
    log.info("Tijdig is running (polling)")
    try:
        await stop.wait()
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        if web_server is not None:
            await web_server.stop()


def register_notifier(
    application: Application,  # type: ignore[type-arg]
    service: ConversationService,
) -> None:
    """Let other parts (the summary web app) send a message to a Telegram chat."""
    from bot.services import notify

    async def send(address: str, text: str) -> None:
        try:
            await application.bot.send_message(
                int(address), text, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        except Forbidden:
            await service.mark_blocked(CHANNEL, address)  # a private chat's id is the user's

    notify.register(CHANNEL, send)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
