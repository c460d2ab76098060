"""The real `python -m bot chat` as a person (or a script) uses it: lines in, text out.

Why: this is the whole stack — settings, flow loading, migrations, encryption, the engine,
the service's transaction and the terminal channel — in a separate process, as it runs for
real. It proves that what the chat acknowledged survives a restart and even a SIGKILL, and
that a wrong setting ends in one sentence, not a traceback.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import SETTING_NAMES
from bot.storage.crypto import new_key_text

ROOT = Path(__file__).resolve().parent.parent
DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
TIMEOUT = 60

QUOTED = "Zij zei: \"Blijf maar thuis,\" en ik zei 'prima' — café, één, naïef 😊👵"
LONG = (
    "Naar een appartement in Zwolle dichtbij mijn dochter Eline, met een lift, een balkon op "
    "het zuiden en een bushalte om de hoek, zodat ik zelf naar de markt kan blijven gaan"
)


def chat_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The developer's settings left out; a SQLite file of this test; the demo flow."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in SETTING_NAMES}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'tijdig.db'}"
    env["FLOWS_DIR"] = str(DEMO_FLOWS)
    env["WEB_PORT"] = "0"  # the chat's background web app on a free port: never "in use"
    env.update(extra)
    return env


def run_chat(
    env: dict[str, str], lines: list[str], user: str = "anna", *options: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", user, *options],
        cwd=ROOT,
        env=env,
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def run_chat_in_process(
    env: dict[str, str], lines: list[str], user: str = "anna", *options: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot chat` through its `main()` in this process, with `env` as the whole
    environment and `lines` on standard input. For the many cases that stop at start-up:
    a process of their own costs a second and a half of imports each, and one case of
    each such test still runs as a real process (`run_chat`). An exception that `main()`
    lets out fails the test, as a traceback would."""
    import contextlib
    import io
    import logging

    from bot.__main__ import main

    argv = ["chat", "--user", user, *options]
    saved_env, saved_stdin = os.environ.copy(), sys.stdin
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        sys.stdin = io.StringIO("".join(line + "\n" for line in lines))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.stdin = saved_stdin
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def flat(text: str) -> str:
    """Whitespace folded: the terminal wraps long lines at 78 characters."""
    return " ".join(text.split())


def summary_of(output: str) -> str:
    heads = [output.find(h) for h in ("Samenvatting voor", "Uw samenvatting")]
    start = min(h for h in heads if h >= 0)
    end = output.index("Dit zijn uw wensen om te bespreken", start)
    return output[start:end]


def test_a_whole_conversation_survives_a_restart(tmp_path: Path) -> None:
    env = chat_env(tmp_path)
    first = run_chat(
        env,
        [
            "1",  # Ja, ik doe mee
            "1",  # Ik vul het zelf in
            "Anna",
            "Wonen",  # a menu item typed
            "1",  # Beginnen
            "2",  # In een aangepaste woning
            "ja",  # Denkt u erover om te verhuizen? typed
            "terug",  # from the follow-up question back to the yes/no
            "Terug",  # and back to the first question
            "1",  # changed: In mijn eigen huis
            LONG,  # Waar zou u naartoe willen?
            "Verder",  # the info message
            "Wat voor u belangrijk is",
            "Beginnen",
            QUOTED,  # Hoe ziet een goede dag er voor u uit?
            "Overslaan",  # the scale
        ],
    )
    out = first.stdout
    assert first.returncode == 0, first.stderr
    assert "Created a new data key" in first.stderr  # said once, on stderr
    assert "Dank u wel, Anna." in out
    assert "Wonen · ▱▱▱▱▱▱▱▱ nog ongeveer 3 min." in out
    assert "  ✓ In een aangepaste woning" in out
    assert "Wonen · ▰▰▰▰▰▱▱▱ nog ongeveer 1 min." in out
    assert "Uw antwoord tot nu toe: Ja" in out
    assert "Uw antwoord tot nu toe: In een aangepaste woning" in out
    assert "  ✓ In mijn eigen huis" in out
    assert "Klaar: Wonen. Dank u wel!" in out
    assert out.rstrip().endswith("[7] Terug")  # the last screen: the multi question
    assert "Wat doet u graag?" in out.split("> Overslaan")[-1]
    assert (tmp_path / "db" / "tijdig.key").exists()

    second = run_chat(env, ["/samenvatting"])
    out = second.stdout
    assert second.returncode == 0
    assert "Created a new data key" not in second.stderr  # the key file is reused
    assert "Welkom terug! We gaan verder waar we waren." in out
    welcome = out.index("Welkom terug")
    assert "Wat doet u graag?" in out[welcome : out.index("> /samenvatting")]
    summary = summary_of(out)
    assert "Samenvatting voor Anna" in summary
    assert "• Waar wilt u het liefst wonen als u ouder wordt?: In mijn eigen huis" in summary
    assert "In een aangepaste woning" not in out  # the old answer is not shown anywhere
    assert "• Denkt u erover om te verhuizen?: Ja" in summary
    assert f"• Waar zou u naartoe willen?: {LONG}" in flat(summary)
    assert f"• Een goede dag: {QUOTED}" in flat(summary)
    assert "• Wat vindt u belangrijker?: overgeslagen" in summary
    assert "Wat doet u graag?" not in summary  # not answered yet
    # the summary is followed by the question where the person is
    assert "Wat doet u graag?" in out[out.index("Dit zijn uw wensen") :]


