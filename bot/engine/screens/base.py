"""What a screen is: a key its buttons carry, its buttons, how it is drawn, and what a
press or typed text does there. Each screen module defines one `Screen` subclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # the turn is handed in at run time; no import cycle
    from bot.engine.turn import Turn


@dataclass(frozen=True)
class Option:
    """One button of a screen, with the words that select it when typed."""

    id: str
    label: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arrival:
    """A trigger of the shared machine that leads to this screen, and from which screens."""

    trigger: str
    sources: tuple[str, ...]


class Screen:
    """A macro state of the conversation. Subclasses override what they need."""

    name: ClassVar[str]
    arrivals: ClassVar[tuple[Arrival, ...]] = ()
    # /verder after /stop or a cancelled /verwijderen may return here.
    resumable: ClassVar[bool] = False

    def key(self, turn: Turn) -> str:
        """What buttons carry, so a press on another screen's button is recognised."""
        return self.name

    def options(self, turn: Turn) -> list[Option]:
        return []

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        """Show the screen (nothing by default: the screen is entered silently)."""

    def choose(self, turn: Turn, option: str) -> None:
        """A button of this screen (pressed or typed) was chosen."""
        turn.show()

    def before_press(self, turn: Turn, key: str) -> None:
        """A button with `key` is about to be matched against this screen."""

    def voice(self, turn: Turn, ref: str) -> bool:
        """A voice note arrived; True when this screen took it as an answer."""
        return False

    def typed(self, turn: Turn, text: str) -> None:
        """Typed text where buttons are expected: it presses the option it names."""
        turn.press_typed(text)


@dataclass(frozen=True)
class SideList:
    """Buttons that stay valid from any older message (languages, links to revoke)."""

    key: str
