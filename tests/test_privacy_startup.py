"""Careless input and bad settings get one kind sentence, never a traceback (issue 12,
points 6, 7 and 12), through the real `python -m bot chat`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.test_terminal_e2e import (
    ROOT,
    TIMEOUT,
    assert_one_clear_sentence,
    chat_env,
    run_chat,
    run_chat_in_process,
)


def run_bytes(env: dict[str, str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "anna", "--no-web"],
        cwd=ROOT,
        env=env,
        input=data,
        capture_output=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("PUBLIC_BASE_URL", "http://", ("PUBLIC_BASE_URL", "host")),
        ("PUBLIC_BASE_URL", 'http://exa mple.com/"><script>', ("PUBLIC_BASE_URL",)),
        ("PUBLIC_BASE_URL", "https://tijdig.example.nl:99999", ("PUBLIC_BASE_URL", "port")),
        ("PUBLIC_BASE_URL", "javascript:alert(1)", ("PUBLIC_BASE_URL", "http")),
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:99999/test", ("DATABASE_URL", "99999")),
        ("FORWARDED_ALLOW_IPS", "my-proxy", ("FORWARDED_ALLOW_IPS",)),
        ("EVENT_RETENTION_DAYS", "0", ("EVENT_RETENTION_DAYS",)),
        ("TELEGRAM_API_BASE_URL", "telegram.local/bot", ("TELEGRAM_API_BASE_URL",)),
    ],
)
def test_a_bad_setting_stops_with_one_sentence(
    tmp_path: Path, name: str, value: str, words: tuple[str, ...]
) -> None:
    run = run_chat if value == "http://" else run_chat_in_process  # one as a real process
    result = run(chat_env(tmp_path, **{name: value}), ["ja"])
    assert_one_clear_sentence(result, *words)


def test_a_database_with_other_tables_stops_with_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "db" / "tijdig.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE person (id INTEGER PRIMARY KEY)")
    raw.close()
    result = run_chat(chat_env(tmp_path, DATA_KEY="A" * 43 + "="), ["ja"])
    assert_one_clear_sentence(result, "DATABASE_URL", "did not make")


def test_a_missing_key_file_stops_with_one_sentence_and_writes_nothing(tmp_path: Path) -> None:
    env = chat_env(tmp_path)
    run_chat(env, ["ja", "1", "Anna"])
    key = tmp_path / "db" / "tijdig.key"
    key.unlink()
    result = run_chat(env, ["ja"])
    assert_one_clear_sentence(result, "tijdig.key", "missing")
    assert not key.exists()


def test_typed_superscripts_and_invalid_utf8_on_stdin_are_answered_kindly(tmp_path: Path) -> None:
    env = chat_env(tmp_path)
    lines = [b"\xc2\xb2", b"ja", b"\xc2\xb9", b"1", b"\xff\xfeAnna \xc3", b"\xd9\xa3", b"/stop"]
    result = run_bytes(env, b"".join(line + b"\n" for line in lines))
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode == 0
    assert "Kies een onderwerp" in result.stdout.decode("utf-8", "replace")


def test_telegram_api_base_url_takes_both_conventions() -> None:
    for given in ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot{token}"):
        url = load_settings(telegram_api_base_url=given, _env_file=None).telegram_api_base_url
        assert url == "http://127.0.0.1:8081/bot{token}"
    root = load_settings(telegram_api_base_url="http://127.0.0.1:8081/", _env_file=None)
    assert root.telegram_api_base_url == "http://127.0.0.1:8081/bot{token}"


def test_secrets_are_not_shown_by_the_settings() -> None:
    settings = load_settings(
        telegram_bot_token="123456789:AAE" + "x" * 30, data_key="A" * 43 + "=", _env_file=None
    )
    assert "AAE" not in repr(settings) and "AAAA" not in repr(settings)
    assert settings.require_telegram_token().startswith("123456789:")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_settings(public_base_url="https://", _env_file=None)


async def test_the_bot_reaches_a_bot_api_server_given_as_slash_bot_and_a_404_names_the_url(
    sqlite_url: str, data_key: str
) -> None:
    import asyncio

    from bot.channels.telegram import TelegramChannel
    from bot.host import run_channel
    from tests.conftest import DEMO_FLOWS
    from tests.fakebotapi import FakeBotAPI

    token = "123456789:AAE" + "a" * 32

    def settings_with(base: str):  # type: ignore[no-untyped-def]
        return load_settings(
            database_url=sqlite_url,
            data_key=data_key,
            flows_dir=DEMO_FLOWS,
            telegram_bot_token=token,
            telegram_api_base_url=base,
            _env_file=None,
        )

    async with FakeBotAPI(token=token) as api:
        stop = asyncio.Event()
        settings = settings_with(api.url + "/bot")
        task = asyncio.create_task(
            run_channel(settings, TelegramChannel(settings), web=False, stop=stop)
        )
        try:
            await api.wait_for_call("getMe", timeout=15)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 15) == 0

        with pytest.raises(ConfigError, match="404 Not Found: TELEGRAM_API_BASE_URL is wrong"):
            wrong = settings_with(api.url + "/elders/bot")
            await run_channel(wrong, TelegramChannel(wrong), web=False, stop=asyncio.Event())
