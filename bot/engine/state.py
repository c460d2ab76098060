"""The conversation as the engine sees it: a plain snapshot the storage layer persists."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.engine.answer_value import read


@dataclass
class Conversation:
    """Where one participant is. Everything here is stored (encrypted) between events."""

    state: str = "welcome"
    locale: str = "nl"
    consented: bool = False
    mode: str | None = None  # alone | together | for_other
    name: str | None = None  # how to address the person
    topic: str | None = None
    question: str | None = None
    step: str | None = None  # sub-step of a person question: name, relation, phone
    draft: dict[str, Any] = field(default_factory=dict)  # person fields / multi selection
    trail: list[str] = field(default_factory=list)  # questions shown in this topic, for back
    parked: list[str] = field(default_factory=list)  # topics left for later
    resume_state: str | None = None  # where /verder returns to from paused or deleting
    # Family: self (the person), helper (a relative filling in the person's answers) or
    # view (a relative giving their own view); who sits with the person ("samen met");
    # a relative's own name and relation; the person's name as a relative sees it.
    role: str = "self"
    companion: dict[str, Any] | None = None
    relative: dict[str, Any] | None = None
    subject: str | None = None
    reminders: str = "default"  # default | weekly | monthly | off (/herinneringen)
    review: list[str] = field(default_factory=list)  # questions still to look over (/nakijken)
    review_stage: str | None = None  # None outside a review; items | topics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class AnswerView:
    """The latest answer to one question, as the engine needs it."""

    value: dict[str, Any]
    skipped: bool = False
    # Answered, but not for this reader: a helper who may not read the person's answers
    # gets no value, so it is neither asked again, nor shown, nor overwritten.
    hidden: bool = False

    @property
    def option_ids(self) -> tuple[str, ...]:
        """The options chosen; empty for text, scale, voice and person answers."""
        return read(self.value).option_ids


@dataclass(frozen=True)
class RelativeView:
    """A relative's own view on one question, shown to the person next to their answer."""

    participant_id: int
    who: str  # "Els (dochter)"
    value: dict[str, Any]


@dataclass(frozen=True)
class Invitation:
    """An invite code someone arrived with, as the service found it."""

    code: str
    status: str  # ok | unknown | used | expired | revoked
    subject: str | None = None  # the person's name, when the code is usable
    mode: str | None = None  # helper | view


@dataclass(frozen=True)
class TurnContext:
    """What the service knows that one turn may need, besides the answers."""

    invitation: Invitation | None = None
    views: dict[str, tuple[RelativeView, ...]] = field(default_factory=dict)
    # The first event after a long pause: who sat with the person then is not assumed.
    new_sitting: bool = False