def test_a_short_text_is_shown_exactly_and_stop_ends_the_chat(tmp_path: Path) -> None:
    env = chat_env(tmp_path, DATA_KEY=new_key_text())  # an operator's key: no key file
    text = "Koffie om 10:00 — met \"Henk\" & 'Truus' 🙂"
    lines = ["ja", "zelf", "Liever niet", "1", "1", text, "/samenvatting", "/stop", "2"]
    result = run_chat(env, lines)
    assert f"• Een goede dag: {text}\n" in summary_of(result.stdout)
    assert "Uw samenvatting" in result.stdout  # no name given
    assert "Goed, we stoppen voor nu." in result.stdout
    assert "> 2" not in result.stdout  # nothing is read after /stop
    assert result.returncode == 0
    assert result.stderr == ""
    assert not list((tmp_path / "db").glob("*.key"))


class LiveChat:
    """A chat process fed one line at a time; its output is read as it comes."""

    def __init__(self, env: dict[str, str], user: str, stderr: Path) -> None:
        self.stderr = stderr.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--user", user],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, marker: str) -> str:
        """Read until a line with `marker` appears (the process's acknowledgement)."""
        seen: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} within {TIMEOUT}s:\n{''.join(seen)}") from None
            if line is None:
                raise AssertionError(f"the chat ended before {marker!r}:\n{''.join(seen)}")
            seen.append(line)
            if marker in line:
                return "".join(seen)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self, line: str, then: str) -> str:
        self.send(line)
        return self.expect(then)

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no clean-up of any kind
        self.proc.wait(timeout=TIMEOUT)
        self.stderr.close()


def test_acknowledged_answers_survive_sigkill(tmp_path: Path) -> None:
    env = chat_env(tmp_path)
    chat = LiveChat(env, "piet", tmp_path / "stderr.txt")
    try:
        chat.expect("Wilt u meedoen?")
        chat.answer("1", "Wie vult dit in?")
        chat.answer("1", "Hoe mag ik u noemen?")
        chat.answer("Piet", "Kies een onderwerp")
        chat.answer("Wonen", "Waar wilt u oud worden?")
        chat.answer("1", "Waar wilt u het liefst wonen")
        chat.answer("Waar zorg is", "Denkt u erover om te verhuizen?")
        chat.answer("1", "Waar zou u naartoe willen?")
        chat.answer("Naar Kampen", "Uw gemeente kan helpen")
        chat.answer("/overzicht", "Kies een onderwerp")
        chat.answer("Wat voor u belangrijk is", "We praten over")
        chat.answer("1", "Hoe ziet een goede dag er voor u uit?")
        chat.answer("Vissen aan de Vecht", "Wat vindt u belangrijker?")
        chat.answer("4", "Wat doet u graag?")
    finally:
        chat.kill()
    assert chat.proc.returncode == -9

    result = run_chat(env, ["/samenvatting"], user="piet")
    summary = summary_of(result.stdout)
    for line in (
        "Samenvatting voor Piet",
        "• Waar wilt u het liefst wonen als u ouder wordt?: Waar zorg is",
        "• Denkt u erover om te verhuizen?: Ja",
        "• Waar zou u naartoe willen?: Naar Kampen",
        "• Een goede dag: Vissen aan de Vecht",
        "• Wat vindt u belangrijker?: 4 van 5",
    ):
        assert line in summary, summary
    assert "Welkom terug" in result.stdout
    assert "Wat doet u graag?" in result.stdout


