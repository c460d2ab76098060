"""Loading and checking flows (bot/content) and the `python -m bot flows` commands.

Why: content editors change flows/*.yaml without opening Python. Every mistake must come
back as `file:line: what is wrong`, pointing at the line to fix (in the included topic file
when the mistake is there), and the app must refuse a broken flow instead of misbehaving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.config import SETTING_NAMES
from bot.content import check
from bot.content.check import translation_issues
from bot.content.loader import FlowError, FlowIssue, load_flow, load_flows
from bot.content.model import QuestionType
from bot.i18n import translator

ROOT = Path(__file__).resolve().parent.parent
DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"

TOPIC = """\
  - id: wonen
    title: Wonen
    intro: Waar wilt u oud worden?
    minutes: 3
    questions:
{questions}"""

QUESTIONS = """\
      - id: woonplek
        type: choice
        text: Waar wilt u wonen?
        options:
          - {id: thuis, label: Thuis}
          - {id: elders, label: Elders}
      - id: verhuizen
        type: yesno
        text: Wilt u verhuizen?
"""


def flow_text(questions: str = QUESTIONS, head: str = "") -> str:
    return f"id: proef\nversion: 1\ntitle: Proef\n{head}topics:\n" + TOPIC.format(
        questions=questions
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the text"
    return hits[occurrence - 1]


def issues_of(path: Path) -> list[FlowIssue]:
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert caught.value.issues, "a FlowError without issues"
    # the exception text itself carries file:line for every issue
    for issue in caught.value.issues:
        assert f"{issue.path}:{issue.line}: " in str(caught.value)
    return caught.value.issues


def assert_issue(issues: list[FlowIssue], path: Path, line: int, *words: str) -> FlowIssue:
    for issue in issues:
        if (
            issue.path == str(path)
            and issue.line == line
            and all(w in issue.message for w in words)
        ):
            assert str(issue) == f"{path}:{line}: {issue.message}"
            return issue
    raise AssertionError(
        f"no issue at {path}:{line} with {words}; got:\n" + "\n".join(map(str, issues))
    )


# -- a valid flow ------------------------------------------------------------------------------


def test_a_valid_flow_loads(tmp_path: Path) -> None:
    flow = load_flow(write(tmp_path / "proef.yaml", flow_text()))
    assert flow.id == "proef"
    assert [q.id for q in flow.questions] == ["woonplek", "verhuizen"]
    assert flow.question("verhuizen").type is QuestionType.YESNO  # type: ignore[union-attr]
    assert [o.id for o in flow.question("verhuizen").options] == ["ja", "nee", "weet_niet"]  # type: ignore[union-attr]


def test_the_demo_flow_loads() -> None:
    flows = load_flows(DEMO_FLOWS)
    assert list(flows) == ["demo"]
    assert [t.id for t in flows["demo"].topics] == ["belangrijk", "wonen", "levenseinde"]


# -- broken flows ------------------------------------------------------------------------------


def test_invalid_yaml(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("text: Wilt u verhuizen?", "text: [Wilt u verhuizen?"))
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert len(issues) == 1
    assert issues[0].path == str(path)
    assert "not valid YAML" in issues[0].message
    # the parser notices at or just after the bad line, never somewhere else in the file
    bad = line_of(text, "[Wilt u verhuizen?")
    assert bad <= issues[0].line <= bad + 1


def test_duplicate_key(tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "        text: Wilt u verhuizen?\n",
        "        text: Wilt u verhuizen?\n        text: Gaat u verhuizen?\n",
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    issue = assert_issue(issues_of(path), path, line_of(text, "Gaat u verhuizen"), "appears twice")
    assert f"first on line {line_of(text, 'Wilt u verhuizen')}" in issue.message


def test_unknown_key(tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "        type: yesno\n", "        type: yesno\n        tekst: x\n"
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "tekst: x"), "unknown key 'tekst'")


def test_missing_id(tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "      - id: verhuizen\n        type: yesno", "      - type: yesno"
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "- type: yesno"), "needs an id", "None")


@pytest.mark.parametrize("bad", ["Verhuizen", "ver-huizen", "1verhuizen", "_verhuizen", "x" * 41])
def test_bad_id(tmp_path: Path, bad: str) -> None:
    text = flow_text(QUESTIONS.replace("id: verhuizen", f"id: {bad}"))
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, f"id: {bad}"), "lowercase letters")


def test_duplicate_question_id(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("id: verhuizen", "id: woonplek"))
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(
        issues_of(path), path, line_of(text, "id: woonplek", 2), "'woonplek'", "used twice"
    )


def test_duplicate_question_id_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    main = (
        "id: proef\nversion: 1\ntitle: Proef\ntopics:\n"
        + TOPIC.format(questions=QUESTIONS)
        + "  - include: proef/zorg.yaml\n"
    )
    included = """\
