"""Intro: a topic's title and introduction; a sensitive topic asks permission first."""

from __future__ import annotations

from bot.engine import progress, wording
from bot.engine.controls import LATER
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.topic_walk import begin_topic, park_topic
from bot.engine.turn import Turn


class Intro(Screen):
    name = "intro"
    resumable = True
    arrivals = (
        Arrival("open_topic", ("menu", "intro", "question", "review")),
        Arrival("back_to_intro", ("question",)),
        Arrival("question_gone", ("question",)),  # the stored question left the flow
    )

    def key(self, turn: Turn) -> str:
        return f"i.{turn.conv.topic}" if turn.conv.topic else self.name

    def options(self, turn: Turn) -> list[Option]:
        if turn.topic.sensitive:
            return [
                Option("begin", turn._("Ja, we beginnen"), (turn._("ja"), "ja", "yes")),
                Option(LATER, turn._("Nu liever niet"), (turn._("nee"), "nee", "no")),
            ]
        return [
            Option("begin", turn._("Beginnen"), (turn._("ja"), "ja", "yes", "start")),
            Option(LATER, turn._("Een ander onderwerp"), (turn._("ander"), turn._("later"))),
        ]

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        topic = turn.topic
        parts = [f"{turn.t(topic.title)}", turn.t(topic.intro)]
        item = progress.topic_progress(topic, turn.answers)
        if item.complete:
            parts.append(turn._("U heeft dit onderwerp al gehad. U kunt uw antwoorden nalopen."))
        elif item.started:
            parts.append(
                turn._("U heeft {done} van de {total} vragen al beantwoord.").format(
                    done=item.done, total=item.total
                )
            )
        if topic.sensitive and topic.permission is not None:
            parts.append(turn.t(topic.permission))
        note = wording.proxy_note(turn, topic)
        if note:
            parts.append(note)
        turn.say("\n\n".join(parts), self.options(turn))

    def choose(self, turn: Turn, option: str) -> None:
        if option == "begin":
            begin_topic(turn)
        else:
            park_topic(turn)


SCREEN = Intro()
