"""The conversation's macro states and the moves between them, as one shared `transitions` machine.

One Machine is built per flow at start-up. For each event the engine attaches a short-lived
`Turn` (the model) at its stored state, fires one trigger, reads the new state and detaches
it again, so thousands of conversations share one machine and the database stays the only
memory. Callbacks only compute replies: no I/O happens inside the machine.
"""

from __future__ import annotations

from transitions import Machine

STATES = [
    "welcome",  # nothing stored yet
    "consent",  # what we store, who sees it, how to delete; yes or no
    "who",  # alone, together with someone, or for someone else
    "name",  # how to address the person
    "menu",  # topics with progress
    "intro",  # a topic's intro (and permission for a sensitive topic)
    "question",  # one question of a topic
    "deleting",  # asked to erase everything; waiting for a yes
    "paused",  # /stop: everything kept, /verder continues
]

ACTIVE = ["menu", "intro", "question"]

TRANSITIONS: list[dict[str, object]] = [
    {"trigger": "ask_consent", "source": ["welcome", "consent"], "dest": "consent"},
    {"trigger": "agree", "source": "consent", "dest": "who"},
    {"trigger": "decline", "source": ["welcome", "consent"], "dest": "welcome"},
    {"trigger": "choose_mode", "source": "who", "dest": "name"},
    {"trigger": "change_profile", "source": [*ACTIVE, "name"], "dest": "who"},
    {"trigger": "give_name", "source": "name", "dest": "menu"},
    {"trigger": "open_topic", "source": ACTIVE, "dest": "intro"},
    {"trigger": "begin_topic", "source": "intro", "dest": "question"},
    {"trigger": "next_question", "source": "question", "dest": "question"},
    {"trigger": "back_to_intro", "source": "question", "dest": "intro"},
    {"trigger": "show_menu", "source": [*ACTIVE, "paused"], "dest": "menu"},
    {"trigger": "ask_delete", "source": [*ACTIVE, "who", "name", "paused"], "dest": "deleting"},
    {"trigger": "forget", "source": "deleting", "dest": "welcome"},
    {"trigger": "pause", "source": [*ACTIVE, "who", "name"], "dest": "paused"},
]

# States a conversation can return to after /stop or a cancelled /verwijderen.
RESUMABLE = {"who", "name", *ACTIVE}


def build_machine() -> Machine:
    """The shared machine. `after_state_change` re-draws the screen of the new state."""
    return Machine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial="welcome",
        auto_transitions=True,  # `to_<state>` is how /verder returns to a stored state
        after_state_change="entered",
        ignore_invalid_triggers=False,
    )


def mermaid(machine: Machine) -> str:
    """The machine as a mermaid state diagram (auto `to_*` moves left out)."""
    lines = ["stateDiagram-v2", "    [*] --> welcome"]
    for name, event in machine.events.items():
        if name.startswith("to_"):
            continue
        for source, transitions in event.transitions.items():
            for transition in transitions:
                lines.append(f"    {source} --> {transition.dest}: {name}")
    lines.append("    paused --> menu: resume")
    lines.append("    deleting --> menu: cancel")
    return "\n".join(lines)
