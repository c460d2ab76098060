"""Question: one question of a topic, with skip, later, back and explain.

Choice, yes/no, scale and info questions are answered with a button (or its words typed);
multi toggles options until "Klaar"; text takes typed text or a voice note; a person
question has its own small steps (`bot/engine/person_answer.py`).
"""

from __future__ import annotations

from bot.content.model import Question, QuestionType
from bot.engine import person_answer, progress, wording
from bot.engine.answer_value import (
    Kind,
    option_value,
    options_value,
    read,
    scale_value,
    text_value,
    voice_value,
)
from bot.engine.controls import BACK, CONTINUE, DONE, EXPLAIN, LATER, SKIP
from bot.engine.screens.base import Arrival, Option, Screen
from bot.engine.state import AnswerView, RelativeView
from bot.engine.topic_walk import advance, go_back, park_topic, skip_question
from bot.engine.turn import Turn

ADOPT = "_adopt."  # option prefix: take a relative's view as the person's own answer


class QuestionScreen(Screen):
    name = "question"
    resumable = True
    arrivals = (
        Arrival("begin_topic", ("intro",)),
        Arrival("next_question", ("question",)),
        Arrival("change_in_review", ("review",)),  # "Aanpassen" in /nakijken
    )

    def key(self, turn: Turn) -> str:
        return turn.conv.question or self.name

    # -- buttons ------------------------------------------------------------------------------
    def options(self, turn: Turn) -> list[Option]:
        question = turn.question
        result: list[Option] = []
        hidden = locked(turn, question)
        if question.type is QuestionType.INFO or hidden:
            result.append(Option(CONTINUE, turn._("Verder"), (turn._("ok"), "ok")))
        elif question.type is QuestionType.SCALE:
            result.extend(Option(str(n), str(n)) for n in range(1, 6))
        elif question.type in (QuestionType.CHOICE, QuestionType.YESNO):
            result.extend(flow_options(turn, question))
        elif question.type is QuestionType.MULTI:
            selected = set(turn.conv.draft.get("selected", []))
            for option in flow_options(turn, question):
                mark = "✓ " if option.id in selected else ""
                result.append(Option(option.id, mark + option.label, option.words))
            result.append(Option(DONE, turn._("Klaar"), (turn._("klaar"), "klaar", "done")))
        elif question.type is QuestionType.PERSON:
            if person_answer.step(turn) == "relation":
                result.extend(flow_options(turn, question))
            result.extend(person_answer.options(turn))
        if question.is_asked and not hidden:  # a skip would overwrite a hidden answer
            result.append(Option(SKIP, turn._("Overslaan"), (turn._("overslaan"),)))
        if question.is_asked:
            result.append(Option(LATER, turn._("Later"), (turn._("later"),)))
        result.append(Option(BACK, turn._("Terug"), (turn._("terug"),)))
        if question.help is not None:
            result.append(Option(EXPLAIN, turn._("Uitleg"), (turn._("uitleg"),)))
        for view in self.views(turn, question):
            label = turn._("Overnemen van {who}").format(who=view.who)
            result.append(Option(f"{ADOPT}{view.participant_id}", label))
        return result

    def draw(self, turn: Turn, *, redraw: bool = False) -> None:
        question = turn.question
        topic = turn.topic
        if question.is_asked:  # a bar that only fills, and the minutes still to go
            item = progress.topic_progress(topic, turn.answers)
            header = turn._("{topic} · {bar} nog ongeveer {minutes} min.").format(
                topic=turn.t(topic.title),
                bar=progress.bar(item),
                minutes=progress.minutes_left(topic, item),
            )
        else:
            header = turn.t(topic.title)
        whose = wording.whose_line(turn)
        if whose:
            header += " · " + whose
        body = [header, wording.question_text(turn, question)]
        if locked(turn, question):  # no answer asked for, and none shown
            body.append(previous_answer_text(turn, question, turn.answers[question.id]))
            turn.say("\n\n".join(body), self.options(turn), redraw=redraw)
            return
        if question.type is QuestionType.SCALE and question.low and question.high:
            body.append(
                turn._("1 = {low}\n5 = {high}").format(
                    low=turn.t(question.low), high=turn.t(question.high)
                )
            )
        if question.type is QuestionType.PERSON:
            body.append(person_answer.prompt(turn))
        if question.type is QuestionType.MULTI:
            body.append(turn._("Kies er één of meer, en dan 'Klaar'."))
        previous = turn.answers.get(question.id)
        if previous is not None and question.is_asked:
            body.append(previous_answer_text(turn, question, previous))
        for view in self.views(turn, question):
            shown = answer_label(turn, question, AnswerView(view.value))
            body.append(turn._("{who} denkt: {answer}").format(who=view.who, answer=shown))
        turn.say("\n\n".join(body), self.options(turn), redraw=redraw)

    @staticmethod
    def views(turn: Turn, question: Question) -> tuple[RelativeView, ...]:
        """Relatives' own views on this question, shown to the person (never to others)."""
        if turn.conv.role != "self" or not question.is_asked:
            return ()
        return turn.context.views.get(question.id, ())

    # -- what a press does --------------------------------------------------------------------
    def choose(self, turn: Turn, option: str) -> None:
        question = turn.question
        if option.startswith(ADOPT):  # the person takes a relative's view as their own
            view = next(
                v for v in self.views(turn, question) if f"{ADOPT}{v.participant_id}" == option
            )
            turn.record(question, dict(view.value))
            turn.notice(turn._("Overgenomen. Dit is nu uw eigen antwoord."))
            advance(turn)
        elif (
            option == SKIP and question.type is QuestionType.PERSON and turn.conv.draft.get("name")
        ):
            person_answer.finish(turn)  # a name was typed: skipping the rest keeps it
        elif option == SKIP:
            skip_question(turn)
        elif option == LATER:
            park_topic(turn)
        elif option == BACK:
            if question.type is not QuestionType.PERSON or not person_answer.step_back(turn):
                go_back(turn)
        elif option == EXPLAIN:
            if question.help is not None:
                turn.notice(turn.t(question.help))
            turn.draw()
        elif question.type is QuestionType.INFO or locked(turn, question):
            advance(turn)
        elif question.type is QuestionType.MULTI:
            if option == DONE:
                finish_multi(turn)
            else:
                toggle(turn, [option])
        elif question.type is QuestionType.SCALE:
            turn.record(question, scale_value(int(option)))
            advance(turn)
        elif question.type is QuestionType.PERSON:
            person_answer.chosen(turn, option)
        else:
            turn.record(question, option_value(option))
            advance(turn)

    def typed(self, turn: Turn, text: str) -> None:
        question = turn.question
        if locked(turn, question):  # only the buttons: nothing typed is recorded here
            turn.press_typed(text)
            return
        if question.type is QuestionType.TEXT or (
            question.type is QuestionType.PERSON and person_answer.expects_text(turn)
        ):
            control = turn.control_word(text)
            if control is not None:
                self.choose(turn, control)
            elif question.type is QuestionType.PERSON:
                person_answer.typed(turn, text.strip())
            else:
                turn.record(question, text_value(text.strip()))
                advance(turn)
            return
        if question.type is QuestionType.PERSON and person_answer.typed_relation(turn, text):
            return
        if question.type is QuestionType.MULTI:
            picked = turn.typed_many(text)
            if picked:
                toggle(turn, picked)
                return
        turn.press_typed(text)

    def voice(self, turn: Turn, ref: str) -> bool:
        if turn.question.type is not QuestionType.TEXT or locked(turn, turn.question):
            return False
        turn.record(turn.question, voice_value(ref))
        turn.notice(turn._("Dank u wel, ik heb uw ingesproken bericht bewaard."))
        advance(turn)
        return True


