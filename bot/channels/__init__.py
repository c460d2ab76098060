"""The channel registry: one line per channel. `python -m bot` makes a subcommand of each,
and the host runs it. A new channel is one module here plus one line below.

The subcommand and its help line are here, so that `python -m bot` loads a channel's
module (and the libraries it needs, Telegram's say) only when that channel is asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from bot.channels.base import ChannelModule


@dataclass(frozen=True)
class Entry:
    module: str
    command: str  # the subcommand that runs it
    help: str

    def load(self) -> ChannelModule:
        return cast("ChannelModule", importlib.import_module(self.module))


REGISTRY = (
    Entry("bot.channels.terminal", "chat", "chat in this terminal (no Telegram needed)"),
    Entry("bot.channels.telegram", "run", "run the Telegram bot and the web app"),
)


def channel_modules() -> list[ChannelModule]:
    return [entry.load() for entry in REGISTRY]


def entry_for(command: str) -> Entry | None:
    return next((entry for entry in REGISTRY if entry.command == command), None)