id: zorg
title: Zorg
intro: Over zorg.
minutes: 2
questions:
  - id: hulp
    type: text
    text: Wie helpt u?
  - id: verhuizen
    type: text
    text: Nog een keer?
"""
    write(tmp_path / "proef.yaml", main)
    sub = write(tmp_path / "proef" / "zorg.yaml", included)
    issues = issues_of(tmp_path / "proef.yaml")
    assert_issue(issues, sub.resolve(), line_of(included, "id: verhuizen"), "'verhuizen'")


def test_unknown_type(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("type: yesno", "type: dropdown"))
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "type: dropdown"), "type must be one of")


def test_choice_without_options(tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "        options:\n          - {id: thuis, label: Thuis}\n"
        "          - {id: elders, label: Elders}\n",
        "",
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "id: woonplek"), "needs a list of options")


def test_choice_with_one_option(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("          - {id: elders, label: Elders}\n", ""))
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "options:"), "at least two options")


def test_option_without_label(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("{id: elders, label: Elders}", "{id: elders}"))
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "{id: elders}"), "elders", "'label'")


def test_ask_if_to_an_unknown_question(tmp_path: Path) -> None:
    questions = QUESTIONS + "        ask_if: {question: bestaat_niet, is: ja}\n"
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(
        issues_of(path), path, line_of(text, "ask_if:"), "'bestaat_niet'", "not an earlier"
    )


def test_ask_if_to_a_later_question(tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "        text: Waar wilt u wonen?\n",
        "        text: Waar wilt u wonen?\n        ask_if: {question: verhuizen, is: ja}\n",
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "ask_if:"), "'verhuizen'", "not an earlier")


def test_ask_if_to_itself(tmp_path: Path) -> None:
    questions = QUESTIONS + "        ask_if: {question: verhuizen, is: ja}\n"
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "ask_if:"), "not an earlier")


def test_ask_if_with_an_unknown_option(tmp_path: Path) -> None:
    questions = QUESTIONS + "        ask_if: {question: woonplek, in: [thuis, kasteel]}\n"
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert_issue(issues, path, line_of(text, "ask_if:"), "'kasteel'", "'woonplek'")
    assert not any("'thuis'" in i.message for i in issues)


def test_ask_if_without_a_test(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS + "        ask_if: {question: woonplek}\n")
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "ask_if:"), "ask_if needs one of")


@pytest.mark.parametrize("missing", ["low", "high"])
def test_scale_without_low_or_high(tmp_path: Path, missing: str) -> None:
    scale = (
        "      - id: kwaliteit\n"
        "        type: scale\n"
        "        text: Wat vindt u belangrijker?\n"
        "        low: Lang leven\n"
        "        high: Goed leven\n"
    )
    scale = "".join(line for line in scale.splitlines(True) if f"{missing}:" not in line)
    text = flow_text(QUESTIONS + scale)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "id: kwaliteit"), f"'{missing}' is missing")


def test_missing_include_file_points_at_the_include_line(tmp_path: Path) -> None:
    text = flow_text() + "  - include: proef/weg.yaml\n"
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    issue = assert_issue(issues, path, line_of(text, "include: proef/weg.yaml"), "does not exist")
    assert "weg.yaml" in issue.message


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    text = flow_text(
        QUESTIONS.replace("type: yesno", "type: dropdown").replace("{id: elders}", "")
        + "        kleur: rood\n"
    )
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert len(issues) >= 2
    assert_issue(issues, path, line_of(text, "type: dropdown"), "type")
    assert_issue(issues, path, line_of(text, "kleur: rood"), "unknown key")


def test_load_flows_on_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match="no flow file"):
        load_flows(tmp_path)


# -- translations --------------------------------------------------------------------------


UNTRANSLATED = "Een zin die in geen enkele catalogus staat (q7x)"


def test_missing_translation_names_file_and_line(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("Wilt u verhuizen?", UNTRANSLATED))
    flow = load_flow(write(tmp_path / "proef.yaml", text))
    issues = translation_issues(flow, locales=("en",))
    issue = assert_issue(
        issues, tmp_path / "proef.yaml", line_of(text, "id: verhuizen"), "no en translation"
    )
    assert "proef.verhuizen.text" in issue.message
    # the source language needs no catalog
    assert translation_issues(flow, locales=("nl",)) == []


def _catalog(directory: Path, locale: str, entries: list[tuple[str, str, str]]) -> None:
    lines = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        "",
    ]
    for context, source, translated in entries:
        lines += [f'msgctxt "{context}"', f'msgid "{source}"', f'msgstr "{translated}"', ""]
    po = directory / locale / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def own_locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The check reads catalogs from a locales folder of this test."""
    directory = tmp_path / "locales"
    monkeypatch.setattr(check, "translator", lambda locale: translator(locale, directory))
    return directory


