"""Read flows/*.yaml into the compiled `Flow`, with errors that name file and line.

All problems in a file are collected, not only the first, so an editor can fix them in one
go. See docs/flow-format.md for the format this reads.

This module reads the flow file, its topics (inline or included) and their questions. The
other parts each have their own module: ids, texts and the `FlowIssue` itself in `fields`,
answer options in `options`, `ask_if`/`when` in `conditions`, `discuss:` in `discuss`, and
the checks that need the whole flow read first in `flow_checks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.conditions import read_conditions
from bot.content.discuss import read_discuss_rules
from bot.content.fields import ID_PATTERN, FieldReader, FlowError, FlowIssue
from bot.content.flow_checks import check_flow
from bot.content.model import Flow, PzpLink, Question, QuestionType, Topic
from bot.content.options import read_options
from bot.content.yaml_lines import LineDict, LineList, YamlError, load_yaml

# FlowError, FlowIssue and ID_PATTERN are imported from here by the rest of the bot.
__all__ = ["ID_PATTERN", "FlowError", "FlowIssue", "load_flow", "load_flows"]

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
FLOW_KEYS = {"id", "version", "title", "topics", "discuss"}


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


class _FlowReader(FieldReader):
    """Reads one flow file and its included topic files, item by item, then hands the
    read topics to the whole-flow checks and the discuss rules."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.flow_id = ""
        # The file each topic id was first read from, so later checks name the right file.
        self.topic_paths: dict[str, Path] = {}

    def load(self, path: Path) -> Any:
        """The YAML in `path`, or None after reporting why it cannot be read."""
        try:
            return load_yaml(path)
        except FileNotFoundError:
            self.problem(self.path, 1, f"the file {path} does not exist")
        except YamlError as exc:
            self.problem(path, exc.line, exc.message)
        return None

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
        check_flow(self, topics, self.topic_paths)
        discuss = read_discuss_rules(self, data, topics, self.flow_id)
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

    def resolve_include(self, raw: Any, line: int) -> tuple[Path, Any]:
        """A topic written in the flow file, or `include: file.yaml`: the file it is in and
        its mapping (None when it cannot be used)."""
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
        options = read_options(self, path, raw, kind, question_id, ctx)
        pzp = self.pzp_link(path, raw, question_id)
        ask_if = read_conditions(self, path, raw, f"question '{question_id}'", key="ask_if")
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

    def pzp_link(self, path: Path, raw: LineDict, question_id: str) -> PzpLink | None:
        """A question's `pzp`: the linkId of its item on the PZP form (options: answer codes)."""
        value = raw.get("pzp")
        if value is None:
            return None
        if isinstance(value, int | str) and str(value).strip():
            return PzpLink(link_id=str(value))
        self.problem(path, raw.line_of("pzp"), f"question '{question_id}': pzp is a linkId")
        return None
