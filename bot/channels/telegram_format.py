"""Telegram's own formats: button data, keyboards, message length, media kinds, QR codes."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram import Message as TgMessage

from bot.engine import MediaKind
from bot.engine.replies import Button, Message, Notice, Reply
from bot.i18n import translator

MAX_MESSAGE = 4096
# A question message grows with each answer (the choice, then the next question) up to this
# many characters; past it, the next question comes as a new message. Below Telegram's
# 4,096 so one message stays readable on a phone and an edit never nears the limit.
GROWN_MAX = 3000
CHECK = "✓ "
CALLBACK_VERSION = "2"
MAX_CALLBACK_BYTES = 64


def encode_button(button: Button) -> str:
    """`2|screen|option`: short, versioned, and at most Telegram's 64 bytes."""
    data = f"{CALLBACK_VERSION}|{button.screen}|{button.option}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"button data over 64 bytes for screen {button.screen!r}")
    return data


def decode_button(data: str) -> tuple[str, str] | None:
    """(screen, option), or None for data this version cannot read.

    Version 1 (`1|screen|revision|option`) is still read: such buttons stay in people's
    chats, and the screen key alone decides whether they still count.
    """
    parts = data.split("|")
    if len(parts) == 3 and parts[0] == CALLBACK_VERSION and parts[1]:
        return parts[1], parts[2]
    if len(parts) == 4 and parts[0] == "1" and parts[1]:
        try:
            int(parts[2], 16)
        except ValueError:
            return None
        return parts[1], parts[3]
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


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji can count two)."""
    return len(text.encode("utf-16-le")) // 2


def coalesced(replies: Sequence[Reply]) -> list[Reply]:
    """Notices right before a message become that message's first paragraphs ("Klaar:
    Wonen. Dank u wel!" above the topic menu): one chat-bound call instead of two, since
    Telegram's flood limit counts calls. Not into a re-drawn screen (it is edited in
    place) nor past Telegram's length limit; anything else stays as it was, in order."""
    result: list[Reply] = []
    notices: list[str] = []
    for reply in replies:
        if isinstance(reply, Notice):
            notices.append(reply.text)
            continue
        if notices and isinstance(reply, Message) and not reply.redraw:
            text = "\n\n".join([*notices, reply.text])
            if utf16_length(text) <= MAX_MESSAGE:
                reply, notices = dataclasses.replace(reply, text=text), []
        result.extend(Notice(text) for text in notices)
        result.append(reply)
        notices = []
    result.extend(Notice(text) for text in notices)
    return result


def grown_text(text: str, echo: str, question: str) -> str | None:
    """The answered question with its choice, then the next question, as one message; or
    None when that would pass GROWN_MAX (counted as Telegram does, in UTF-16 code units)."""
    combined = f"{text}\n\n{CHECK}{echo}\n\n{question}"
    return combined if utf16_length(combined) <= GROWN_MAX else None


def redrawn_text(shown: str, question: str) -> str:
    """The current question re-drawn (a choice ticked) at the end of a grown message, so
    the earlier questions and their answers above it stay as they were."""
    if shown.endswith(question):
        return shown
    at = shown.rfind(f"\n\n{CHECK}")
    if at < 0:
        return question
    end = shown.find("\n", at + 2)
    return f"{shown if end < 0 else shown[:end]}\n\n{question}"


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
