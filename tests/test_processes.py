"""Three real `python -m bot run` processes in webhook mode on one fresh PostgreSQL database.

Why: this is how Tijdig scales past one process (docs/deployment.md). Started at the same
moment they must all come up (migrations under a lock); 20 people whose consecutive updates
are posted round-robin to the processes (as a load balancer does), some delivered twice,
one double tap reaching two processes, and one process killed with SIGKILL halfway, must
each have every answer recorded once, on the right question, get every reply, and the
chat-bound calls of all processes together must stay within the one shared send budget:
in Redis, and (no REDIS_URL) in PostgreSQL.

And a process told to stop (SIGTERM, as in a roll-out) finishes the turn it has in flight
and sends its replies, refuses new updates with 503 so they go to another process, and
exits 0; a turn that hangs does not keep it: after SHUTDOWN_GRACE_SECONDS it exits anyway,
and the update stays in the inbox for another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.config import SETTING_NAMES, load_settings
from bot.services.runtime import Runtime
from bot.storage.crypto import new_key_text
from bot.storage.db import create_engine
from bot.storage.repository import Repository
from tests.conftest import DEMO_FLOWS, ROOT
from tests.fakebotapi import FakeBotAPI
from tests.test_telegram import TOKEN, free_port

SECRET = "multi-process-secret-1234"
BUDGET = 30  # TELEGRAM_RATE_LIMIT: chat-bound calls per second, all processes together
# The fake Bot API refuses past 40 a second: it stamps calls in this busy test process,
# where a stall of the event loop bunches calls that left the bots evenly spaced; the
# headroom is for that, as a real deployment keeps its budget under Telegram's limit.
FLOOD_LIMIT = 40
CHATS = 20


def clean_environ() -> dict[str, str]:
    names = {name.upper() for name in SETTING_NAMES}
    return {k: v for k, v in os.environ.items() if k.upper() not in names}


class Cluster:
    """The processes behind a load balancer that goes round-robin and, like nginx's
    proxy_next_upstream, tries the next process when one does not answer."""

    def __init__(
        self,
        api: FakeBotAPI,
        database_url: str,
        redis_url: str | None,
        tmp: Path,
        *,
        count: int = 3,
        env: list[dict[str, str]] | None = None,
    ) -> None:
        self.api = api
        self.ports = [free_port() for _ in range(count)]
        self.env = env or [{} for _ in range(count)]
        self.data_key = new_key_text()
        self.database_url = database_url
        self.redis_url = redis_url
        self.tmp = tmp
        self.processes: list[subprocess.Popen[bytes]] = []
        self.turn = 0
        self.acknowledged: list[int] = []
        self.client = httpx.AsyncClient(timeout=10)
        self.kill_at: int | None = None
        self.killed: int | None = None

    def start(self) -> None:
        for index, port in enumerate(self.ports):
            env = {
                **clean_environ(),
                "DATABASE_URL": self.database_url,
                "DATA_KEY": self.data_key,
                "FLOWS_DIR": str(DEMO_FLOWS),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": self.api.base_url,
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "WEB_PORT": str(port),
                "TELEGRAM_RATE_LIMIT": str(BUDGET),
                "INBOX_LEASE_SECONDS": "3",
                **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
                **self.env[index],
            }
            log = open(self.tmp / f"process{index}.log", "wb")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    async def ready(self, seconds: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        for index, port in enumerate(self.ports):
            while True:
                assert self.processes[index].poll() is None, self.log(index)
                try:
                    if (await self.client.get(f"http://127.0.0.1:{port}/health")).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, self.log(index)
                await asyncio.sleep(0.1)
        count = len(self.ports)
        await self.api.wait_for(lambda: len(self.api.calls_for("setWebhook")) >= count or None, 30)

    def log(self, index: int) -> str:
        return (self.tmp / f"process{index}.log").read_text(errors="replace")[-3000:]

    async def post_to(self, index: int, update: dict[str, Any]) -> int:
        """Post to one process, as Telegram does through the balancer; the HTTP status."""
        response = await self.client.post(
            f"http://127.0.0.1:{self.ports[index]}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        return response.status_code

    async def post(self, update: dict[str, Any], *, to: int | None = None) -> int:
        """Post like the load balancer; returns the process that acknowledged it."""
        count = len(self.ports)
        first = self.turn % count if to is None else to
        self.turn += 1
        for step in range(count):
            index = (first + step) % count
            try:
                status = await self.post_to(index, update)
            except httpx.TransportError:
                continue  # that process is gone: the next one
            if status == 200:
                self.acknowledged.append(update["update_id"])
                if self.kill_at is not None and self.turn >= self.kill_at and self.killed is None:
                    # Killed right after acknowledging: the update is in the inbox only.
                    self.processes[index].send_signal(signal.SIGKILL)
                    self.killed = index
                return index
        raise AssertionError("no process took the update")

    async def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
        await self.client.aclose()


class Person:
    def __init__(self, cluster: Cluster, chat_id: int) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.chat_id = chat_id

    async def says(self, text: str, wait: str) -> None:
        mark = self.api.mark()
        update = self.api.push_message(self.chat_id, text)
        await self.cluster.post(update)
        await self.replies(mark, wait)

    async def taps(self, label: str, wait: str, *, twice: bool = False) -> None:
        message, data = self.find_button(label)
        mark = self.api.mark()
        update = self.api.push_callback(self.chat_id, data, message_id=message["message_id"])
        if twice:  # a double tap: two updates, reaching two processes at the same time
            other = self.api.push_callback(self.chat_id, data, message_id=message["message_id"])
            await asyncio.gather(self.cluster.post(update), self.cluster.post(other))
        else:
            await self.cluster.post(update)
        await self.replies(mark, wait)

    async def redelivered(self, text: str, wait: str) -> None:
        """Telegram sends the same update again (it missed our 200), to another process."""
        mark = self.api.mark()
        update = self.api.push_message(self.chat_id, text)
        first = await self.cluster.post(update)
        await self.cluster.post(update, to=(first + 1) % 3)
        await self.replies(mark, wait)

    def find_button(self, label: str) -> tuple[dict[str, Any], str]:
        for message in reversed(self.api.messages(self.chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r}; last: {self.api.last_text(self.chat_id)}")

    async def replies(self, mark: int, wait: str) -> None:
        def arrived() -> bool | None:
            sent = self.api.sent_messages(self.chat_id, since=mark)
            # a button answer shows the next question by editing the pressed message
            edited = [
                c.result for c in self.api.calls_for("editMessageText", self.chat_id, since=mark)
            ]
            shown = [m for m in sent + edited if isinstance(m, dict)]
            return any(wait in (m.get("text") or "") for m in shown) or None

        try:
            await self.api.wait_for(arrived, timeout=30)
        except AssertionError:
            texts = [m.get("text") for m in self.api.messages(self.chat_id)][-4:]
            raise AssertionError(f"chat {self.chat_id} waits for {wait!r}; has {texts}") from None


async def one_person(cluster: Cluster, chat_id: int) -> None:
    person = Person(cluster, chat_id)
    await person.says("/start", "Wilt u meedoen?")
    await person.taps("Ja, ik doe mee", "Wie vult dit in?")
    await person.taps("Ik vul het zelf in", "Hoe mag ik u noemen?")
    await person.says(f"Naam {chat_id}", "Kies een onderwerp")
    await person.taps("Wat voor u belangrijk is", "We praten over")
    await person.taps("Beginnen", "Hoe ziet een goede dag")
    if chat_id % 4 == 0:
        await person.redelivered(f"Goede dag van {chat_id}", "Wat vindt u belangrijker")
    else:
        await person.says(f"Goede dag van {chat_id}", "Wat vindt u belangrijker")
    await person.taps("3", "Wat doet u graag", twice=chat_id % 10 == 3)
    await person.says("/samenvatting", f"Goede dag van {chat_id}")


@pytest.fixture(params=["redis", "postgres"])
def shared_limits(request: pytest.FixtureRequest) -> str | None:
    """Where the processes share their send budget: REDIS_URL, or (None) PostgreSQL."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.mark.postgres
