"""A new sitting: who sat with the person last time is not assumed to be there today.

"Samen met Els (dochter)" is said of every answer of the sitting where Els helped. After a
long pause (the service decides how long, `TurnContext.new_sitting`) the answers are the
person's own again, and the person is told how to name today's helper.
"""

from __future__ import annotations

from bot.engine.turn import Turn


def begin_sitting(turn: Turn) -> None:
    companion = turn.conv.companion
    if not turn.context.new_sitting or turn.conv.mode != "together" or not companion:
        return
    turn.conv.mode = "alone"
    turn.conv.companion = None
    turn.notice(
        turn._(
            "Vorige keer vulde u dit samen met {name} in. Helpt {name} of iemand anders u "
            "nu ook? Kies dan /profiel."
        ).format(name=companion.get("name") or turn._("iemand"))
    )
