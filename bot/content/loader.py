"""Read flows/*.yaml into the compiled `Flow`, with errors that name file and line.

All problems in a file are collected, not only the first, so an editor can fix them in one
go. See docs/flow-format.md for the format this reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.model import (
    Condition,
    DiscussRule,
    Flow,
    Option,
    PzpCode,
    PzpLink,
    Question,
    QuestionType,
    Text,
    Topic,
)
from bot.content.yaml_lines import LineDict, LineList, YamlError, load_yaml

# Ids travel inside Telegram's 64-byte button data, hence the short maximum.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
YESNO_OPTIONS = ("ja", "nee", "weet_niet")
YESNO_LABELS = {"ja": "Ja", "nee": "Nee", "weet_niet": "Weet ik nog niet"}
RESERVED_IDS = {"menu", "profile", "consent"}
# The only placeholder in a text about someone else (`about`, `proxy_note`): the person.
NAME_PLACEHOLDER = "{name}"

TOPIC_KEYS = {
    "id",
    "title",
    "intro",
    "minutes",
    "sensitive",
    "permission",
    "proxy_note",
    "questions",
}
QUESTION_KEYS = {
    "id",
    "type",
    "text",
    "options",
    "help",
    "summary",
    "ask_if",
    "low",
    "high",
    "pzp",
    "about",
}
OPTION_KEYS = {"id", "label", "aliases", "pzp"}
CONDITION_KEYS = {"question", "is", "in", "not", "not_in", "answered"}
FLOW_KEYS = {"id", "version", "title", "topics", "discuss"}
DISCUSS_KEYS = {"id", "when", "text"}


@dataclass(frozen=True)
class FlowIssue:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FlowError(Exception):
    """Raised when a flow cannot be used; carries every problem that was found."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def load_flows(directory: Path) -> dict[str, Flow]:
    """Load every flow file (flows/*.yaml; included topic files live in sub-folders)."""
    flows: dict[str, Flow] = {}
    issues: list[FlowIssue] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise FlowError([FlowIssue(str(directory), 0, "there is no flow file (*.yaml) here")])
    for path in files:
        try:
            flow = load_flow(path)
        except FlowError as exc:
            issues.extend(exc.issues)
            continue
        if flow.id in flows:
            issues.append(FlowIssue(str(path), 1, f"flow id '{flow.id}' is used by two files"))
        flows[flow.id] = flow
    if issues:
        raise FlowError(issues)
    return flows


def load_flow(path: Path) -> Flow:
    reader = _FlowReader(path)
    flow = reader.read()
    if reader.issues or flow is None:
        raise FlowError(reader.issues)
    return flow