def test_missing_translation_with_a_catalog(tmp_path: Path, own_locales: Path) -> None:
    text = flow_text()
    flow = load_flow(write(tmp_path / "proef.yaml", text))
    translated = [
        ("proef.title", "Proef", "Trial"),
        ("proef.wonen.title", "Wonen", "Housing"),
        ("proef.wonen.intro", "Waar wilt u oud worden?", "Where do you want to grow old?"),
        ("proef.woonplek.text", "Waar wilt u wonen?", "Where do you want to live?"),
        ("proef.woonplek.option.thuis", "Thuis", "At home"),
        ("proef.woonplek.option.elders", "Elders", "Elsewhere"),
        ("yesno.ja", "Ja", "Yes"),
        ("yesno.nee", "Nee", "No"),
        ("yesno.weet_niet", "Weet ik nog niet", "Not sure yet"),
    ]
    _catalog(own_locales, "xx", translated)
    issues = translation_issues(flow, locales=("xx",))
    assert len(issues) == 1, issues
    assert_issue(
        issues, tmp_path / "proef.yaml", line_of(text, "id: verhuizen"), "proef.verhuizen.text"
    )


def test_missing_translation_in_an_included_topic_names_that_file(
    tmp_path: Path, own_locales: Path
) -> None:
    main = "id: proef\nversion: 1\ntitle: Proef\ntopics:\n  - include: proef/wonen.yaml\n"
    included = """\
id: wonen
title: Wonen
intro: Waar wilt u oud worden?
minutes: 3
questions:
  - id: hulp
    type: text
    text: Wie helpt u?
"""
    write(tmp_path / "proef.yaml", main)
    sub = write(tmp_path / "proef" / "wonen.yaml", included)
    flow = load_flow(tmp_path / "proef.yaml")
    _catalog(
        own_locales,
        "xx",
        [
            ("proef.title", "Proef", "Trial"),
            ("proef.wonen.title", "Wonen", "Housing"),
            ("proef.wonen.intro", "Waar wilt u oud worden?", "Where?"),
        ],
    )
    issues = translation_issues(flow, locales=("xx",))
    assert len(issues) == 1, issues
    assert_issue(issues, sub.resolve(), line_of(included, "id: hulp"), "proef.hulp.text")


def test_translation_with_other_placeholders(tmp_path: Path, own_locales: Path) -> None:
    text = flow_text(QUESTIONS.replace("Wilt u verhuizen?", "Wilt u verhuizen, {name}?"))
    flow = load_flow(write(tmp_path / "proef.yaml", text))
    _catalog(
        own_locales,
        "xx",
        [("proef.verhuizen.text", "Wilt u verhuizen, {name}?", "Do you want to move, {naam}?")],
    )
    issues = translation_issues(flow, locales=("xx",))
    assert_issue(issues, tmp_path / "proef.yaml", line_of(text, "id: verhuizen"), "placeholders")


# -- the command line -----------------------------------------------------------------------