def flow_options(turn: Turn, question: Question) -> list[Option]:
    result = []
    for option in question.options:
        words = (
            *tuple(w for alias in option.aliases for w in (turn.t(alias), alias.source)),
            option.label.source,
        )
        result.append(Option(option.id, turn.t(option.label), words))
    return result


def toggle(turn: Turn, option_ids: list[str]) -> None:
    selected: list[str] = list(turn.conv.draft.get("selected", []))
    for option_id in option_ids:
        if option_id in selected:
            selected.remove(option_id)
        else:
            selected.append(option_id)
    turn.conv.draft["selected"] = selected
    turn.draw(redraw=True)


def finish_multi(turn: Turn) -> None:
    selected = turn.conv.draft.get("selected", [])
    if not selected:
        turn.notice(turn._("Kies er minstens één, of kies 'Overslaan'."))
        turn.draw()
        return
    order = [o.id for o in turn.question.options]
    turn.record(turn.question, options_value(sorted(selected, key=order.index)))
    advance(turn)


def locked(turn: Turn, question: Question) -> bool:
    """A helper who may not read the person's answers is at one they did not give: it is
    neither shown nor changed, so the person's own answer is never overwritten unseen."""
    previous = turn.answers.get(question.id)
    return previous is not None and previous.hidden and question.is_asked


def previous_answer_text(turn: Turn, question: Question, previous: AnswerView) -> str:
    if previous.hidden:
        return turn._(
            "Deze vraag is al beantwoord of overgeslagen. Wat er staat, kan alleen {name} "
            "zien en veranderen."
        ).format(name=wording.subject(turn))
    if previous.skipped:
        return turn._("Deze vraag heeft u eerder overgeslagen.")
    return turn._("Uw antwoord tot nu toe: {answer}").format(
        answer=answer_label(turn, question, previous)
    )


def answer_label(turn: Turn, question: Question, answer: AnswerView) -> str:
    reading = read(answer.value)
    if reading.kind is Kind.TEXT:
        return reading.text if len(reading.text) <= 200 else reading.text[:200] + "…"
    if reading.kind is Kind.VOICE:
        return turn._("een ingesproken bericht")
    if reading.kind is Kind.SCALE:
        return reading.text
    if reading.kind is Kind.PERSON:
        return reading.name
    labels = []
    for option_id in reading.option_ids:
        option = question.option(option_id)
        labels.append(turn.t(option.label) if option else option_id)
    return ", ".join(labels)


SCREEN = QuestionScreen()