class _FlowReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.issues: list[FlowIssue] = []
        self.flow_id = ""
        self.topic_paths: dict[str, Path] = {}

    # -- reporting -----------------------------------------------------------------------
    def problem(self, path: Path, line: int, message: str) -> None:
        self.issues.append(FlowIssue(str(path), line, message))

    def load(self, path: Path) -> Any:
        try:
            return load_yaml(path)
        except FileNotFoundError:
            self.problem(self.path, 1, f"the file {path} does not exist")
        except YamlError as exc:
            self.problem(path, exc.line, exc.message)
        return None

    # -- reading -------------------------------------------------------------------------
    def read(self) -> Flow | None:
        data = self.load(self.path)
        if data is None:
            return None
        if not isinstance(data, LineDict):
            self.problem(self.path, 1, "a flow file must be a mapping with id, title and topics")
            return None
        self.unknown_keys(self.path, data, FLOW_KEYS, "flow")
        self.flow_id = self.ident(self.path, data, "id", "flow") or "flow"
        version = data.get("version", 1)
        if not isinstance(version, int) or version < 1:
            self.problem(self.path, data.line_of("version"), "version must be a whole number ≥ 1")
            version = 1
        title = self.text(self.path, data, "title", f"{self.flow_id}.title", required=True)
        raw_topics = data.get("topics")
        if not isinstance(raw_topics, LineList) or not raw_topics:
            self.problem(self.path, data.line_of("topics"), "topics must be a non-empty list")
            return None
        topics: list[Topic] = []
        for index, raw in enumerate(raw_topics):
            path, raw = self.resolve_include(raw, raw_topics.item_lines[index])
            if raw is None:
                continue
            topic = self.topic(path, raw)
            if topic is not None:
                topics.append(topic)
                self.topic_paths.setdefault(topic.id, path)
        self.check_ids(topics)
        self.check_conditions(topics)
        self.check_about(topics)
        discuss = self.discuss_rules(data, topics)
        if self.issues or title is None:
            return None
        return Flow(
            id=self.flow_id,
            version=version,
            title=title,
            topics=tuple(topics),
            source=str(self.path),
            discuss=discuss,
        )

    def discuss_rules(self, data: LineDict, topics: list[Topic]) -> tuple[DiscussRule, ...]:
        """`discuss:` answers that do not fit together, listed for the professional under
        "Om te bespreken". Each rule names questions and options that must exist."""
        raw_rules = data.get("discuss")
        if raw_rules is None:
            return ()
        if not isinstance(raw_rules, LineList):
            self.problem(self.path, data.line_of("discuss"), "discuss must be a list of rules")
            return ()
        questions = {q.id: q for topic in topics for q in topic.questions}
        rules: list[DiscussRule] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_rules):
            if not isinstance(raw, LineDict):
                self.problem(
                    self.path, raw_rules.item_lines[index], "a discuss rule must be a mapping"
                )
                continue
            self.unknown_keys(self.path, raw, DISCUSS_KEYS, "discuss rule")
            rule_id = self.ident(self.path, raw, "id", "discuss rule")
            if rule_id is None:
                continue
            if rule_id in seen:
                self.problem(self.path, raw.line, f"discuss rule id '{rule_id}' is used twice")
            seen.add(rule_id)
            text = self.text(
                self.path, raw, "text", f"{self.flow_id}.discuss.{rule_id}", required=True
            )
            when = self.conditions(self.path, raw, f"discuss rule '{rule_id}'", key="when")
            if "when" not in raw:
                self.problem(self.path, raw.line, f"discuss rule '{rule_id}': 'when' is missing")
            for cond in when:
                self.check_discuss_condition(rule_id, cond, questions)
            if text is not None and when:
                rules.append(DiscussRule(id=rule_id, text=text, when=when, line=raw.line))
        return tuple(rules)

    def check_discuss_condition(
        self, rule_id: str, cond: Condition, questions: dict[str, Question]
    ) -> None:
        where = f"discuss rule '{rule_id}'"
        target = questions.get(cond.question)
        if target is None:
            self.problem(
                self.path, cond.line, f"{where} refers to '{cond.question}', which is no question"
            )
            return
        if not target.is_asked:
            self.problem(
                self.path, cond.line, f"{where} refers to '{cond.question}', an info message"
            )
            return
        known = {o.id for o in target.options}
        for option_id in cond.any_of + cond.none_of:
            if option_id not in known:
                self.problem(
                    self.path,
                    cond.line,
                    f"{where}: '{option_id}' is not an option of '{cond.question}'"
                    + (f" (options: {', '.join(sorted(known))})" if known else " (it has none)"),
                )

    def resolve_include(self, raw: Any, line: int) -> tuple[Path, Any]:
        if isinstance(raw, LineDict) and set(raw) == {"include"}:
            target = raw["include"]
            if not isinstance(target, str):
                self.problem(self.path, line, "include must name a file")
                return self.path, None
            path = (self.path.parent / target).resolve()
            if not path.is_file():
                self.problem(self.path, line, f"the file {path} does not exist")
                return path, None
            data = self.load(path)
            if data is not None and not isinstance(data, LineDict):
                self.problem(path, 1, "a topic file must be a mapping with id, title and questions")
                return path, None
            return path, data
        if not isinstance(raw, LineDict):
            self.problem(self.path, line, "each topic must be a mapping (or `include: file.yaml`)")
            return self.path, None
        return self.path, raw

    def topic(self, path: Path, raw: LineDict) -> Topic | None:
        self.unknown_keys(path, raw, TOPIC_KEYS, "topic")
        topic_id = self.ident(path, raw, "id", "topic")
        if topic_id is None:
            return None
        ctx = f"{self.flow_id}.{topic_id}"
        title = self.text(path, raw, "title", f"{ctx}.title", required=True)
        intro = self.text(path, raw, "intro", f"{ctx}.intro", required=True)
        sensitive = raw.get("sensitive", False)
        if not isinstance(sensitive, bool):
            self.problem(path, raw.line_of("sensitive"), "sensitive must be true or false")
            sensitive = False
        permission = self.text(path, raw, "permission", f"{ctx}.permission", required=sensitive)
        if permission is not None and not sensitive:
            self.problem(path, raw.line_of("permission"), "permission is only used when sensitive")
        proxy_note = self.text(path, raw, "proxy_note", f"{ctx}.proxy_note")
        self.check_name_placeholder(path, raw, "proxy_note", proxy_note)
        minutes = raw.get("minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= 30:
            self.problem(path, raw.line_of("minutes"), "minutes must be a whole number 1-30")
            minutes = 5
        raw_questions = raw.get("questions")
        if not isinstance(raw_questions, LineList) or not raw_questions:
            self.problem(path, raw.line_of("questions"), "questions must be a non-empty list")
            return None
        questions = []
        for index, raw_question in enumerate(raw_questions):
            if not isinstance(raw_question, LineDict):
                self.problem(path, raw_questions.item_lines[index], "a question must be a mapping")
                continue
            question = self.question(path, raw_question, topic_id)
            if question is not None:
                questions.append(question)
        if not any(q.is_asked for q in questions) and questions:
            self.problem(path, raw.line, f"topic '{topic_id}' has no question, only info")
        if title is None or intro is None:
            return None
        return Topic(
            id=topic_id,
            title=title,
            intro=intro,
            minutes=minutes,
            questions=tuple(questions),
            sensitive=sensitive,
            permission=permission,
            proxy_note=proxy_note,
            line=raw.line,
            source=str(path),
        )

    def question(self, path: Path, raw: LineDict, topic_id: str) -> Question | None:
        self.unknown_keys(path, raw, QUESTION_KEYS, "question")
        question_id = self.ident(path, raw, "id", "question")
        if question_id is None:
            return None
        ctx = f"{self.flow_id}.{question_id}"
        try:
            kind = QuestionType(raw.get("type"))
        except ValueError:
            allowed = ", ".join(t.value for t in QuestionType)
            self.problem(
                path,
                raw.line_of("type"),
                f"question '{question_id}': type must be one of {allowed}",
            )
            return None
        text = self.text(path, raw, "text", f"{ctx}.text", required=True)
        help_text = self.text(path, raw, "help", f"{ctx}.help")
        summary = self.text(path, raw, "summary", f"{ctx}.summary")
        about = self.text(path, raw, "about", f"{ctx}.about")
        self.check_name_placeholder(path, raw, "about", about)
        low = self.text(path, raw, "low", f"{ctx}.low", required=kind is QuestionType.SCALE)
        high = self.text(path, raw, "high", f"{ctx}.high", required=kind is QuestionType.SCALE)
        if kind is not QuestionType.SCALE and (low or high):
            self.problem(path, raw.line, f"question '{question_id}': low/high are for scales only")
        options = self.options(path, raw, kind, question_id, ctx)
        pzp = self.pzp_link(path, raw, question_id)
        ask_if = self.conditions(path, raw, question_id)
        if text is None:
            return None
        return Question(
            id=question_id,
            topic=topic_id,
            type=kind,
            text=text,
            options=options,
            help=help_text,
            summary=summary,
            ask_if=ask_if,
            low=low,
            high=high,
            pzp=pzp,
            about=about,
            line=raw.line,
        )

    def options(
        self, path: Path, raw: LineDict, kind: QuestionType, question_id: str, ctx: str
    ) -> tuple[Option, ...]:
        raw_options = raw.get("options")
        needs_options = kind in (QuestionType.CHOICE, QuestionType.MULTI, QuestionType.PERSON)
        line = raw.line_of("options")
        if kind is QuestionType.YESNO:
            return self.yesno_options(path, raw_options, question_id, line)
        if raw_options is None:
            if needs_options:
                self.problem(path, raw.line, f"question '{question_id}' needs a list of options")
            return ()
        if not needs_options:
            self.problem(path, line, f"question '{question_id}' ({kind}) takes no options")
            return ()
        if not isinstance(raw_options, LineList) or len(raw_options) < 2:
            self.problem(path, line, f"question '{question_id}' needs at least two options")
            return ()
        result: list[Option] = []
        seen: set[str] = set()
        for index, item in enumerate(raw_options):
            item_line = raw_options.item_lines[index]
            if not isinstance(item, LineDict):
                self.problem(path, item_line, "an option must be a mapping with id and label")
                continue
            self.unknown_keys(path, item, OPTION_KEYS, "option")
            option_id = self.ident(path, item, "id", "option")
            if option_id is None:
                continue
            if option_id in seen:
                self.problem(path, item_line, f"option id '{option_id}' appears twice")
            seen.add(option_id)
            label = self.text(
                path, item, "label", f"{ctx}.option.{option_id}", required=True, what=option_id
            )
            aliases = self.text(path, item, "aliases", f"{ctx}.option.{option_id}.aliases")
            pzp = self.pzp_code(path, item)
            if label is not None:
                result.append(
                    Option(
                        id=option_id,
                        label=label,
                        aliases=(aliases,) if aliases else (),
                        pzp=pzp,
                        line=item_line,
                    )
                )
        return tuple(result)

    def yesno_options(
        self, path: Path, raw_options: Any, question_id: str, line: int
    ) -> tuple[Option, ...]:
        """Yes/no/not sure yet; `options` may attach PZP codes to those three, or give one
        another label (a factual question reads better with "Weet ik niet")."""
        codes: dict[str, PzpCode | None] = dict.fromkeys(YESNO_OPTIONS)
        labels = {o: Text(f"yesno.{o}", YESNO_LABELS[o]) for o in YESNO_OPTIONS}
        if raw_options is not None:
            if not isinstance(raw_options, LineList):
                self.problem(path, line, "options of a yesno question must be a list")
            else:
                for index, item in enumerate(raw_options):
                    item_line = raw_options.item_lines[index]
                    if not isinstance(item, LineDict) or item.get("id") not in YESNO_OPTIONS:
                        self.problem(
                            path,
                            item_line,
                            f"question '{question_id}': a yesno option id is one of "
                            + ", ".join(YESNO_OPTIONS),
                        )
                        continue
                    self.unknown_keys(path, item, {"id", "pzp", "label"}, "yesno option")
                    codes[item["id"]] = self.pzp_code(path, item)
                    context = f"{self.flow_id}.{question_id}.option.{item['id']}"
                    label = self.text(path, item, "label", context)
                    if label is not None:
                        labels[item["id"]] = label
        return tuple(Option(id=o, label=labels[o], pzp=codes[o]) for o in YESNO_OPTIONS)

    def pzp_link(self, path: Path, raw: LineDict, question_id: str) -> PzpLink | None:
        value = raw.get("pzp")
        if value is None:
            return None
        if isinstance(value, int | str) and str(value).strip():
            return PzpLink(link_id=str(value))
        self.problem(path, raw.line_of("pzp"), f"question '{question_id}': pzp is a linkId")
        return None

    def pzp_code(self, path: Path, raw: LineDict) -> PzpCode | None:
        value = raw.get("pzp")
        if value is None:
            return None
        if isinstance(value, int | str) and str(value).strip():
            return PzpCode(code=str(value))
        if isinstance(value, LineDict) and isinstance(value.get("code"), int | str):
            system = value.get("system")
            return PzpCode(code=str(value["code"]), system=system)
        self.problem(path, raw.line_of("pzp"), "an option's pzp is an answer code")
        return None

    def conditions(
        self, path: Path, raw: LineDict, question_id: str, key: str = "ask_if"
    ) -> tuple[Condition, ...]:
        """`ask_if` of a question, or `when` of a discuss rule (then `question_id` is the
        rule's description)."""
        value = raw.get(key)
        if value is None:
            return ()
        who = question_id if key != "ask_if" else f"question '{question_id}'"
        line = raw.line_of(key)
        items = value if isinstance(value, LineList) else [value]
        result = []
        for item in items:
            if not isinstance(item, LineDict) or not isinstance(item.get("question"), str):
                self.problem(path, line, f"{who}: {key} needs `question: id`")
                continue
            self.unknown_keys(path, item, CONDITION_KEYS, key)
            any_of = _as_ids(item.get("in", item.get("is")))
            none_of = _as_ids(item.get("not_in", item.get("not")))
            answered = item.get("answered")
            if answered is not None and not isinstance(answered, bool):
                self.problem(path, item.line, f"{key} answered must be true or false")
                answered = None
            if any_of is None or none_of is None:
                self.problem(path, item.line, f"{key} is/in/not/not_in take an option id or a list")
                continue
            if not any_of and not none_of and answered is None:
                self.problem(path, item.line, f"{key} needs one of is, in, not, not_in, answered")
                continue
            result.append(
                Condition(
                    question=item["question"],
                    any_of=any_of,
                    none_of=none_of,
                    answered=answered,
                    line=item.line,
                )
            )
        return tuple(result)

    # -- whole-flow checks -----------------------------------------------------------------
    def check_ids(self, topics: list[Topic]) -> None:
        seen: dict[str, str] = {}
        for topic in topics:
            if topic.id in seen:
                self.problem(self.path, topic.line, f"topic id '{topic.id}' is used twice")
            seen.setdefault(topic.id, "topic")
        questions: dict[str, int] = {}
        for topic in topics:
            for question in topic.questions:
                if question.id in questions or question.id in RESERVED_IDS:
                    self.problem(
                        self.path_of(topic),
                        question.line,
                        f"question id '{question.id}' is used twice or reserved",
                    )
                questions.setdefault(question.id, question.line)

    def check_conditions(self, topics: list[Topic]) -> None:
        earlier: dict[str, Question] = {}
        for topic in topics:
            for question in topic.questions:
                for cond in question.ask_if:
                    target = earlier.get(cond.question)
                    where = self.path_of(topic)
                    if target is None:
                        self.problem(
                            where,
                            cond.line,
                            f"question '{question.id}': ask_if refers to '{cond.question}', "
                            "which is not an earlier question",
                        )
                        continue
                    known = {o.id for o in target.options}
                    for option_id in cond.any_of + cond.none_of:
                        if option_id not in known:
                            self.problem(
                                where,
                                cond.line,
                                f"question '{question.id}': ask_if option '{option_id}' is not "
                                f"an option of '{cond.question}'",
                            )
                earlier[question.id] = question

    def check_about(self, topics: list[Topic]) -> None:
        """Third-person wording is all or nothing: once one question of the flow has `about`,
        every asked question needs one (a relative must never get a question meant for the
        person in the middle of questions about the person)."""
        asked = [(topic, q) for topic in topics for q in topic.questions if q.is_asked]
        if not any(q.about for _, q in asked):
            return
        for topic, question in asked:
            if question.about is None:
                self.problem(
                    self.path_of(topic),
                    question.line,
                    f"question '{question.id}': 'about' is missing (the question asked about "
                    "someone else, with {name}); the flow uses it, so every question needs one",
                )

    def path_of(self, topic: Topic) -> Path:
        return self.topic_paths.get(topic.id, self.path)

    def check_name_placeholder(
        self, path: Path, raw: LineDict, key: str, text: Text | None
    ) -> None:
        """`{name}` (the person) is the only placeholder in a text about someone else."""
        if text is None:
            return
        rest = text.source.replace(NAME_PLACEHOLDER, "")
        if "{" in rest or "}" in rest:
            found = sorted(set(re.findall(r"\{[^{}]*\}|[{}]", rest)))
            self.problem(
                path,
                raw.line_of(key),
                f"{text.context}: the only placeholder here is {NAME_PLACEHOLDER} "
                f"(found {', '.join(found)})",
            )

    # -- small readers -----------------------------------------------------------------------
    def unknown_keys(self, path: Path, raw: LineDict, allowed: set[str], what: str) -> None:
        for key in raw:
            if key not in allowed:
                self.problem(
                    path,
                    raw.line_of(key),
                    f"unknown key '{key}' in a {what} (allowed: {', '.join(sorted(allowed))})",
                )

    def ident(self, path: Path, raw: LineDict, key: str, what: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(
                path,
                raw.line_of(key),
                f"a {what} needs an id of at most 24 lowercase letters, digits and _, "
                f"starting with a letter (got {value!r})",
            )
            return None
        return value

    def text(
        self,
        path: Path,
        raw: LineDict,
        key: str,
        context: str,
        *,
        required: bool = False,
        what: str | None = None,
    ) -> Text | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(path, raw.line, f"{what or context}: '{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(path, raw.line_of(key), f"{context}: '{key}' must be a non-empty text")
            return None
        return Text(context=context, source=value.strip())


def _as_ids(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
