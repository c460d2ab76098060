"""The outbox across real processes.

Two bot processes on one PostgreSQL database send each due reminder exactly once.

Issue 12, point 5: a link opened through `python -m bot serve` (which cannot reach a
terminal user) must not lose the notice nor use up the hourly limit: the next
`python -m bot chat` of that user tells them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from bot.services.runtime import Runtime
from tests.conftest import DEMO_FLOWS, ROOT
from tests.serve_support import first_answer, stop_server
from tests.test_outbox import make_box, stop_halfway


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_opening_through_serve_reaches_the_terminal_user_at_their_next_chat(
    tmp_path: Path, data_key: str
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tijdig.db'}",
        "DATA_KEY": data_key,
        "FLOWS_DIR": str(DEMO_FLOWS),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_BOT_TOKEN": "",
        "QUIET_HOURS": "off",  # the test may run at night
    }
    made = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "chat", "--user", "tester", "--no-web"],
        input="1\n1\nTester\n/delen\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    found = re.search(rf"http://127\.0\.0\.1:{port}(/s/\S+)", made.stdout)
    assert found, made.stdout
    serve = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await first_answer(client, found.group(1))).status_code == 200
            await asyncio.sleep(1.5)  # serve's outbox has had its rounds: nobody to tell here
    finally:
        err = await stop_server(serve)
    assert serve.returncode == 0, err.decode()
    assert "no notification sender" not in err.decode()

    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        "--user",
        "tester",
        "--no-web",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert chat.stdin is not None and chat.stdout is not None
    seen = ""
    try:
        async with asyncio.timeout(20):
            while "Uw samenvatting is geopend op" not in seen:
                line = await chat.stdout.readline()
                assert line, f"the chat ended without the notice:\n{seen}"
                seen += line.decode()
    finally:
        chat.stdin.close()
        await asyncio.wait_for(chat.wait(), 20)
    assert "(webpagina)" in seen


@pytest.mark.postgres
async def test_two_bot_processes_on_postgres_send_each_reminder_exactly_once(
    postgres_url: str, data_key: str, tmp_path: Path
) -> None:
    settings = load_settings(
        database_url=postgres_url, data_key=data_key, flows_dir=DEMO_FLOWS, _env_file=None
    )
    runtime = await Runtime.create(settings)
    try:  # 30 people stopped halfway in March 2026: their reminders are long due
        box = await make_box(runtime)
        for n in range(30):
            await stop_halfway(box.channel.chat(f"p{n}"))
    finally:
        await runtime.close()
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "DATA_KEY": data_key,
        "FLOWS_DIR": str(DEMO_FLOWS),
        "QUIET_HOURS": "off",
        "REMINDER_RATE": "5",  # rounds of 10, so both processes get some
    }
    start = tmp_path / "go"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.outbox_worker",
            str(start),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    await asyncio.sleep(3)  # both have started and wait for the start file
    start.touch()
    results = [await asyncio.wait_for(w.communicate(), 60) for w in workers]
    sent = []
    for worker, (out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err.decode()
        sent.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sorted(sent[0] + sent[1]) == sorted(f"p{n}" for n in range(30))
    assert sent[0] and sent[1], "both processes took part"