async def test_three_processes_lose_nothing_and_keep_order(
    postgres_url: str, shared_limits: str | None, tmp_path: Path
) -> None:
    async with FakeBotAPI(token=TOKEN, flood_limit=FLOOD_LIMIT) as api:
        cluster = Cluster(api, postgres_url, shared_limits, tmp_path)
        cluster.start()  # all three at the same moment, on an empty database
        try:
            await cluster.ready()
            cluster.kill_at = CHATS * 9 // 2  # halfway through all turns
            chats = [70001 + n for n in range(CHATS)]
            await asyncio.wait_for(
                asyncio.gather(*(one_person(cluster, chat) for chat in chats)), 120
            )
            assert cluster.killed is not None, "a process was killed halfway"
        finally:
            await cluster.stop()
        assert api.flood_refused == 0, "no call was refused by the flood limit"

    stored = await stored_answers(postgres_url, cluster.data_key, chats)
    for chat in chats:
        assert stored[chat] == [
            ("goede_dag", {"text": f"Goede dag van {chat}"}),
            ("levenskwaliteit", {"value": 3}),
        ], chat


async def stored_answers(
    database_url: str, data_key: str, chats: list[int]
) -> dict[int, list[tuple[str, Any]]]:
    """Each chat's answers as the database holds them, oldest first (question, value)."""
    settings = load_settings(
        database_url=database_url, data_key=data_key, flows_dir=DEMO_FLOWS, _env_file=None
    )
    runtime = await Runtime.create(settings)
    try:
        async with runtime.sessions() as session:
            repo = Repository(session, runtime.cipher)
            stored = {}
            for chat in chats:
                participant = await repo.find_participant("telegram", str(chat))
                assert participant is not None, chat
                history = await repo.answer_history(participant.person_id)
                stored[chat] = [(r.question_id, r.value) for r in history]
            return stored
    finally:
        await runtime.close()


