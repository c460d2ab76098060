"""One event handled for one conversation: the model the shared state machine drives.

A reader who wants to know what happens when someone presses "Overslaan" finds it in
`Turn.skip_question`; what each screen shows is in the `screen_*` methods; how typed text
becomes a button is in `on_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.content.model import Flow, Question, QuestionType, Topic
from bot.engine import progress
from bot.engine.events import Choice, Command, Event, Media, MediaKind, Start, Text
from bot.engine.machine import RESUMABLE
from bot.engine.matching import match_many, match_one, normalize
from bot.engine.replies import (
    Button,
    CreateShareLink,
    DeleteEverything,
    ExportData,
    ListShareLinks,
    Message,
    Notice,
    Outcome,
    RecordAnswer,
    RecordConsent,
    RevokeShareLink,
    SetProfile,
    ShowSummary,
)
from bot.engine.state import AnswerView, Conversation
from bot.i18n import N_, Translator

MAX_TEXT = 10_000  # characters kept in one free-text answer; longer asks to shorten
MAX_NAME = 60
PHONE = re.compile(r"^\+?[\d\s().-]{6,20}$")

# Option ids of the controls every question has; flow ids cannot start with "_".
SKIP, LATER, BACK, EXPLAIN, DONE, CONTINUE = "_skip", "_later", "_back", "_help", "_done", "_next"
LANGUAGE_SCREEN = "_taal"


CONTROL_WORDS = {
    SKIP: N_("overslaan|sla over|skip"),
    BACK: N_("terug|vorige"),
    LATER: N_("later|straks"),
    EXPLAIN: N_("uitleg|wat betekent dit"),
}
LINKS_SCREEN = "_links"

COMMANDS = {
    "start": "start",
    "verder": "resume",
    "continue": "resume",
    "overzicht": "overview",
    "overview": "overview",
    "menu": "overview",
    "samenvatting": "summary",
    "summary": "summary",
    "taal": "language",
    "language": "language",
    "privacy": "privacy",
    "mijngegevens": "my_data",
    "mydata": "my_data",
    "verwijderen": "delete",
    "delete": "delete",
    "help": "help",
    "stop": "stop",
    "delen": "share",
    "share": "share",
    "links": "links",
    "profiel": "profile",
    "profile": "profile",
}
NEEDS_CONSENT = {"resume", "overview", "summary", "my_data", "share", "links", "profile"}


@dataclass(frozen=True)
class _Option:
    """One button of a screen, with the words that select it when typed."""

    id: str
    label: str
    words: tuple[str, ...] = ()


class Turn:
    """The machine's model for one event; it lives only while that event is handled."""

    state: str  # set by the machine

    def __init__(
        self,
        flow: Flow,
        conversation: Conversation,
        answers: dict[str, AnswerView],
        translator: Callable[[str], Translator],
        languages: list[tuple[str, str]],
    ) -> None:
        self.flow = flow
        self.conv = conversation
        self.answers = answers
        self._translator = translator
        self.languages = languages
        self.outcome = Outcome()

    # -- text helpers ------------------------------------------------------------------------
    @property
    def tr(self) -> Translator:
        return self._translator(self.conv.locale)

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    def t(self, text: Any) -> str:
        """A flow text in the conversation's language."""
        return self.tr.pgettext(text.context, text.source)

    def say(self, text: str, options: list[_Option] | None = None, *, redraw: bool = False) -> None:
        buttons = tuple(
            (Button(o.label, self.screen(), self.conv.revision, o.id),) for o in options or []
        )
        self.outcome.items.append(Message(text, self._rows(buttons), redraw=redraw))

    @staticmethod
    def _rows(rows: tuple[tuple[Button, ...], ...]) -> tuple[tuple[Button, ...], ...]:
        """Options one per row (a scale on one row); controls (skip, later...) two per row."""
        options = [row for row in rows if not row[0].option.startswith("_")]
        if options and all(row[0].option.isdigit() for row in options):
            options = [tuple(row[0] for row in options)]
        controls = [row[0] for row in rows if row[0].option.startswith("_")]
        paired = [tuple(controls[i : i + 2]) for i in range(0, len(controls), 2)]
        return (*options, *paired)

    def notice(self, text: str) -> None:
        self.outcome.items.append(Notice(text))

    # -- where we are --------------------------------------------------------------------------
    def screen(self) -> str:
        """The key buttons carry, so a press on an old screen's button is recognised."""
        if self.state == "question" and self.conv.question:
            return self.conv.question
        if self.state == "intro" and self.conv.topic:
            return f"i.{self.conv.topic}"
        if self.state == "consent":
            # Nothing is stored before consent, so the screen's key carries its language.
            return f"consent.{self.conv.locale}"
        return self.state

    @property
    def topic(self) -> Topic:
        topic = self.flow.topic(self.conv.topic or "")
        assert topic is not None, "a topic screen without a topic"
        return topic

    @property
    def question(self) -> Question:
        question = self.flow.question(self.conv.question or "")
        assert question is not None, "a question screen without a question"
        return question

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, event: Event) -> Outcome:
        self.repair()
        if isinstance(event, Command):
            self.on_command(event)
        elif isinstance(event, Start):
            self.on_start(event.payload)
        elif isinstance(event, Choice):
            self.on_choice(event)
        elif isinstance(event, Text):
            self.on_text(event.text)
        elif isinstance(event, Media):
            self.on_media(event)
        return self.outcome

    def repair(self) -> None:
        """A stored place that no longer exists (the flow changed) falls back to the menu."""
        if self.state in ("question", "intro") and self.flow.topic(self.conv.topic or "") is None:
            self.conv.topic = self.conv.question = None
            self.set_state("menu")
        elif self.state == "question" and self.flow.question(self.conv.question or "") is None:
            self.conv.question = None
            self.set_state("intro")

    def set_state(self, state: str) -> None:
        """Move without drawing (used before a handler draws the screen itself)."""
        self.state = state

    def entered(self) -> None:
        """After every move: a new screen, so buttons of the previous one become old."""
        self.conv.revision += 1
        self.conv.state = self.state
        self.prompt()

    def prompt(self) -> None:
        getattr(self, f"screen_{self.state}")()

    # -- events --------------------------------------------------------------------------------
    def on_start(self, payload: str | None) -> None:
        if self.state == "welcome":
            self.fire("ask_consent")
        elif self.state in ("consent", "deleting"):
            self.prompt()
        else:
            self.notice(self._("Welkom terug! We gaan verder waar we waren."))
            self.resume()

    def on_choice(self, event: Choice) -> None:
        # Choosing a language or revoking a link is safe from any old message.
        if event.question_id == LANGUAGE_SCREEN:
            self.set_language(event.option_id)
            return
        if event.question_id == LINKS_SCREEN:
            self.outcome.items.append(RevokeShareLink(event.option_id))
            self.prompt()
            return
        if self.state == "welcome" and event.question_id.startswith("consent."):
            self.arrive_at_consent(event)
        options = {o.id: o for o in self.options()}
        if event.question_id != self.screen() or event.option_id not in options:
            self.old_button(event)
            return
        self.outcome.echo = options[event.option_id].label
        self.choose(event.option_id)

    def arrive_at_consent(self, event: Choice) -> None:
        """A press on the consent screen by someone of whom nothing is stored yet."""
        locale = event.question_id.partition(".")[2]
        if locale in {code for code, _name in self.languages}:
            self.conv.locale = locale
        self.set_state("consent")
        self.conv.revision = event.revision

    def match_consent_in_any_language(self, text: str) -> bool:
        """Nothing is stored before consent, not even a language picked with /taal; so a
        typed "yes" to the English consent screen also says which language was shown."""
        others = [code for code, _name in self.languages if code != self.conv.locale]
        for locale in [self.conv.locale, *others]:
            previous, self.conv.locale = self.conv.locale, locale
            if match_one(text, [(o.label, *o.words) for o in self.options_consent()]) is not None:
                return True
            self.conv.locale = previous
        return False

    def old_button(self, event: Choice) -> None:
        """A button of an earlier screen never answers the current one; say where we are."""
        self.outcome.stale = True
        if event.question_id in self.answers:
            self.notice(self._("Deze vraag is al beantwoord. Hier zijn we nu:"))
        else:
            self.notice(self._("Die knop hoort bij een eerder bericht. Hier zijn we nu:"))
        self.reprompt_or_start()

    def on_text(self, text: str) -> None:
        if len(text) > MAX_TEXT:
            self.notice(
                self._(
                    "Dat bericht is te lang voor mij ({count} tekens). "
                    "Wilt u het in kortere stukken sturen? Er is niets verloren."
                ).format(count=len(text))
            )
            self.prompt()
            return
        if not text.strip():
            self.prompt()
            return
        if self.state == "welcome":
            self.set_state("consent")  # typed "ja" to the consent screen we showed before
            if not self.match_consent_in_any_language(text):
                self.set_state("welcome")
                self.fire("ask_consent")
                return
        if self.state == "name":
            self.set_name(text)
            return
        if self.state == "paused":
            self.resume()
            return
        if self.state == "question" and self.expects_text():
            control = self.control_word(text)
            if control is None:
                self.answer_text(text.strip())
            else:
                self.choose(control)
            return
        options = self.options()
        choices = [(o.label, *o.words) for o in options]
        numbered = sum(1 for o in options if not o.id.startswith("_")) or None
        if (
            self.is_person_step("relation")
            and match_one(text, [(o.label, *o.words) for o in options]) is None
        ):
            self.conv.draft["relation"] = None
            self.conv.draft["relation_text"] = " ".join(text.split())[:MAX_NAME]
            self.conv.step = "phone"
            self.conv.revision += 1
            self.prompt()
            return
        if self.state == "question" and self.question.type is QuestionType.MULTI:
            picked = match_many(text, choices, numbered)
            if picked and all(not options[i].id.startswith("_") for i in picked):
                self.toggle_many([options[i].id for i in picked])
                return
        index = match_one(text, choices, numbered)
        if index is None:
            self.notice(
                self._(
                    "Ik begrijp uw antwoord niet helemaal. "
                    "Kies een van de knoppen, of typ het nummer ervan."
                )
            )
            self.prompt()
            return
        self.outcome.echo = options[index].label
        self.choose(options[index].id)

    def on_media(self, event: Media) -> None:
        if (
            event.kind is MediaKind.VOICE
            and self.state == "question"
            and self.question.type is QuestionType.TEXT
        ):
            self.record(self.question, {"voice": event.ref})
            self.notice(self._("Dank u wel, ik heb uw ingesproken bericht bewaard."))
            self.advance()
            return
        names = {
            MediaKind.PHOTO: self._("een foto"),
            MediaKind.STICKER: self._("een sticker"),
            MediaKind.VOICE: self._("een ingesproken bericht"),
            MediaKind.DOCUMENT: self._("een bestand"),
            MediaKind.LOCATION: self._("een locatie"),
            MediaKind.CONTACT: self._("een contact"),
            MediaKind.VIDEO: self._("een video"),
        }
        what = names.get(event.kind, self._("dit soort bericht"))
        self.notice(
            self._(
                "Dank u wel voor {what}! Daar kan ik helaas niets mee. "
                "U kunt een knop kiezen of een antwoord typen."
            ).format(what=what)
        )
        if self.state == "welcome":
            self.fire("ask_consent")
        else:
            self.prompt()

    def on_command(self, event: Command) -> None:
        action = COMMANDS.get(event.name.lower().lstrip("/").split("@")[0])
        if action is None:
            self.notice(self._("Dat commando ken ik niet. Met /help ziet u wat ik kan."))
            self.reprompt_or_start()
            return
        if action == "start":
            self.on_start(event.args or None)
            return
        if action in NEEDS_CONSENT and not self.conv.consented:
            self.notice(self._("Eerst vraag ik of u mee wilt doen."))
            self.reprompt_or_start()
            return
        getattr(self, f"command_{action}")(event.args.strip())

    def fire(self, name: str) -> None:
        getattr(self, name)()

    def reprompt_or_start(self) -> None:
        if self.state == "welcome":
            self.fire("ask_consent")
        else:
            self.prompt()

    # -- commands ------------------------------------------------------------------------------
    def command_resume(self, args: str) -> None:
        self.resume()

    def command_overview(self, args: str) -> None:
        if self.state in ("who", "name", "deleting"):
            self.notice(self._("Eerst nog even dit:"))
            self.prompt()
            return
        self.fire("show_menu")

    def command_summary(self, args: str) -> None:
        self.outcome.items.append(ShowSummary())
        self.reprompt_after_command()

    def command_my_data(self, args: str) -> None:
        self.outcome.items.append(ExportData())
        self.reprompt_after_command()

    def command_privacy(self, args: str) -> None:
        self.notice(self.privacy_text())
        self.reprompt_or_start()

    def command_help(self, args: str) -> None:
        self.notice(self.help_text())
        self.reprompt_or_start()

    def command_language(self, args: str) -> None:
        codes = {code for code, _name in self.languages}
        wanted = normalize(args)
        if wanted in codes:
            self.set_language(wanted)
            return
        self.outcome.items.append(
            Message(
                self._("In welke taal wilt u verder?"),
                tuple(
                    (Button(name, LANGUAGE_SCREEN, self.conv.revision, code),)
                    for code, name in self.languages
                ),
            )
        )

    def command_delete(self, args: str) -> None:
        if not self.conv.consented:
            self.outcome.items.append(DeleteEverything())
            self.notice(self._("Er was nog niets van u bewaard. Er staat nu niets meer."))
            self.conv.state = "welcome"
            self.state = "welcome"
            return
        if self.state != "deleting":
            if self.state != "paused":  # paused already knows where to return to
                self.conv.resume_state = self.state if self.state in RESUMABLE else "menu"
            self.fire("ask_delete")
        else:
            self.prompt()

    def command_stop(self, args: str) -> None:
        if self.state in ("welcome", "consent"):
            self.notice(self._("Goed. Er is niets bewaard. Typ /start als u wilt beginnen."))
            return
        if self.state == "paused":
            self.screen_paused()
            return
        if self.state == "deleting":
            self.set_state(self.conv.resume_state or "menu")
        self.conv.resume_state = self.state
        self.fire("pause")

    def command_share(self, args: str) -> None:
        self.outcome.items.append(CreateShareLink(with_code="code" in normalize(args)))
        self.reprompt_after_command()

    def command_links(self, args: str) -> None:
        self.outcome.items.append(ListShareLinks())

    def command_profile(self, args: str) -> None:
        if self.state == "who":
            self.prompt()
            return
        if self.state in ("paused", "deleting"):
            self.set_state("menu")
        self.fire("change_profile")

    def reprompt_after_command(self) -> None:
        if self.state in ("paused", "welcome", "consent"):
            return
        self.prompt()

    def resume(self) -> None:
        if self.state in ("paused", "deleting"):
            target = self.conv.resume_state if self.conv.resume_state in RESUMABLE else "menu"
            self.conv.resume_state = None
            getattr(self, f"to_{target}")()
        elif self.state == "welcome":
            self.fire("ask_consent")
        else:
            self.prompt()

    def set_language(self, code: str) -> None:
        if code not in {c for c, _n in self.languages}:
            self.prompt()
            return
        self.conv.locale = code
        self.notice(self._("Goed, we gaan verder in het Nederlands."))
        self.reprompt_or_start()

    # -- choosing a button -------------------------------------------------------------------
    def choose(self, option: str) -> None:
        getattr(self, f"choose_{self.state}")(option)

    def choose_welcome(self, option: str) -> None:
        self.fire("ask_consent")

    def choose_consent(self, option: str) -> None:
        if option == "yes":
            self.conv.consented = True
            self.outcome.items.append(RecordConsent())
            self.fire("agree")
        elif option == "no":
            self.outcome.items.append(DeleteEverything())
            self.notice(
                self._(
                    "Dat is goed. Er is niets van u bewaard. "
                    "Als u later toch wilt beginnen, typ dan /start."
                )
            )
            self.conv.state = "welcome"
            self.state = "welcome"
        else:
            self.notice(self.privacy_text())
            self.prompt()

    def choose_who(self, option: str) -> None:
        self.conv.mode = option
        self.fire("choose_mode")

    def choose_name(self, option: str) -> None:
        self.set_name(None)

    def set_name(self, name: str | None) -> None:
        clean = " ".join(name.split())[:MAX_NAME] if name else None
        no_name = {normalize(w) for o in self.options_name() for w in (o.label, *o.words)}
        if clean and (self.control_word(clean) == SKIP or normalize(clean) in no_name):
            clean = None  # "Liever niet" typed instead of pressed is not a name
        self.conv.name = clean
        self.outcome.items.append(SetProfile(mode=self.conv.mode or "alone", name=clean))
        if clean:
            self.notice(self._("Dank u wel, {name}.").format(name=clean))
        self.fire("give_name")

    def choose_menu(self, option: str) -> None:
        if self.flow.topic(option) is None:
            self.prompt()
            return
        self.conv.topic = option
        self.conv.trail = []
        self.fire("open_topic")

    def choose_intro(self, option: str) -> None:
        if option == "begin":
            if self.conv.topic in self.conv.parked:
                self.conv.parked.remove(self.conv.topic)
            first = progress.first_open(self.topic, self.answers)
            self.conv.draft = {"reviewing": first is None}
            start = first or next(iter(progress.applicable(self.topic, self.answers)), None)
            if start is None:
                self.fire("show_menu")
                return
            self.go_to_question(start, trigger="begin_topic")
        else:
            self.park_topic()

    def choose_deleting(self, option: str) -> None:
        if option == "yes":
            self.outcome.items.append(DeleteEverything())
            self.notice(
                self._(
                    "Alles is verwijderd: uw antwoorden, uw naam en uw links. "
                    "Typ /start als u ooit opnieuw wilt beginnen."
                )
            )
            self.conv = Conversation(locale=self.conv.locale)
            self.state = "welcome"
        else:
            self.notice(self._("Goed, er is niets verwijderd."))
            self.resume()

    def choose_paused(self, option: str) -> None:
        self.resume()

    def choose_question(self, option: str) -> None:
        question = self.question
        if option == SKIP:
            self.skip_question()
        elif option == LATER:
            self.park_topic()
        elif option == BACK:
            self.go_back()
        elif option == EXPLAIN:
            self.explain()
        elif question.type is QuestionType.INFO:
            self.advance()
        elif question.type is QuestionType.MULTI:
            if option == DONE:
                self.finish_multi()
            else:
                self.toggle_many([option])
        elif question.type is QuestionType.SCALE:
            self.record(question, {"value": int(option)})
            self.advance()
        elif question.type is QuestionType.PERSON:
            self.person_step_choice(option)
        else:
            self.record(question, {"option": option})
            self.advance()

    # -- what a question does -----------------------------------------------------------------
    def skip_question(self) -> None:
        """ "Overslaan": remembered as skipped (so it is not asked again), never as an answer."""
        question = self.question
        if question.is_asked:
            self.record(question, {}, skipped=True)
        self.advance()

    def park_topic(self) -> None:
        """ "Later": the topic waits in the menu; nothing is lost."""
        topic = self.conv.topic
        if topic and topic not in self.conv.parked:
            self.conv.parked.append(topic)
        self.notice(self._("Goed, dit onderwerp bewaren we voor later."))
        self.conv.question = None
        self.conv.draft = {}
        self.fire("show_menu")

    def go_back(self) -> None:
        """ "Terug": the question before this one in this topic, or the topic's intro."""
        question = self.question
        if question.type is QuestionType.PERSON and self.conv.step not in (None, "name"):
            self.conv.step = "name" if self.conv.step == "relation" else "relation"
            self.conv.revision += 1
            self.prompt()
            return
        trail = self.conv.trail
        while trail and trail[-1] == question.id:
            trail.pop()
        while trail:
            previous = self.flow.question(trail.pop())
            if previous is not None and progress.applies(previous, self.answers):
                self.go_to_question(previous, trigger="next_question")
                return
        # Nothing shown before in this visit (the topic was resumed half-way): the question
        # before this one in the topic, so answers from an earlier visit can be changed.
        earlier = self.earlier_question(question)
        if earlier is not None:
            self.go_to_question(earlier, trigger="next_question")
            return
        self.conv.question = None
        self.fire("back_to_intro")

    def earlier_question(self, question: Question) -> Question | None:
        questions = progress.applicable(self.topic, self.answers)
        ids = [q.id for q in questions]
        index = ids.index(question.id) if question.id in ids else 0
        return questions[index - 1] if index > 0 else None

    def explain(self) -> None:
        question = self.question
        if question.help is not None:
            self.notice(self.t(question.help))
        self.prompt()

    def is_person_step(self, step: str) -> bool:
        return (
            self.state == "question"
            and self.question.type is QuestionType.PERSON
            and (self.conv.step or "name") == step
        )

    def expects_text(self) -> bool:
        question = self.question
        if question.type is QuestionType.TEXT:
            return True
        return question.type is QuestionType.PERSON and self.conv.step in (None, "name", "phone")

    def answer_text(self, text: str) -> None:
        question = self.question
        if question.type is QuestionType.PERSON:
            self.person_step_text(text)
            return
        self.record(question, {"text": text})
        self.advance()

    def toggle_many(self, option_ids: list[str]) -> None:
        selected: list[str] = list(self.conv.draft.get("selected", []))
        for option_id in option_ids:
            if option_id in selected:
                selected.remove(option_id)
            else:
                selected.append(option_id)
        self.conv.draft["selected"] = selected
        self.screen_question(redraw=True)

    def finish_multi(self) -> None:
        selected = self.conv.draft.get("selected", [])
        if not selected:
            self.notice(self._("Kies er minstens één, of kies 'Overslaan'."))
            self.prompt()
            return
        order = [o.id for o in self.question.options]
        self.record(self.question, {"options": sorted(selected, key=order.index)})
        self.advance()

    def person_step_text(self, text: str) -> None:
        step = self.conv.step or "name"
        if step == "name":
            self.conv.draft["name"] = " ".join(text.split())[: MAX_NAME * 2]
            self.conv.step = "relation"
            self.conv.revision += 1
            self.prompt()
        elif not PHONE.match(text):
            options = self.options()
            index = match_one(text, [(o.label, *o.words) for o in options])
            if index is not None:
                self.choose(options[index].id)
                return
            self.notice(
                self._(
                    "Dat lijkt geen telefoonnummer. Typ alleen de cijfers, of kies 'Weet ik niet'."
                )
            )
            self.prompt()
        else:
            self.conv.draft["phone"] = " ".join(text.split())
            self.finish_person()

    def person_step_choice(self, option: str) -> None:
        step = self.conv.step or "name"
        if step == "relation":
            self.conv.draft["relation"] = option
            self.conv.step = "phone"
            self.conv.revision += 1
            self.prompt()
        elif step == "phone" and option == "_none":
            self.finish_person()
        else:
            self.prompt()

    def finish_person(self) -> None:
        draft = self.conv.draft
        value = {
            "name": draft.get("name", ""),
            "relation": draft.get("relation"),
            "phone": draft.get("phone"),
        }
        if draft.get("relation_text"):
            value["relation_text"] = draft["relation_text"]
        self.record(self.question, value)
        self.advance()

    def record(self, question: Question, value: dict[str, Any], *, skipped: bool = False) -> None:
        self.outcome.items.append(RecordAnswer(question.id, value, skipped))
        self.answers[question.id] = AnswerView(value=value, skipped=skipped)

    def advance(self) -> None:
        """To the next question that needs an answer, or back to the menu when done."""
        topic = self.topic
        current = self.question
        questions = progress.applicable(topic, self.answers)
        ids = [q.id for q in questions]
        after = questions[ids.index(current.id) + 1 :] if current.id in ids else questions
        reviewing = bool(self.conv.draft.get("reviewing"))
        upcoming = [q for q in after if reviewing or not q.is_asked or q.id not in self.answers]
        target = upcoming[0] if upcoming else progress.first_open(topic, self.answers)
        if target is not None:
            self.go_to_question(target, trigger="next_question", draft={"reviewing": reviewing})
            return
        title = self.t(topic.title)
        self.notice(self._("Klaar: {topic}. Dank u wel!").format(topic=title))
        self.conv.question = None
        self.conv.draft = {}
        if topic.id in self.conv.parked:
            self.conv.parked.remove(topic.id)
        self.fire("show_menu")

    def go_to_question(
        self, question: Question, *, trigger: str, draft: dict[str, Any] | None = None
    ) -> None:
        self.conv.question = question.id
        self.conv.step = "name" if question.type is QuestionType.PERSON else None
        keep = {"reviewing": self.conv.draft.get("reviewing", False)}
        self.conv.draft = {**keep, **(draft or {})}
        previous = self.answers.get(question.id)
        if question.type is QuestionType.MULTI and previous and not previous.skipped:
            self.conv.draft["selected"] = list(previous.option_ids)
        if not self.conv.trail or self.conv.trail[-1] != question.id:
            self.conv.trail.append(question.id)
        self.fire(trigger)

    def control_word(self, text: str) -> str | None:
        """Typed "overslaan", "terug", "later" or "uitleg" in a text question."""
        wanted = normalize(text)
        for option, spelling in CONTROL_WORDS.items():
            words = f"{spelling}|{self._(spelling)}".split("|")
            if wanted in {normalize(word) for word in words}:
                return option
        return None

    # -- screens ------------------------------------------------------------------------------
    def options(self) -> list[_Option]:
        return getattr(self, f"options_{self.state}")()

    def options_welcome(self) -> list[_Option]:
        return []

    def screen_welcome(self) -> None:
        self.fire("ask_consent")

    def options_consent(self) -> list[_Option]:
        return [
            _Option("yes", self._("Ja, ik doe mee"), (self._("ja"),)),
            _Option("no", self._("Nee, liever niet"), (self._("nee"),)),
            _Option("privacy", self._("Meer over privacy"), ("privacy",)),
        ]

    def screen_consent(self) -> None:
        self.say(
            self._(
                "Welkom bij Tijdig.\n\n"
                "Ik help u nadenken over later. Waar wilt u wonen? Wie helpt u? "
                "Wat wilt u in de zorg? U kiest zelf waarover u praat.\n\n"
                "Eerst iets over uw gegevens:\n"
                "• Ik bewaar uw antwoorden. Ze worden versleuteld opgeslagen.\n"
                "• Niemand ziet ze. Alleen als u zelf een link deelt, met /delen, "
                "kan bijvoorbeeld uw huisarts ze lezen.\n"
                "• Met /mijngegevens ziet u alles wat ik van u bewaar.\n"
                "• Met /verwijderen wist u alles, meteen en voorgoed.\n\n"
                "Ik ben geen arts. Uw wensen worden pas afspraken "
                "na een gesprek met uw huisarts of verpleegkundige.\n\n"
                "Wilt u meedoen?"
            ),
            self.options_consent(),
        )

    def options_who(self) -> list[_Option]:
        return [
            _Option("alone", self._("Ik vul het zelf in"), (self._("zelf"),)),
            _Option("together", self._("Samen met iemand"), (self._("samen"),)),
            _Option("for_other", self._("Voor iemand anders"), (self._("voor iemand"),)),
        ]

    def screen_who(self) -> None:
        self.say(
            self._(
                "Fijn dat u meedoet. Wie vult dit in?\n\n"
                "U kunt het alleen doen, of samen met bijvoorbeeld uw kind. "
                "U kunt het ook invullen voor iemand anders, zoals uw vader of moeder."
            ),
            self.options_who(),
        )

    def options_name(self) -> list[_Option]:
        return [_Option(SKIP, self._("Liever niet"), (self._("geen naam"),))]

    def screen_name(self) -> None:
        if self.conv.mode == "for_other":
            text = self._(
                "Voor wie vult u dit in? Typ de naam, bijvoorbeeld 'mijn moeder' of 'Anna'."
            )
        elif self.conv.mode == "together":
            text = self._("Hoe mag ik u noemen? Het gaat om de persoon wiens wensen dit zijn.")
        else:
            text = self._("Hoe mag ik u noemen? Typ uw naam.")
        self.say(text, self.options_name())

    def options_menu(self) -> list[_Option]:
        result = []
        for item in progress.flow_progress(self.flow, self.answers):
            title = self.t(item.topic.title)
            if item.complete:
                label = f"✓ {title}"
            elif item.started:
                label = f"{title} · {item.done}/{item.total}"
            else:
                label = title
            result.append(_Option(item.topic.id, label, (title,)))
        return result

    def screen_menu(self) -> None:
        items = progress.flow_progress(self.flow, self.answers)
        if all(item.complete for item in items):
            text = self._(
                "U heeft alle onderwerpen gehad. Wat goed!\n\n"
                "Met /samenvatting ziet u alles op een rij. "
                "Met /delen maakt u een link voor uw huisarts of verpleegkundige. "
                "U kunt elk onderwerp opnieuw openen om iets te veranderen."
            )
        else:
            done = sum(1 for item in items if item.complete)
            text = self._(
                "Waar wilt u het over hebben? Kies een onderwerp.\n"
                "U heeft {done} van de {total} onderwerpen gehad."
            ).format(done=done, total=len(items))
        self.say(text, self.options_menu())

    def options_intro(self) -> list[_Option]:
        if self.topic.sensitive:
            return [
                _Option("begin", self._("Ja, we beginnen"), (self._("ja"), "ja", "yes")),
                _Option(LATER, self._("Nu liever niet"), (self._("nee"), "nee", "no")),
            ]
        return [
            _Option("begin", self._("Beginnen"), (self._("ja"), "ja", "yes", "start")),
            _Option(LATER, self._("Een ander onderwerp"), (self._("ander"), self._("later"))),
        ]

    def screen_intro(self) -> None:
        topic = self.topic
        parts = [f"{self.t(topic.title)}", self.t(topic.intro)]
        item = progress.topic_progress(topic, self.answers)
        if item.complete:
            parts.append(self._("U heeft dit onderwerp al gehad. U kunt uw antwoorden nalopen."))
        elif item.started:
            parts.append(
                self._("U heeft {done} van de {total} vragen al beantwoord.").format(
                    done=item.done, total=item.total
                )
            )
        if topic.sensitive and topic.permission is not None:
            parts.append(self.t(topic.permission))
        self.say("\n\n".join(parts), self.options_intro())

    def options_question(self) -> list[_Option]:
        question = self.question
        result: list[_Option] = []
        if question.type is QuestionType.INFO:
            result.append(_Option(CONTINUE, self._("Verder"), (self._("ok"), "ok")))
        elif question.type is QuestionType.SCALE:
            result.extend(_Option(str(n), str(n)) for n in range(1, 6))
        elif question.type in (QuestionType.CHOICE, QuestionType.YESNO):
            result.extend(self.flow_options(question))
        elif question.type is QuestionType.MULTI:
            selected = set(self.conv.draft.get("selected", []))
            for option in self.flow_options(question):
                mark = "✓ " if option.id in selected else ""
                result.append(_Option(option.id, mark + option.label, option.words))
            result.append(_Option(DONE, self._("Klaar"), (self._("klaar"), "klaar", "done")))
        elif question.type is QuestionType.PERSON:
            if self.conv.step == "relation":
                result.extend(self.flow_options(question))
            elif self.conv.step == "phone":
                result.append(_Option("_none", self._("Weet ik niet"), (self._("geen"),)))
        if question.is_asked:
            result.append(_Option(SKIP, self._("Overslaan"), (self._("overslaan"),)))
            result.append(_Option(LATER, self._("Later"), (self._("later"),)))
        result.append(_Option(BACK, self._("Terug"), (self._("terug"),)))
        if question.help is not None:
            result.append(_Option(EXPLAIN, self._("Uitleg"), (self._("uitleg"),)))
        return result

    def flow_options(self, question: Question) -> list[_Option]:
        result = []
        for option in question.options:
            words = (
                *tuple(w for alias in option.aliases for w in (self.t(alias), alias.source)),
                option.label.source,
            )
            result.append(_Option(option.id, self.t(option.label), words))
        return result

    def screen_question(self, *, redraw: bool = False) -> None:
        question = self.question
        topic = self.topic
        if question.is_asked:
            number, total = progress.position(topic, question, self.answers)
            header = self._("Vraag {number} van {total} · {topic}").format(
                number=number, total=total, topic=self.t(topic.title)
            )
        else:
            header = self.t(topic.title)
        if self.conv.mode == "for_other" and self.conv.name:
            header += " · " + self._("voor {name}").format(name=self.conv.name)
        body = [header, self.t(question.text)]
        if question.type is QuestionType.SCALE and question.low and question.high:
            body.append(
                self._("1 = {low}\n5 = {high}").format(
                    low=self.t(question.low), high=self.t(question.high)
                )
            )
        if question.type is QuestionType.PERSON:
            body.append(self.person_step_text_prompt())
        if question.type is QuestionType.MULTI:
            body.append(self._("Kies er één of meer, en dan 'Klaar'."))
        previous = self.answers.get(question.id)
        if previous is not None and question.is_asked:
            body.append(self.previous_answer_text(question, previous))
        self.say("\n\n".join(body), self.options_question(), redraw=redraw)

    def person_step_text_prompt(self) -> str:
        step = self.conv.step or "name"
        if step == "name":
            return self._("Wat is de naam? Typ de naam.")
        if step == "relation":
            return self._("Wat is deze persoon van u?")
        return self._("Wat is het telefoonnummer? Typ het nummer.")

    def previous_answer_text(self, question: Question, previous: AnswerView) -> str:
        if previous.skipped:
            return self._("Deze vraag heeft u eerder overgeslagen.")
        return self._("Uw antwoord tot nu toe: {answer}").format(
            answer=self.answer_label(question, previous)
        )

    def answer_label(self, question: Question, answer: AnswerView) -> str:
        value = answer.value
        if "text" in value:
            text = str(value["text"])
            return text if len(text) <= 200 else text[:200] + "…"
        if "voice" in value:
            return self._("een ingesproken bericht")
        if "value" in value:
            return str(value["value"])
        if question.type is QuestionType.PERSON:
            return str(value.get("name") or "")
        labels = []
        for option_id in answer.option_ids:
            option = question.option(option_id)
            labels.append(self.t(option.label) if option else option_id)
        return ", ".join(labels)

    def options_deleting(self) -> list[_Option]:
        return [
            _Option("yes", self._("Ja, verwijder alles"), (self._("ja"), "ja", "yes")),
            _Option("no", self._("Nee, toch niet"), (self._("nee"), "nee", "no")),
        ]

    def screen_deleting(self) -> None:
        self.say(
            self._(
                "Weet u het zeker? Dan wis ik al uw antwoorden, uw naam en uw links. "
                "Dat kan niet ongedaan worden gemaakt."
            ),
            self.options_deleting(),
        )

    def options_paused(self) -> list[_Option]:
        return [_Option("resume", self._("Verder gaan"), (self._("verder"),))]

    def screen_paused(self) -> None:
        self.say(
            self._(
                "Goed, we stoppen voor nu. Alles wat u heeft gezegd is bewaard. "
                "Typ /verder wanneer u weer wilt."
            ),
            self.options_paused(),
        )

    # -- longer texts -------------------------------------------------------------------------
    def privacy_text(self) -> str:
        return self._(
            "Over uw gegevens:\n"
            "• Uw antwoorden en namen worden versleuteld bewaard.\n"
            "• Alleen u ziet ze. Een zorgverlener ziet ze alleen via een link "
            "die u zelf maakt met /delen. U kunt zo'n link altijd intrekken met /links.\n"
            "• /mijngegevens stuurt u alles wat ik van u bewaar.\n"
            "• /verwijderen wist alles, meteen en voorgoed."
        )

    def help_text(self) -> str:
        return self._(
            "Dit kan ik voor u doen:\n"
            "/verder – verder waar u was\n"
            "/overzicht – alle onderwerpen en hoe ver u bent\n"
            "/samenvatting – al uw antwoorden op een rij\n"
            "/delen – een link maken voor uw huisarts\n"
            "/links – uw links bekijken of intrekken\n"
            "/taal – een andere taal kiezen\n"
            "/profiel – wie invult en hoe ik u noem\n"
            "/privacy – wat ik bewaar en wie het ziet\n"
            "/mijngegevens – alles wat ik van u bewaar\n"
            "/verwijderen – alles wissen\n"
            "/stop – stoppen voor nu\n\n"
            "Bij elke vraag kunt u 'Overslaan', 'Later' of 'Terug' kiezen."
        )
