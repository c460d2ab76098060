"""python-telegram-bot's Application, assembled in one place: the HTTP client, the send
budget, the handlers, the command menu, and what happens when a handler fails.

The channel (bot/channels/telegram.py) hands in its handlers; `python -m bot serve` uses
only a Bot from here, to send the outbox's notices (`open_notifier`).
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any, Protocol

from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram_http import AiohttpRequest, UpdatesRequest
from bot.channels.telegram_limits import SharedFloodLimiter
from bot.channels.telegram_order import ChatOrderedProcessor
from bot.channels.telegram_replies import push_replies
from bot.config import Settings
from bot.engine.replies import Reply
from bot.i18n import N_, available_locales, negotiate, translator
from bot.services.limits import SendBudget, namespace

log = logging.getLogger(__name__)

NAME = "telegram"  # stored with each participant: notices find their channel by it

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

Context = ContextTypes.DEFAULT_TYPE


class Handlers(Protocol):
    """What the channel does with each kind of update (named after what the person did)."""

    async def pressed_button(self, update: Update, context: Context) -> None: ...
    async def sent_command(self, update: Update, context: Context) -> None: ...
    async def sent_text(self, update: Update, context: Context) -> None: ...
    async def sent_media(self, update: Update, context: Context) -> None: ...
    async def edited_message(self, update: Update, context: Context) -> None: ...
    async def wrote_in_group(self, update: Update, context: Context) -> None: ...
    async def blocked_the_bot(self, update: Update, context: Context) -> None: ...

    async def update_done(self, update: object) -> None:
        """After an update was handled and answered (the webhook inbox forgets it)."""
        ...


def build_application(settings: Settings, handlers: Handlers) -> Application:  # type: ignore[type-arg]
    """Updates of one chat in order, those of different chats side by side; polling, or
    no updater when a webhook brings the updates."""
    token = settings.require_telegram_token()
    builder = (
        Application.builder()
        .token(token)
        .concurrent_updates(ChatOrderedProcessor(after=handlers.update_done))
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
        ChatMemberHandler(handlers.blocked_the_bot, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, handlers.wrote_in_group))
    application.add_handler(CallbackQueryHandler(handlers.pressed_button))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, handlers.edited_message)
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.sent_command))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.sent_text))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.sent_media)
    )
    application.add_error_handler(on_error)
    return application


def _bot_api(builder: Any, settings: Settings) -> Any:
    """The Bot API's address and the HTTP client (aiohttp: bot/channels/telegram_http.py);
    one connection for the long poll, a pool for everything else."""
    builder = builder.request(AiohttpRequest(256)).get_updates_request(UpdatesRequest(1))
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


async def on_error(update: object, context: Context) -> None:
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


class TelegramNotifier:
    """For `python -m bot serve` alone: sends notices through the Bot API, receives nothing."""

    name = NAME

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
