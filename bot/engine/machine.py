"""The conversation's screens and the moves between them, as one shared `transitions` machine.

One Machine is built per engine at start-up from the registered screens: each screen
declares the triggers that arrive at it. For each event the engine makes a short-lived
`Turn` (the model) standing at its stored state and fires the machine's events on it
(`machine.events[name].trigger(turn)`; no `add_model`, which binds every trigger as a
method each time), so thousands of conversations share one machine and the database stays
the only memory. Callbacks only compute replies: no I/O happens inside the machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from transitions import EventData, Machine

from bot.engine.screens.base import Screen

# /verder ("come_back") returns from these to the screen the person was on.
RESUME_FROM = ("paused", "deleting", "invite")


class ResumeTarget:
    """Condition of a `resume` move: taken when the stored place is this screen."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.__name__ = f"was_on_{target}"  # how the diagram labels the move

    def __call__(self, event: EventData) -> bool:
        return bool(event.kwargs.get("target") == self.target)


def machine_spec(screens: Iterable[Screen]) -> dict[str, Any]:
    screens = list(screens)
    transitions: list[dict[str, Any]] = []
    for screen in screens:
        for arrival in screen.arrivals:
            transitions.append(
                {"trigger": arrival.trigger, "source": list(arrival.sources), "dest": screen.name}
            )
        if screen.resumable:
            transitions.append(
                {
                    "trigger": "come_back",
                    "source": list(RESUME_FROM),
                    "dest": screen.name,
                    "conditions": [ResumeTarget(screen.name)],
                }
            )
    return {
        "states": [screen.name for screen in screens],
        "transitions": transitions,
        "initial": "welcome",
        "auto_transitions": False,  # every move is a declared trigger
        "send_event": True,
        "ignore_invalid_triggers": False,
    }


def build_machine(screens: Iterable[Screen]) -> Machine:
    """The shared machine. `after_state_change` draws the screen of the new state."""
    return Machine(model=None, after_state_change="entered", **machine_spec(screens))


def mermaid(screens: Iterable[Screen]) -> str:
    """The same machine drawn by transitions itself (mermaid; no graphviz needed). Its
    diagram extension (with the nested, locking and asyncio machines: 0.4 MB) is imported
    here, for `flows diagram`, not by every process."""
    from transitions.extensions import GraphMachine

    machine = GraphMachine(
        model=None, graph_engine="mermaid", show_conditions=True, **machine_spec(screens)
    )

    class Drawing:
        """A model at the initial state, only to ask the machine for its graph."""

    model = Drawing()
    machine.add_model(model)
    return str(model.get_graph().draw(None))  # type: ignore[attr-defined]