async def until_rating(person: Person) -> None:
    """The person's steps up to the question answered with a tap on "3"."""
    await person.says("/start", "Wilt u meedoen?")
    await person.taps("Ja, ik doe mee", "Wie vult dit in?")
    await person.taps("Ik vul het zelf in", "Hoe mag ik u noemen?")
    await person.says(f"Naam {person.chat_id}", "Kies een onderwerp")
    await person.taps("Wat voor u belangrijk is", "We praten over")
    await person.taps("Beginnen", "Hoe ziet een goede dag")
    await person.says(f"Goede dag van {person.chat_id}", "Wat vindt u belangrijker")


@contextlib.asynccontextmanager
async def locked(database_url: str, statement: str) -> AsyncIterator[None]:
    """Hold a lock (taken by `statement`) in a transaction of the test's own."""
    db = create_engine(database_url)
    try:
        async with db.connect() as connection:
            await connection.execute(text(statement))
            yield
            await connection.rollback()
    finally:
        await db.dispose()


async def tap_on(cluster: Cluster, person: Person, label: str, *, process: int) -> int:
    """Post the person's tap to one process and wait until its turn has begun (a tap's
    turn first answers the button); returns the mark before it."""
    message, data = person.find_button(label)
    mark = cluster.api.mark()
    at = message["message_id"]
    assert (
        await cluster.post_to(
            process, cluster.api.push_callback(person.chat_id, data, message_id=at)
        )
        == 200
    )
    await cluster.api.wait_for_call("answerCallbackQuery", since=mark, timeout=30)
    return mark


async def inbox_rows(database_url: str) -> int:
    db = create_engine(database_url)
    try:
        async with db.connect() as connection:
            return (await connection.execute(text("SELECT count(*) FROM inbox"))).scalar_one()
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_sigterm_finishes_the_turn_in_flight_and_sends_new_updates_elsewhere(
    postgres_url: str, tmp_path: Path
) -> None:
    """Process 0 gets SIGTERM while a tap's turn is in flight (it waits for the person's
    row, which the test holds locked): it refuses new updates with 503 (the balancer takes
    them to process 1), finishes the turn once the row is free (the answer stored, the
    next question sent) and exits 0. Process 1 stops with a turn that hangs: it exits 0
    after its grace (2 s), and the update stays in the inbox for another process. No
    Redis: the processes share the send budget in PostgreSQL. Waits are on events (a
    call, a status, an exit), never on a clock."""
    async with FakeBotAPI(token=TOKEN, flood_limit=FLOOD_LIMIT) as api:
        grace = [{"SHUTDOWN_GRACE_SECONDS": "120"}, {"SHUTDOWN_GRACE_SECONDS": "2"}]
        cluster = Cluster(api, postgres_url, None, tmp_path, count=2, env=grace)
        cluster.start()
        first, second = cluster.processes
        try:
            await cluster.ready()
            person = Person(cluster, 80001)
            await until_rating(person)

            async with locked(postgres_url, "SELECT id FROM participant FOR UPDATE"):
                mark = await tap_on(cluster, person, "3", process=0)
                first.send_signal(signal.SIGTERM)
                await until_status(cluster, 0, "/ready", 503)
                newcomer = Person(cluster, 80002)
                hello = api.push_message(newcomer.chat_id, "/start")
                assert await cluster.post_to(0, hello) == 503, "stopping: not taken"
                assert await cluster.post_to(1, hello) == 200, "the balancer's next process"
                await newcomer.replies(mark, "Wilt u meedoen?")
                assert first.poll() is None, "process 0 waits for its turn in flight"
            await person.replies(mark, "Wat doet u graag")
            assert await asyncio.to_thread(first.wait, 60) == 0, cluster.log(0)
            assert await inbox_rows(postgres_url) == 0, "handled and answered: forgotten"

            # Reading is allowed; row locks and new rows wait: the newcomer's turn hangs.
            async with locked(postgres_url, "LOCK TABLE participant IN EXCLUSIVE MODE"):
                await tap_on(cluster, newcomer, "Ja, ik doe mee", process=1)
                second.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(second.wait, 60) == 0, cluster.log(1)
            assert "not finished in time" in cluster.log(1)
            assert await inbox_rows(postgres_url) == 1, "unfinished: kept for another process"
        finally:
            await cluster.stop()

    stored = await stored_answers(postgres_url, cluster.data_key, [person.chat_id])
    assert stored[person.chat_id][-1] == ("levenskwaliteit", {"value": 3})


async def until_status(cluster: Cluster, index: int, path: str, status: int) -> None:
    url = f"http://127.0.0.1:{cluster.ports[index]}{path}"
    for _ in range(300):
        if (await cluster.client.get(url)).status_code == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} of process {index} never answered {status}")
