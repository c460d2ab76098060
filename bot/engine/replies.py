"""Outbound replies and effects.

Replies are what the person sees; channels only render them. Effects are what must be
written or fetched; the service carries them out in one transaction before any reply is
sent, so nothing the person saw acknowledged can be lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A button press comes back as `Choice(screen, option)`."""

    label: str
    screen: str
    option: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # True when this message re-draws the screen a button was just pressed on (a multi
    # choice toggled); channels that can edit messages edit instead of sending anew.
    redraw: bool = False
    # True for a side list (languages, links to revoke): its buttons stay valid from any
    # older message, so channels leave them in place when the next screen arrives.
    lasting: bool = False

    @property
    def flat_buttons(self) -> tuple[Button, ...]:
        return tuple(button for row in self.buttons for button in row)


@dataclass(frozen=True)
class Notice:
    """A short remark about the last press (Telegram shows it on the button answer too)."""

    text: str


@dataclass(frozen=True)
class Document:
    filename: str
    mime_type: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class LinkReply:
    url: str
    text: str


@dataclass(frozen=True)
class InviteReply:
    """An invitation code to pass on; each channel shows it its own way (a deep link)."""

    code: str
    days: int
    text: str


Reply = Message | Notice | Document | LinkReply | InviteReply


# -- effects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordAnswer:
    question_id: str
    value: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


@dataclass(frozen=True)
class RecordConsent:
    pass


@dataclass(frozen=True)
class SetProfile:
    mode: str
    name: str | None


@dataclass(frozen=True)
class ShowSummary:
    """Render the plain-text summary into the reply stream at this point."""


@dataclass(frozen=True)
class ExportData:
    """Send everything stored about the person, as a JSON document."""


@dataclass(frozen=True)
class DeleteEverything:
    """Erase the person, every answer, link and log: no row is left behind."""


@dataclass(frozen=True)
class CreateShareLink:
    with_code: bool


@dataclass(frozen=True)
class ListShareLinks:
    pass


@dataclass(frozen=True)
class RevokeShareLink:
    link_id: str


# -- family ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateInvite:
    mode: str  # helper | view
    may_see: bool


@dataclass(frozen=True)
class JoinFamily:
    """The relative consented: link them to the person of the invitation."""

    code: str


@dataclass(frozen=True)
class SetRelative:
    name: str | None
    relation: str | None


@dataclass(frozen=True)
class ListRoles:
    """/wissel: whose wishes this chat can fill in."""


@dataclass(frozen=True)
class SwitchTo:
    participant_id: int


@dataclass(frozen=True)
class ListFamily:
    """/familie: the relatives and open invitations."""


@dataclass(frozen=True)
class RemoveRelative:
    participant_id: int
    keep_answers: bool


@dataclass(frozen=True)
class RevokeInvite:
    invite_id: str


@dataclass(frozen=True)
class ConfirmAnswer:
    """ "Klopt nog" in a review: a confirmation row; the answer itself stays as it is."""

    question_id: str


@dataclass(frozen=True)
class ReviewDone:
    """A review ended: the next one is planned REVIEW_AFTER from now."""


Effect = (
    RecordAnswer
    | RecordConsent
    | SetProfile
    | ShowSummary
    | ExportData
    | DeleteEverything
    | CreateShareLink
    | ListShareLinks
    | RevokeShareLink
    | CreateInvite
    | JoinFamily
    | SetRelative
    | ListRoles
    | SwitchTo
    | ListFamily
    | RemoveRelative
    | RevokeInvite
    | ConfirmAnswer
    | ReviewDone
)


@dataclass
class Outcome:
    """The result of one event: effects to carry out, then replies to send, in order.

    `items` interleaves replies and effects that produce replies (a summary), so the
    channel shows them in the order the engine meant. `echo` is the label of the option a
    button press chose (channels show it on the pressed message); `stale` marks a press on
    an old button.
    """

    items: list[Reply | Effect] = field(default_factory=list)
    echo: str | None = None
    stale: bool = False

    @property
    def replies(self) -> list[Reply]:
        return [i for i in self.items if isinstance(i, REPLY_TYPES)]

    @property
    def effects(self) -> list[Effect]:
        return [i for i in self.items if not isinstance(i, REPLY_TYPES)]


REPLY_TYPES = (Message, Notice, Document, LinkReply, InviteReply)
