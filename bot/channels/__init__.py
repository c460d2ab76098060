"""The channel registry: one line per channel. `python -m bot` makes a subcommand of each,
and the host runs it. A new channel is one module here plus one line below."""

from __future__ import annotations

import importlib

from bot.channels.base import ChannelModule

REGISTRY = (
    "bot.channels.terminal",
    "bot.channels.telegram",
)


def channel_modules() -> list[ChannelModule]:
    return [importlib.import_module(name) for name in REGISTRY]  # type: ignore[misc]