def run_flows(*args: str, flows_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in SETTING_NAMES}
    env["FLOWS_DIR"] = str(flows_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot", "flows", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def demo_translation_issues() -> list[FlowIssue]:
    """The shipped catalogs may not (yet) translate the demo flow; then check says so."""
    flow = load_flows(DEMO_FLOWS)["demo"]
    return translation_issues(flow)


def test_cli_check_passes_on_the_demo_flows() -> None:
    result = run_flows("check", flows_dir=DEMO_FLOWS)
    assert "Traceback" not in result.stderr
    expected = demo_translation_issues()
    if not expected:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("OK: 1 flow(s), 9 questions")
    else:  # a shipped language lacks the demo texts: each one is listed
        assert result.returncode == 1
        for issue in expected:
            assert str(issue) in result.stderr


def test_cli_check_fails_on_a_broken_folder(tmp_path: Path) -> None:
    text = flow_text(QUESTIONS.replace("type: yesno", "type: dropdown"))
    path = write(tmp_path / "proef.yaml", text)
    result = run_flows("check", flows_dir=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{path}:{line_of(text, 'type: dropdown')}: " in result.stderr
    assert "1 problem(s) found." in result.stderr


def show_or_diagram(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`flows show` / `flows diagram` on the demo flow.

    They refuse to run while a shipped language lacks a flow text, and the shipped catalogs
    are made for flows/, not for the demo flow. When they lack the demo texts, the command
    runs in this process with the translation check switched off (the untranslated texts
    then fall back to Dutch), so what these commands print is still tested.
    """
    if not demo_translation_issues():
        result = run_flows(*args, flows_dir=DEMO_FLOWS)
        return result.returncode, result.stdout, result.stderr
    from bot.__main__ import main

    for name in SETTING_NAMES:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("FLOWS_DIR", str(DEMO_FLOWS))
    monkeypatch.setattr(check, "translation_issues", lambda flow, locales=None: [])
    code = main(["flows", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_show_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = show_or_diagram(["show", "--format", "json"], monkeypatch, capsys)
    assert code == 0, err
    [demo] = json.loads(out)
    assert demo["id"] == "demo"
    assert demo["locales"][0] == "nl"
    assert [t["id"] for t in demo["topics"]] == ["belangrijk", "wonen", "levenseinde"]
    wonen = demo["topics"][1]
    assert set(wonen["title"]) == set(demo["locales"])  # a text per language
    assert wonen["title"]["nl"] == "Wonen"
    woonplek = wonen["questions"][0]
    assert set(woonplek["text"]) == set(demo["locales"])
    assert woonplek["text"]["nl"] == "Waar wilt u het liefst wonen als u ouder wordt?"
    assert [o["id"] for o in woonplek["options"]] == ["thuis", "aangepast", "zorg", "weet_niet"]
    assert woonplek["options"][0]["label"]["nl"] == "In mijn eigen huis"
    assert woonplek["help"]["nl"].startswith("Denk aan uw huis nu")
    waarheen = wonen["questions"][2]
    assert waarheen["ask_if"] == [
        {"question": "verhuizen", "in": ["ja"], "not_in": [], "answered": None}
    ]


def test_cli_diagram(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = show_or_diagram(["diagram"], monkeypatch, capsys)
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines()]  # transitions indents by two
    assert "stateDiagram-v2" in lines  # (comments and the flow's own diagram may follow)
    assert "[*] --> welcome" in lines
    assert "consent --> who: agree" in lines
    assert "question --> question: next_question" in lines
    assert not any(": to_" in line for line in lines)


def test_a_yesno_option_can_have_its_own_label_and_nothing_else(tmp_path: Path) -> None:
    questions = QUESTIONS + (
        "        options:\n"
        "          - {id: weet_niet, label: Weet ik niet}\n"
        "      - id: testament\n"
        "        type: yesno\n"
        "        text: Heeft u een testament?\n"
        "        options:\n"
        "          - {id: misschien, label: Misschien}\n"
    )
    text = flow_text(questions)
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert_issue(issues, path, line_of(text, "id: misschien"), "yesno option id")
    fixed = write(
        tmp_path / "proef.yaml",
        flow_text(
            QUESTIONS + ("        options:\n          - {id: weet_niet, label: Weet ik niet}\n")
        ),
    )
    question = load_flow(fixed).question("verhuizen")
    assert question is not None
    labels = {o.id: (o.label.context, o.label.source) for o in question.options}
    assert labels["weet_niet"] == ("proef.verhuizen.option.weet_niet", "Weet ik niet")
    assert labels["ja"] == ("yesno.ja", "Ja"), "the other two keep the shared labels"


# -- "Om te bespreken": rules that are data in the flow file ----------------------------------

DISCUSS = """\
discuss:
  - id: thuis_verhuizen
    when:
      - {question: woonplek, is: thuis}
      - {question: verhuizen, is: ja}
    text: Wil thuis wonen, maar ook verhuizen.
"""


def test_discuss_rules_load_and_hold_only_on_given_answers(tmp_path: Path) -> None:
    path = write(tmp_path / "proef.yaml", flow_text() + DISCUSS)
    flow = load_flow(path)
    (rule,) = flow.discuss
    assert rule.id == "thuis_verhuizen"
    assert rule.text.context == "proef.discuss.thuis_verhuizen"
    assert rule.line == line_of(flow_text() + DISCUSS, "id: thuis_verhuizen")
    assert rule.holds({"woonplek": ("thuis",), "verhuizen": ("ja",)})
    assert not rule.holds({"woonplek": ("thuis",), "verhuizen": ("nee",)})
    assert not rule.holds({"woonplek": ("thuis",)}), "an open question never makes a rule hold"
    negated = DISCUSS.replace("is: ja}", "not: nee}")
    (rule,) = load_flow(write(tmp_path / "neg.yaml", flow_text() + negated)).discuss
    assert rule.holds({"woonplek": ("thuis",), "verhuizen": ("weet_niet",)})
    assert not rule.holds({"woonplek": ("thuis",)}), "'not' needs an answer too"


@pytest.mark.parametrize(
    ("change", "needle", "words"),
    [
        ("question: verhuizen,", "question: verhuis,", ("'verhuis'", "no question")),
        ("is: thuis}", "is: kasteel}", ("'kasteel'", "option of 'woonplek'")),
        ("is: ja}", "is: misschien}", ("'misschien'", "'verhuizen'")),
    ],
)
def test_a_discuss_rule_with_an_unknown_question_or_option_names_file_and_line(
    tmp_path: Path, change: str, needle: str, words: tuple[str, ...]
) -> None:
    text = flow_text() + DISCUSS.replace(change, needle)
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, needle), *words)


def test_a_discuss_rule_on_a_text_question_or_without_when_or_text(tmp_path: Path) -> None:
    questions = QUESTIONS + "      - id: waarom\n        type: text\n        text: Waarom?\n"
    rules = (
        "discuss:\n"
        "  - id: open\n"
        "    when: {question: waarom, is: ja}\n"
        "    text: Tekst.\n"
        "  - id: leeg\n"
        "    text: Zonder voorwaarde.\n"
        "  - id: stil\n"
        "    when: {question: verhuizen, is: ja}\n"
    )
    text = flow_text(questions) + rules
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert_issue(issues, path, line_of(text, "question: waarom"), "'waarom'", "it has none")
    assert_issue(issues, path, line_of(text, "id: leeg"), "'when' is missing")
    assert_issue(issues, path, line_of(text, "id: stil"), "'text' is missing")


def test_discuss_texts_are_extracted_and_need_a_translation(
    tmp_path: Path, own_locales: Path
) -> None:
    from bot.i18n import flow_texts

    path = write(tmp_path / "proef.yaml", flow_text() + DISCUSS)
    flow = load_flow(path)
    texts = {item.context: item for item in flow_texts(flow)}
    assert texts["proef.discuss.thuis_verhuizen"].text == "Wil thuis wonen, maar ook verhuizen."
    issues = translation_issues(flow, ("en",))
    assert any("proef.discuss.thuis_verhuizen" in i.message and i.path == str(path) for i in issues)


# -- about someone else: `about` and `proxy_note` ---------------------------------------------

ABOUT_QUESTIONS = """\
      - id: woonplek
        type: choice
        text: Waar wilt u wonen?
        about: Waar zou {name} willen wonen?
        options:
          - {id: thuis, label: Thuis}
          - {id: elders, label: Elders}
      - id: uitleg
        type: info
        text: Hier staat uitleg.
      - id: verhuizen
        type: yesno
        text: Wilt u verhuizen?
        about: Wil {name} verhuizen?
"""
PROXY_NOTE = "    proxy_note: Antwoord zoals {name} het zou zeggen.\n"


def about_flow_text(questions: str = ABOUT_QUESTIONS, note: str = PROXY_NOTE) -> str:
    return flow_text(questions).replace("    questions:\n", note + "    questions:\n", 1)


def test_about_and_proxy_note_load_as_texts_with_their_context(tmp_path: Path) -> None:
    text = about_flow_text()
    flow = load_flow(write(tmp_path / "proef.yaml", text))
    woonplek, uitleg, verhuizen = flow.questions
    assert woonplek.about is not None and verhuizen.about is not None
    assert (woonplek.about.context, woonplek.about.source) == (
        "proef.woonplek.about",
        "Waar zou {name} willen wonen?",
    )
    assert verhuizen.about.context == "proef.verhuizen.about"
    assert uitleg.about is None, "an info message needs no third-person wording"
    topic = flow.topic("wonen")
    assert topic is not None and topic.proxy_note is not None
    assert topic.proxy_note.context == "proef.wonen.proxy_note"
    assert topic.proxy_note.source == "Antwoord zoals {name} het zou zeggen."
    # both are optional: a flow without them loads as before
    plain = load_flow(write(tmp_path / "plain.yaml", flow_text()))
    assert all(q.about is None for q in plain.questions)
    assert plain.topics[0].proxy_note is None


def test_about_and_proxy_note_are_extracted_and_need_a_translation(tmp_path: Path) -> None:
    from bot.i18n import flow_texts

    path = write(tmp_path / "proef.yaml", about_flow_text())
    flow = load_flow(path)
    texts = {item.context: item for item in flow_texts(flow)}
    assert texts["proef.woonplek.about"].text == "Waar zou {name} willen wonen?"
    assert "{name}" in texts["proef.woonplek.about"].comment
    assert texts["proef.wonen.proxy_note"].text == "Antwoord zoals {name} het zou zeggen."
    issues = translation_issues(flow, ("en",))
    for context in ("proef.woonplek.about", "proef.verhuizen.about", "proef.wonen.proxy_note"):
        assert any(context in i.message and i.path == str(path) for i in issues), context


@pytest.mark.parametrize(
    ("where", "wrong"),
    [
        ("Waar zou {name} willen wonen?", "Waar zou {naam} willen wonen?"),
        ("Waar zou {name} willen wonen?", "Waar zou {name} willen wonen, {relatie}?"),
        ("Waar zou {name} willen wonen?", "Waar zou {Name} willen wonen?"),
        ("Waar zou {name} willen wonen?", "Waar zou {name willen wonen?"),
        ("zoals {name} het", "zoals {persoon} het"),
    ],
)
def test_a_wrong_placeholder_in_about_or_proxy_note_names_file_and_line(
    tmp_path: Path, where: str, wrong: str
) -> None:
    text = about_flow_text().replace(where, wrong)
    path = write(tmp_path / "proef.yaml", text)
    issue = assert_issue(issues_of(path), path, line_of(text, wrong), "only placeholder", "{name}")
    assert ("about" in issue.message) != ("proxy_note" in issue.message)


def test_once_one_question_has_about_every_asked_question_needs_one(tmp_path: Path) -> None:
    text = about_flow_text(ABOUT_QUESTIONS.replace("        about: Wil {name} verhuizen?\n", ""))
    path = write(tmp_path / "proef.yaml", text)
    issues = issues_of(path)
    assert len(issues) == 1, issues  # not the info message, not the question that has one
    assert_issue(issues, path, line_of(text, "id: verhuizen"), "'verhuizen'", "'about'")


def test_about_is_required_across_included_topic_files(tmp_path: Path) -> None:
    main = (
        "id: proef\nversion: 1\ntitle: Proef\ntopics:\n"
        "  - include: proef/wonen.yaml\n  - include: proef/hulp.yaml\n"
    )
    wonen = "id: wonen\ntitle: Wonen\nintro: Over wonen.\nminutes: 3\nquestions:\n" + (
        "  - id: woonplek\n    type: text\n    text: Waar woont u?\n    about: Waar woont {name}?\n"
    )
    hulp = "id: hulp\ntitle: Hulp\nintro: Over hulp.\nminutes: 3\nquestions:\n" + (
        "  - id: helper\n    type: text\n    text: Wie helpt u?\n"
    )
    write(tmp_path / "proef.yaml", main)
    write(tmp_path / "proef" / "wonen.yaml", wonen)
    sub = write(tmp_path / "proef" / "hulp.yaml", hulp)
    issues = issues_of(tmp_path / "proef.yaml")
    assert_issue(issues, sub.resolve(), line_of(hulp, "id: helper"), "'helper'", "'about'")
    # and `flows check` reports it
    result = run_flows("check", flows_dir=tmp_path)
    assert result.returncode != 0
    assert f"{sub.resolve()}:{line_of(hulp, 'id: helper')}: " in result.stdout + result.stderr


def test_about_and_proxy_note_must_be_text(tmp_path: Path) -> None:
    text = about_flow_text().replace("about: Wil {name} verhuizen?", "about: [een, lijst]")
    path = write(tmp_path / "proef.yaml", text)
    assert_issue(issues_of(path), path, line_of(text, "about: [een"), "non-empty text")
