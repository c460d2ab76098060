"""A hostile or broken flow file is one sentence with file:line (issue 12, point 6).

Why: PyYAML's composer recurses, and aliases expand: a recursive alias or 20,000 nested `[`
crashed `chat` and `flows check` with a RecursionError, and a "billion laughs" alias bomb
made start-up hang at 600 MB. Content is edited by people without Python at hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import SETTING_NAMES, ConfigError, load_settings
from bot.content.loader import FlowError, load_flow, load_flows
from bot.content.yaml_lines import MAX_FILE_BYTES
from bot.i18n import PROJECT_ROOT
from bot.services.runtime import Runtime
from bot.storage.crypto import new_key_text

BILLION_LAUGHS = """\
id: proef
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
WIDE_BOMB = (
    "id: proef\na: &a [" + ",".join(["x"] * 1000) + "]\nb: [" + ",".join(["*a"] * 1000) + "]\n"
)

CASES = {
    "recursive alias": ("id: proef\ntopics: &t\n  - *t\n", 3, "contains itself"),
    "recursive alias in flow style": ("id: proef\nx: &a [1, *a]\n", 2, "contains itself"),
    "20,000 nested [": ("id: proef\ntopics: " + "[" * 20_000 + "]" * 20_000 + "\n", 2, "nest"),
    "20,000 nested {": ("id: proef\ntopics: " + "{a: " * 20_000 + "1" + "}" * 20_000, 2, "nest"),
    "billion laughs": (BILLION_LAUGHS, 5, "aliases are nested"),
    "wide alias bomb": (WIDE_BOMB, 3, "more than"),
    "a control character": ("id: proef\ntitle: a\x07b\n", 2, "not valid YAML"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_flow_is_one_issue_with_file_and_line(tmp_path: Path, name: str) -> None:
    text, line, words = CASES[name]
    path = tmp_path / "proef.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert time.monotonic() - started < 5
    [issue] = caught.value.issues
    assert (issue.path, issue.line) == (str(path), line), str(issue)
    assert words in issue.message


def test_a_flow_file_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "proef.yaml"
    path.write_text("id: proef\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1), encoding="utf-8")
    with pytest.raises(FlowError, match=r"proef.yaml:1: the file is larger than"):
        load_flow(path)


def test_the_shipped_flow_and_its_aliases_still_load() -> None:
    flows = load_flows(PROJECT_ROOT / "flows")
    assert flows["tijdig"].questions


def run_bot(*args: str, flows_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in SETTING_NAMES}
    env.update(
        FLOWS_DIR=str(flows_dir),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'tijdig.db'}",
        DATA_KEY=new_key_text(),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["recursive alias", "20,000 nested ["])
def test_flows_check_and_chat_say_one_sentence(tmp_path: Path, name: str) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "proef.yaml").write_text(CASES[name][0], encoding="utf-8")
    check = run_bot("flows", "check", flows_dir=flows, tmp_path=tmp_path)
    assert check.returncode == 1
    assert "Traceback" not in check.stderr and "RecursionError" not in check.stderr
    assert f"{flows / 'proef.yaml'}:" in check.stderr
    chat = run_bot("chat", "--no-web", flows_dir=flows, tmp_path=tmp_path)
    assert chat.returncode == 2
    assert "Traceback" not in chat.stderr
    assert chat.stderr.startswith("Tijdig cannot start: The conversation content has a problem")


async def test_start_up_refuses_a_hostile_flow_with_one_sentence(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "proef.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tijdig.db'}",
        data_key=new_key_text(),
        flows_dir=flows,
        _env_file=None,
    )
    with pytest.raises(ConfigError, match=r"proef\.yaml:5: aliases are nested"):
        await Runtime.create(settings)
