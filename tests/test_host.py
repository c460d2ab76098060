"""The host: any channel runs with the runtime, the web app and notifications around it.

Why: a new channel (WhatsApp, a web chat) must get all of this by being one file plus one
registry line; if the host forgot to wire notifications or to shut down, people would
not hear that their summary was opened, or the database would be left open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from pathlib import Path

import httpx

from bot.__main__ import build_parser
from bot.channels import REGISTRY, channel_modules
from bot.config import Settings
from bot.host import run_channel
from bot.testing import CollectingChannel
from tests.summary_support import link_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_registered_channel_is_a_subcommand() -> None:
    commands = {entry.command for entry in REGISTRY}
    assert len(channel_modules()) == len(REGISTRY) and commands == {"chat", "run"}
    parser = build_parser()
    for command in commands:
        assert parser.parse_args([command]).command == command
    assert parser.parse_args(["serve"]).command == "serve"


async def test_the_host_wires_web_app_and_notifications_to_the_channel_then_shuts_down(
    settings: Settings,
) -> None:
    port = free_port()
    # quiet hours off: this test may run at night, when notices wait for the morning
    settings = dataclasses.replace(settings, web_port=port, quiet_hours=None)
    channel = CollectingChannel()
    host = asyncio.create_task(run_channel(settings, channel, stop=asyncio.Event()))
    await asyncio.wait_for(channel.started.wait(), 10)
    assert channel.web_running
    chat = channel.chat("anna")
    await chat.ready()
    path = link_of(await chat.command("delen")).url.removeprefix(settings.public_base_url)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get(path)).status_code == 200
    for _ in range(100):  # the notice is sent after the page, in the background
        if channel.notices:
            break
        await asyncio.sleep(0.05)
    ((address, text),) = channel.notices
    assert address == "anna" and "Uw samenvatting is geopend" in text
    channel.finish()
    assert await asyncio.wait_for(host, 10) == 0
    assert channel.stopped
    async with httpx.AsyncClient() as client:
        try:
            await client.get(f"http://127.0.0.1:{port}/health")
            raise AssertionError("the web app still answers after the host stopped")
        except httpx.TransportError:
            pass


def test_a_command_loads_only_the_channel_it_names() -> None:
    """`python -m bot chat` or `flows check` do not load Telegram: a channel's module and
    its libraries are imported only when its subcommand is asked for (a second less)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from bot.__main__ import build_parser\n"
        "for argv in ({argv}):\n"
        "    build_parser(list(argv)).parse_args(list(argv))\n"
        "print(sorted(m for m in ('telegram', 'bot.channels.telegram', 'bot.channels.terminal')"
        " if m in sys.modules))\n"
    )

    def loaded(*argvs: tuple[str, ...]) -> str:
        code = script.format(argv="".join(f"{argv!r}, " for argv in argvs))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert loaded(("flows", "check")) == "[]"
    assert loaded(("chat", "--user", "anna")) == "['bot.channels.terminal']"
    assert loaded(("run",)) == "['bot.channels.telegram', 'telegram']"


def test_a_bot_on_sqlite_loads_only_what_it_uses(tmp_path: Path) -> None:
    """Memory is mostly the libraries a process imports. A bot on SQLite without Redis,
    restarted on its database (the first start migrates, with Alembic), its web port
    listening, and chatting, does not load SQLAlchemy's PostgreSQL dialect (2 MB with
    every driver's module), the `limits` library (Redis only), httpx's command-line
    client (with pygments), transitions' diagram extension (`flows diagram` only),
    Babel's date formatting (until a date is shown) or the web server and app (uvicorn,
    Starlette and the page code, until the first connection to its port; Jinja2 until a
    page is rendered), and reads its English from the compiled catalog, without Babel's
    .po parser (2 MB), nor aiosqlite (its statements run on `sqlite3` itself, a quarter of
    the CPU per statement: bot.storage.sqlite_inline). The web app answers its first
    request all the same, and a PDF
    comes without WeasyPrint (50 MB) ever entering the bot's process."""
    import subprocess
    import sys

    database = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    script = """
import asyncio, dataclasses, sys, urllib.request
import bot.host, bot.channels.telegram, bot.i18n
from bot.config import load_settings
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.testing import ChatDriver
from bot.web.server import start_background

WANTED = ("sqlalchemy.dialects.postgresql", "limits", "jinja2", "redis", "babel.messages",
          "httpx._main", "pygments", "babel.dates", "babel.support", "starlette",
          "bot.web.app", "bot.summary.html", "transitions.extensions", "uvicorn", "aiosqlite")

def loaded():
    return sorted(m for m in WANTED if sys.modules.get(m) is not None)

async def main():
    settings = dataclasses.replace(load_settings(_env_file=None), web_port=0)
    runtime = await Runtime.create(settings)
    service = ConversationService(runtime)
    web = await start_background(runtime, service)
    try:
        chat = await ChatDriver.on_service(service).ready()
        await chat.open_topic("Wonen")
        question = chat.last_text
        await chat.press(chat.buttons[0])  # an answer: stored, deduplicated, encrypted
        assert chat.last_text != question
        assert bot.i18n.translator("en").gettext("Verder waar u was") == "Carry on where you were"
        print(loaded())
        ready = await asyncio.to_thread(urllib.request.urlopen, web.url + "/ready")
        print(ready.status, ready.read().decode(), loaded())
        link = next(r for r in (await chat.command("delen")).replies if hasattr(r, "url"))
        token = link.url.rsplit("/s/", 1)[1]
        pdf = await asyncio.to_thread(urllib.request.urlopen, f"{web.url}/s/{token}/pdf")
        print(pdf.read()[:4], "weasyprint" in sys.modules)
    finally:
        await web.stop()
        await runtime.close()

asyncio.run(main())
"""
    from bot.storage.crypto import new_key_text

    env = {**os.environ, "DATABASE_URL": database, "DATA_KEY": new_key_text()}
    migrated = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], capture_output=True, text=True, env=env
    )
    assert migrated.returncode == 0, migrated.stderr
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    chatting, first_request, pdf = result.stdout.strip().splitlines()[-3:]
    assert chatting == "[]"
    assert first_request == "200 ready ['bot.summary.html', 'bot.web.app', 'starlette', 'uvicorn']"
    assert pdf == "b'%PDF' False"  # made in a child process: WeasyPrint's 50 MB stay there
