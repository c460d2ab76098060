"""Replies out: the Bot API calls that show a turn's replies in a Telegram chat.

A button answer is one call where it can be (the pressed question grows into the next
one); everything else is sent as usual, and the buttons of the screen before come off
when there is room (`LiveKeyboards`). The outbox's messages go out here too.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram import Message as TgMessage
from telegram.error import BadRequest, Forbidden

from bot.channels.telegram_format import (
    CHECK,
    MAX_MESSAGE,
    grown_text,
    keyboard,
    qr_caption,
    qr_png,
    redrawn_text,
    split_text,
)
from bot.channels.telegram_live import LiveKeyboards
from bot.engine.replies import Document, InviteReply, LinkReply, Message, Notice, Reply
from bot.services.conversation import Handled
from bot.services.limits import NOTICE
from bot.services.outbox import Unreachable

log = logging.getLogger(__name__)


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


class ReplySender:
    """Shows a turn's replies in one chat; `blocked(chat_id)` is told when the chat
    blocked the bot (the participant is marked, nothing is retried)."""

    def __init__(self, blocked: Callable[[int], Awaitable[None]]) -> None:
        self.blocked = blocked
        # The message per chat whose buttons are the current screen's (a button answer grows
        # it into the next question); the one before loses its buttons when there is room.
        self.live_keyboards = LiveKeyboards()

    async def close(self) -> None:
        await self.live_keyboards.close()

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
            await self._blocked(chat_id)
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

    async def send(self, bot: Bot, chat_id: int, handled: Handled, *, pressed: Any = None) -> None:
        """Every reply of a turn, in order."""
        try:
            for reply in handled.replies:
                await self._render(bot, chat_id, reply, handled, pressed)
        except Forbidden:
            await self._blocked(chat_id)

    async def send_text(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        lasting: bool = False,
    ) -> None:
        """Text in as many messages as it needs; the buttons go under the last."""
        chunks = split_text(text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await without_reading(
                bot,
                "sendMessage",
                chat_id=chat_id,
                text=chunk,
                reply_markup=markup if last else None,
            )
        if markup is not None and not lasting:  # a side list's buttons stay usable
            self.live_keyboards.replace(bot, chat_id, sent["message_id"])

    async def _render(
        self, bot: Bot, chat_id: int, reply: Reply, handled: Handled, pressed: Any
    ) -> None:
        if isinstance(reply, Message):
            markup = keyboard(reply)
            if reply.redraw and isinstance(pressed, TgMessage):
                # keep the answers above the question when the message had grown
                text = redrawn_text(pressed.text or "", reply.text)
                with contextlib.suppress(BadRequest):
                    await pressed.edit_text(text, reply_markup=markup)
                return
            await self.send_text(bot, chat_id, reply.text, markup, lasting=reply.lasting)
        elif isinstance(reply, Notice):
            await self.send_text(bot, chat_id, reply.text)
        elif isinstance(reply, LinkReply):
            await _send_link(bot, chat_id, reply.text, reply.url, handled.locale)
        elif isinstance(reply, InviteReply):
            # A deep link: opening it sends "/start <code>" from the relative's own phone.
            url = f"https://t.me/{bot.username}?start={reply.code}"
            await _send_link(bot, chat_id, reply.text, url, handled.locale)
        elif isinstance(reply, Document):
            await bot.send_document(
                chat_id,
                document=io.BytesIO(reply.content),
                filename=reply.filename,
                caption=reply.caption or None,
            )

    async def _blocked(self, chat_id: int) -> None:
        log.info("chat blocked the bot; marking participant and not retrying")
        await self.blocked(chat_id)


async def _send_link(bot: Bot, chat_id: int, text: str, url: str, locale: str) -> None:
    """A link to open elsewhere (a summary, an invitation), and its QR code to scan."""
    await bot.send_message(
        chat_id, f"{text}\n\n{url}", link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    await bot.send_photo(chat_id, qr_png(url), caption=qr_caption(locale))


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
