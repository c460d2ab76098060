"""Every screen of the conversation, registered once.

Adding a screen: write `bot/engine/screens/<name>.py` with a `Screen` subclass (its key,
buttons, drawing, what presses and typing do, and the triggers that arrive at it) and add
its module to `SCREEN_MODULES`. The machine, the diagram and the engine all read this list.
"""

from __future__ import annotations

from bot.engine.screens import (
    companion,
    consent,
    deleting,
    family,
    intro,
    invite,
    joining,
    language,
    links,
    menu,
    name,
    paused,
    question,
    relative,
    reminders,
    review,
    switch,
    welcome,
    who,
)
from bot.engine.screens.base import Screen

SCREEN_MODULES = (
    welcome,
    consent,
    who,
    companion,
    name,
    menu,
    intro,
    question,
    deleting,
    paused,
    invite,
    joining,
    relative,
    review,
)

SCREENS: dict[str, Screen] = {module.SCREEN.name: module.SCREEN for module in SCREEN_MODULES}

# Side lists: buttons that stay valid from any older message.
SIDE_LISTS = {
    language.KEY: language.press,
    links.KEY: links.press,
    switch.KEY: switch.press,
    family.KEY: family.press,
    reminders.KEY: reminders.press,
}
