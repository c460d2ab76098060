"""The shape of a stored answer value, in one place.

An answer is a small dict, encrypted at rest: `{"option": id}`, `{"options": [ids]}`,
`{"value": 1..5}`, `{"text": ...}`, `{"voice": file ref}` or a person
`{"name", "relation", "relation_text"?, "phone"}`. The engine writes these with the
functions below and everyone reads them with `read`, so no one sniffs keys on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    OPTIONS = "options"
    SCALE = "scale"
    TEXT = "text"
    VOICE = "voice"
    PERSON = "person"
    EMPTY = "empty"  # a skipped question stores no value


def option_value(option_id: str) -> dict[str, Any]:
    return {"option": option_id}


def options_value(option_ids: list[str]) -> dict[str, Any]:
    return {"options": list(option_ids)}


def scale_value(number: int) -> dict[str, Any]:
    return {"value": number}


def text_value(text: str) -> dict[str, Any]:
    return {"text": text}


def voice_value(ref: str) -> dict[str, Any]:
    return {"voice": ref}


def person_value(
    name: str, relation: str | None, phone: str | None, relation_text: str | None = None
) -> dict[str, Any]:
    value: dict[str, Any] = {"name": name, "relation": relation, "phone": phone}
    if relation_text:
        value["relation_text"] = relation_text
    return value


@dataclass(frozen=True)
class Reading:
    """One answer value, read: its kind and the parts that kind has."""

    kind: Kind
    option_ids: tuple[str, ...] = ()  # choice and multi answers only
    number: int | None = None
    text: str = ""
    voice_ref: str = ""
    name: str = ""
    relation_id: str | None = None
    relation_text: str = ""
    phone: str = ""


def read(value: dict[str, Any]) -> Reading:
    """What kind of answer a stored value is (older rows included)."""
    if "text" in value:
        return Reading(Kind.TEXT, text=str(value["text"]))
    if "voice" in value:
        return Reading(Kind.VOICE, voice_ref=str(value["voice"]))
    if "value" in value:
        raw = value["value"]
        number = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else None
        return Reading(Kind.SCALE, number=number, text=str(raw))
    if "option" in value:
        return Reading(Kind.OPTIONS, option_ids=(str(value["option"]),))
    if "options" in value:
        return Reading(Kind.OPTIONS, option_ids=tuple(str(v) for v in value["options"]))
    if "name" in value:
        relation = value.get("relation")
        return Reading(
            Kind.PERSON,
            name=str(value.get("name") or ""),
            relation_id=str(relation) if relation else None,
            relation_text=str(value.get("relation_text") or ""),
            phone=str(value.get("phone") or ""),
        )
    return Reading(Kind.EMPTY)
