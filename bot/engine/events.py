"""Inbound events: what a person did, in words no channel owns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, kw_only=True)
class Event:
    """Who did it (the channel's user id) and a unique id for deduplication."""

    user_id: str
    chat_id: str
    event_id: str
    language_hint: str | None = None


@dataclass(frozen=True, kw_only=True)
class Start(Event):
    payload: str | None = None


@dataclass(frozen=True, kw_only=True)
class Text(Event):
    text: str


@dataclass(frozen=True, kw_only=True)
class Choice(Event):
    """A button press: which screen it belonged to (its key) and which option."""

    question_id: str
    option_id: str


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    name: str
    args: str = ""


class MediaKind(StrEnum):
    VOICE = "voice"
    PHOTO = "photo"
    STICKER = "sticker"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACT = "contact"
    VIDEO = "video"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class Media(Event):
    kind: MediaKind
    ref: str = ""