def assert_one_clear_sentence(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    assert message.startswith("Tijdig cannot start: ")
    for word in words:
        assert word in message, message
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("DATABASE_URL", "mysql://x", ("DATABASE_URL",)),
        ("SHARE_LINK_DAYS", "abc", ("SHARE_LINK_DAYS",)),
        ("DATA_KEY", "too-short", ("DATA_KEY",)),
        ("DEFAULT_LOCALE", "tlh", ("DEFAULT_LOCALE",)),
        ("DATABASE_URL", "sqlite+aiosqlite://", ("DATABASE_URL", "needs a file")),
        ("TELEGRAM_WEBHOOK_SECRET", "short!", ("TELEGRAM_WEBHOOK_SECRET",)),
        ("WEB_PORT", "70000", ("WEB_PORT",)),
        ("REMINDER_AFTER", "3 dagen", ("REMINDER_AFTER", "P3D")),
        ("REVIEW_AFTER", "P", ("REVIEW_AFTER", "ISO 8601")),
        ("REMINDER_SECOND_AFTER", "2", ("REMINDER_SECOND_AFTER", "longer than")),
        ("QUIET_HOURS", "21-9", ("QUIET_HOURS", "21:00-09:00")),
        ("QUIET_HOURS", "25:00-09:00", ("QUIET_HOURS",)),
        ("REMINDER_RATE", "0", ("REMINDER_RATE",)),
    ],
)
def test_a_broken_setting_stops_with_one_sentence(
    tmp_path: Path, name: str, value: str, words: tuple[str, ...]
) -> None:
    run = run_chat if name == "DATABASE_URL" and value == "mysql://x" else run_chat_in_process
    result = run(chat_env(tmp_path, **{name: value}), ["ja"])
    assert_one_clear_sentence(result, *words)


def test_an_unusable_database_stops_with_one_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_text("this is not a database")
    env = chat_env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{broken}")
    env["DATA_KEY"] = "A" * 43 + "="
    result = run_chat(env, ["ja"])
    assert_one_clear_sentence(result, "DATABASE_URL", "not a database")


def test_a_missing_postgres_database_stops_with_one_sentence(tmp_path: Path) -> None:
    from tests.conftest import PG_ADMIN_DSN, require_postgres

    require_postgres()
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/tijdig_does_not_exist"
    env = chat_env(tmp_path, DATABASE_URL=url, DATA_KEY="A" * 43 + "=")
    result = run_chat(env, ["ja"])
    assert_one_clear_sentence(result, "DATABASE_URL", "does not exist")


def test_a_broken_flow_stops_with_file_and_line(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = flows / "kapot.yaml"
    flow.write_text(
        "id: kapot\n"
        "title: Kapot\n"
        "topics:\n"
        "  - id: wonen\n"
        "    title: Wonen\n"
        "    intro: Over wonen.\n"
        "    minutes: 2\n"
        "    questions:\n"
        "      - id: woonplek\n"
        "        type: dropdown\n"
        "        text: Waar?\n",
        encoding="utf-8",
    )
    result = run_chat(chat_env(tmp_path, FLOWS_DIR=str(flows)), ["ja"])
    assert_one_clear_sentence(result, f"{flow}:10:", "type must be one of")


def test_a_relative_joins_in_the_terminal_with_the_code_of_an_invitation(tmp_path: Path) -> None:
    """/uitnodigen in the terminal prints the command a relative runs to join."""
    env = chat_env(tmp_path)
    anna = run_chat(env, ["ja", "1", "Anna", "/uitnodigen", "2", "1", "/stop"])
    match = re.search(r"python -m bot chat --user NAAM (--join=\S+)", anna.stdout)
    assert match, anna.stdout
    els = run_chat(env, ["ja", "Els", "2", "/stop"], "els", match.group(1))
    assert "Anna nodigt u uit" in els.stdout
    assert "Uw kijk op de wensen van Anna" in els.stdout
    again = run_chat(env, ["/stop"], "piet", match.group(1))
    assert "Deze uitnodiging werkt niet (meer)" in again.stdout
