"""Review (/nakijken): a short walk through what matters for care, then any topic.

For each answer: "Klopt nog" (a confirmation row, not a new answer), "Aanpassen" (the
question itself; after the answer we come back here) or "Overslaan". The review ends by
asking whether something changed in health, home or people around the person, and offers
those topics first.
"""

from __future__ import annotations

from bot.content.model import Topic
from bot.engine.replies import ConfirmAnswer, ReviewDone
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.screens.question import answer_label
from bot.engine.topic_walk import go_to_question
from bot.engine.turn import Turn

OK, CHANGE, SKIP, STOP, DONE = "ok", "change", "skip", "_stop", "_done"
# Topics that fit "something changed in health, home or people around you", in that order.
LIFE_EVENTS = ("gezondheid", "wonen", "mensen")


def start(turn: Turn, args: str) -> None:
    """/nakijken: the answers the professional sees first, then a topic of choice."""
    if not turn.conv.consented:
        turn.show()
        return
    if turn.state not in ("menu", "intro", "question", "paused", "review"):
        turn.notice(turn._("Eerst nog even dit:"))
        turn.draw()
        return
    turn.conv.review = [q for q in turn.review_items if _answered(turn, q)]
    turn.conv.review_stage = "items" if turn.conv.review else "topics"
    if not turn.conv.review:
        turn.notice(turn._("Er zijn nog geen wensen om na te kijken."))
    turn.fire("start_review")


def _answered(turn: Turn, question_id: str) -> bool:
    answer = turn.answers.get(question_id)
    return answer is not None and not answer.skipped and turn.flow.question(question_id) is not None


class Review(Screen):
    name = "review"
    resumable = True
    arrivals = (
        Arrival("start_review", ("menu", "intro", "question", "paused", "review")),
        Arrival("back_to_review", ("question",)),
    )

    def key(self, turn: Turn) -> str:
        return f"r.{turn.conv.review[0]}" if turn.conv.review else "r"

    def options(self, turn: Turn) -> list[Option]:
        if turn.conv.review:
            return [
                Option(OK, turn._("Klopt nog"), (turn._("ja"), "ja", "yes")),
                Option(CHANGE, turn._("Aanpassen")),
                Option(SKIP, turn._("Overslaan")),
                Option(STOP, turn._("Stoppen met nakijken")),
            ]
        options = [Option(t.id, turn.t(t.title)) for t in self.topics(turn)]
        return [*options, Option(DONE, turn._("Nee, niets veranderd"), (turn._("nee"), "nee"))]

    def topics(self, turn: Turn) -> list[Topic]:
        """Topics with answers, those that fit a change in life first."""
        topics = [t for t in turn.flow.topics if any(_answered(turn, q.id) for q in t.questions)]
        return sorted(
            topics,
            key=lambda t: (
                t.id not in LIFE_EVENTS,
                LIFE_EVENTS.index(t.id) if t.id in LIFE_EVENTS else 0,
            ),
        )

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        if turn.conv.review:
            question = turn.flow.question(turn.conv.review[0])
            assert question is not None
            label = turn.t(question.summary or question.text)
            answer = answer_label(turn, question, turn.answers[question.id])
            text = turn._("{label}\nUw antwoord: {answer}\n\nKlopt dit nog?").format(
                label=label, answer=answer
            )
        else:
            text = turn._(
                "Is er iets veranderd in uw gezondheid, uw woning of de mensen om u heen? "
                "Kies dan dat onderwerp om het na te kijken. Of kies een ander onderwerp."
            )
        turn.say(text, self.options(turn))

    def choose(self, turn: Turn, option: str) -> None:
        conv = turn.conv
        if option in (STOP, DONE):
            finish(turn)
            return
        if conv.review:
            question_id = conv.review.pop(0)
            if option == OK:
                turn.effect(ConfirmAnswer(question_id))
            elif option == CHANGE:
                question = turn.flow.question(question_id)
                assert question is not None
                conv.topic, conv.trail = question.topic, []
                go_to_question(
                    turn, question, trigger="change_in_review", draft={"in_review": True}
                )
                return
            if not conv.review:
                conv.review_stage = "topics"
            turn.draw()
            return
        topic = turn.flow.topic(option)
        if topic is None:
            turn.draw()
            return
        conv.review = [q.id for q in topic.questions if _answered(turn, q.id)]
        conv.review_stage = "items"
        turn.draw()


def finish(turn: Turn) -> None:
    turn.conv.review, turn.conv.review_stage = [], None
    turn.effect(ReviewDone())
    turn.notice(turn._("Dank u wel. Uw wensen zijn nagekeken. Over een tijd vraag ik het u weer."))
    turn.fire("show_menu")


SCREEN = Review()
