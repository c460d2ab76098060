"""Menu: the topics, with how far the person is in each."""

from __future__ import annotations

from bot.engine import progress, wording
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.turn import Turn


class Menu(Screen):
    name = "menu"
    resumable = True
    arrivals = (
        Arrival("give_name", ("name",)),
        Arrival("show_menu", ("menu", "intro", "question", "paused", "review")),
        Arrival("place_gone", ("intro", "question")),  # the stored topic left the flow
        Arrival("relative_done", ("relative",)),
    )

    def options(self, turn: Turn) -> list[Option]:
        result = []
        for item in progress.flow_progress(turn.flow, turn.answers):
            title = turn.t(item.topic.title)
            if item.complete:
                label = f"✓ {title}"
            elif item.started:
                label = f"{title} · {item.done}/{item.total}"
            else:
                label = title
            result.append(Option(item.topic.id, label, (title,)))
        suggested = turn.conv.draft.get("suggest")
        for index, option in enumerate(result):
            if option.id == suggested and index > 0:  # just finished a topic: the next first
                label = turn._("Volgende: {topic}").format(topic=option.label)
                result.insert(0, Option(option.id, label, option.words))
                del result[index + 1]
                break
        return result

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        items = progress.flow_progress(turn.flow, turn.answers)
        if all(item.complete for item in items):
            text = turn._(
                "U heeft alle onderwerpen gehad. Dank u wel voor uw tijd.\n\n"
                "Met /samenvatting ziet u alles op een rij. "
                "Met /delen maakt u een link voor uw huisarts of verpleegkundige. "
                "U kunt elk onderwerp opnieuw openen om iets te veranderen."
            )
        else:
            done = sum(1 for item in items if item.complete)
            text = turn._(
                "Waar wilt u het over hebben? Kies een onderwerp.\n"
                "U heeft {done} van de {total} onderwerpen gehad."
            ).format(done=done, total=len(items))
        if turn.conv.role != "self":  # every screen says whose wishes these are
            if turn.conv.role == "view":
                heading = wording.whose_line(turn) or ""
            else:
                heading = turn._("Wensen van {name}").format(name=wording.subject(turn))
            text = f"{heading}\n\n{text}"
        turn.say(text, self.options(turn))

    def choose(self, turn: Turn, option: str) -> None:
        if turn.flow.topic(option) is None:
            turn.draw()
            return
        turn.conv.topic = option
        turn.conv.trail = []
        turn.conv.draft = {}
        turn.fire("open_topic")


SCREEN = Menu()
