"""Tijdig through the real Telegram path: `python -m bot run` against a fake Bot API.

Run:  python bench/telegram_bench.py [--users 50] [--answers 20] [--think 0]
          [--stored 0] [--database sqlite|postgres] [--rate-limit 0] [--flood 0]
          [--processes N --redis redis://127.0.0.1:6379/0] [--bot textbook]

The bot runs as its own process (polling, exactly as shipped) and talks HTTP over
loopback to the tests' fake Bot API (tests/fakebotapi.py), which runs here. Each person
first goes through the welcome (not measured), then answers questions: a tap on the first
option of the current question, or typed text where there is none. An "answer" is one
update; its latency is from the moment the update is available to the first Bot API call
about that chat that follows (the edit or the next question).

Prints: answers/s, first-reply p50/p99/max, the bot process's CPU ms per answer (from
/proc), how busy this driver was (the fake and the people: near 100% it sets the pace),
peak RSS, Bot API calls per answer by method (all, and the chat-bound ones that
Telegram's flood limit counts), 429s, and start-up time. Numbers
only; nothing passes or fails. `--flood 30` makes the fake answer 429 (retry_after 1)
above 30 chat-bound calls in any second, as Telegram does; `--rate-limit 30` sets the
bot's TELEGRAM_RATE_LIMIT (0: limiter off). `--processes 3` starts three processes in
webhook mode instead and posts the updates to them round-robin (CPU is their sum, RSS
the largest); use it with `--database postgres`. `--bot textbook` runs the yardstick
instead (bench/textbook_bot.py: a textbook python-telegram-bot questionnaire that keeps
answers in memory), through the same fake and the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import compileall
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage.crypto import new_key_text  # noqa: E402
from tests.fakebotapi import Call, FakeBotAPI  # noqa: E402

TOKEN = "123456789:BENCH-fake-bot-token-abcdefgh"
SECRET = "bench-webhook-secret-0123456789"
CONTROLS = {"Overslaan", "Later", "Terug", "Uitleg", "Een ander onderwerp", "Liever niet"}
CLK = os.sysconf("SC_CLK_TCK")


class Fake(FakeBotAPI):
    """The tests' fake, plus a cheap signal per chat when the bot calls about it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.screens: dict[int, asyncio.Future[None]] = {}
        self.first_poll: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.keyboards: dict[int, list[tuple[int, list[tuple[str, str]]]]] = {}
        name, get_updates = self._methods["getupdates"]

        def polled(params: Any, files: Any) -> Any:
            if not self.first_poll.done():  # the bot is ready to take updates
                self.first_poll.set_result(time.monotonic())
            return get_updates(params, files)

        self._methods["getupdates"] = (name, polled)
        self.webhooks: list[str] = []  # with --processes: post updates round-robin here
        self.turn = 0
        self.client: Any = None
        self.webhooks_set: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        name_set, set_webhook = self._methods["setwebhook"]

        def registered(params: Any, files: Any) -> Any:
            result = set_webhook(params, files)
            self.registered += 1
            if self.registered >= len(self.webhooks) and not self.webhooks_set.done():
                self.webhooks_set.set_result(time.monotonic())
            return result

        self.registered = 0
        self._methods["setwebhook"] = (name_set, registered)

    async def deliver(self, update: dict[str, Any]) -> None:
        """Polling: the update waits in the queue. Webhook: post it like a load balancer."""
        if not self.webhooks:
            return
        url = self.webhooks[self.turn % len(self.webhooks)]
        self.turn += 1
        response = await self.client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status_code == 200, response.status_code

    def _record(self, call: Call) -> None:
        self.calls.append(call)  # no _notify: the bench waits on its own futures
        chat = call.chat_id
        if isinstance(chat, int) and call.ok:
            if call.method in ("sendMessage", "editMessageText") and isinstance(call.result, dict):
                markup = (call.result.get("reply_markup") or {}).get("inline_keyboard")
                if markup:
                    buttons = [(b["text"], b["callback_data"]) for row in markup for b in row]
                    self.keyboards[chat] = [(call.result["message_id"], buttons)]
                    screen = self.screens.pop(chat, None)
                    if screen is not None and not screen.done():
                        screen.set_result(None)
            waiter = self.waiters.pop(chat, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.monotonic())

    def wait_chat(self, chat: int) -> tuple[asyncio.Future[float], asyncio.Future[None]]:
        """The bot's first call about the chat, and its next screen with buttons."""
        first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        screen: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters[chat], self.screens[chat] = first, screen
        return first, screen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


LOST_AFTER = 30  # seconds without a reply: the reply is lost (a bot without a limiter
# gets 429s above the flood limit, and a refused call is an error to it)


class Lost(Exception):
    """No reply came: this person is stuck and stops."""


class Person:
    def __init__(self, api: Fake, chat: int) -> None:
        self.api = api
        self.chat = chat

    async def act(self, text: str | None = None, label: str | None = None) -> float:
        """One update; returns the seconds until the bot's first call about this chat."""
        waiter, screen = self.api.wait_chat(self.chat)
        if label is not None or text is None:
            message_id, data = self.button(label)
            update = self.api.push_callback(self.chat, data, message_id=message_id)
        else:
            update = self.api.push_message(self.chat, text)
        sent = time.monotonic()
        await self.api.deliver(update)
        try:
            done = await asyncio.wait_for(waiter, LOST_AFTER)
        except TimeoutError:
            raise Lost from None
        with contextlib.suppress(TimeoutError):  # the person reads the next screen first
            await asyncio.wait_for(screen, 5)
        return done - sent

    def button(self, label: str | None) -> tuple[int, str]:
        """By label; or the first option, or 'Klaar' once an option of a multi is ticked."""
        for message_id, buttons in reversed(self.api.keyboards.get(self.chat, [])):
            labels = [text for text, _data in buttons]
            if label is None and any(t.startswith("✓ ") for t in labels) and "Klaar" in labels:
                label = "Klaar"
            for text, data in buttons:
                if (label is None and text not in CONTROLS) or text == label:
                    return message_id, data
        raise LookupError(label)

    async def answer(self) -> float:
        try:
            self.button(None)
        except LookupError:
            return await self.act(text="Bij mijn dochter in de buurt")
        return await self.act()


async def onboard(person: Person) -> bool:
    """False when a reply was lost on the way (the person cannot go on)."""
    try:
        await person.act("/start")
        await person.act(label="Ja, ik doe mee")
        await person.act(label="Ik vul het zelf in")
        await person.act("Anna")
    except Lost:
        return False
    return True


SEED_BATCH = 5_000  # people per transaction: about 70,000 rows


async def seed(database_url: str, data_key: str, count: int) -> float:
    """N people with consent and ten answers each: the rows `create_participant`,
    `record_consent`, `add_answer` and `save_conversation` write, made with the project's
    own key and cipher code, but written in bulk (Core executemany, one transaction per
    SEED_BATCH people) rather than one statement or flush per row: 100,000 people took
    45-105 s instead of over 20 minutes. The ids come back through RETURNING, so the
    tables' own sequences hand them out (and go on after them) on SQLite and PostgreSQL."""
    from sqlalchemy import insert

    from bot.config import load_settings
    from bot.services.runtime import Runtime
    from bot.storage.crypto import PersonKey
    from bot.storage.models import (
        Answer,
        ConversationRow,
        Participant,
        Person,
        PersonKeyRow,
        utcnow,
    )
    from bot.storage.repository import ADDRESS, ANSWER, CONTEXT, Repository

    people = insert(Person.__table__).returning(Person.id)
    keys = insert(PersonKeyRow.__table__)
    participants = insert(Participant.__table__).returning(Participant.id, Participant.person_id)
    answers = insert(Answer.__table__)
    conversations = insert(ConversationRow.__table__)
    value = {"text": "Een antwoord van een opgeslagen persoon"}

    settings = load_settings(database_url=database_url, data_key=data_key, _env_file=None)
    runtime = await Runtime.create(settings)  # migrates the schema first
    cipher = runtime.cipher  # with the database's own lookup key
    started = time.monotonic()
    try:
        for first in range(0, count, SEED_BATCH):
            users = range(first, min(count, first + SEED_BATCH))
            async with runtime.transaction() as session:
                repo = Repository(session, cipher)
                now = utcnow()
                # Person() and record_consent: a person row, consented.
                rows = [{"created_at": now, "consented_at": now} for _ in users]
                person_ids = sorted((await session.execute(people, rows)).scalars())
                assert len(person_ids) == len(users)
                # PersonKeys.create: a new key per person, stored wrapped with DATA_KEY.
                made = {person_id: PersonKey.new() for person_id in person_ids}
                rows = [
                    {
                        "id": key.key_id.hex(),
                        "person_id": person_id,
                        "wrapped": cipher.wrap(key.key, key.key_id),
                        "created_at": now,
                    }
                    for person_id, key in made.items()
                ]
                await session.execute(keys, rows)
                # create_participant: the chat user's lookup key and address (here "1").
                rows = [
                    {
                        "person_id": person_id,
                        "channel": "telegram",
                        "lookup_key": repo.lookup_key("telegram", str(10**9 + n)),
                        "address_enc": made[person_id].encrypt(b"1", ADDRESS),
                        "role": "self",
                        "created_at": now,
                    }
                    for person_id, n in zip(person_ids, users, strict=True)
                ]
                found = (await session.execute(participants, rows)).all()
                participant_of = {person_id: pid for pid, person_id in found}
                assert len(participant_of) == len(users)
                # add_answer, ten times; each answer encrypted on its own, as the bot does.
                rows = [
                    {
                        "created_at": now,
                        "person_id": person_id,
                        "participant_id": participant_of[person_id],
                        "question_id": f"q{q}",
                        "flow_version": 1,
                        "value_enc": key.encrypt_json(value, ANSWER),
                        "skipped": False,
                        "together": False,
                        "role": "self",
                        "perspective": "person",
                        "with_enc": None,
                    }
                    for person_id, key in made.items()
                    for q in range(10)
                ]
                await session.execute(answers, rows)
                # save_conversation: the menu, in Dutch.
                rows = [
                    {
                        "participant_id": participant_of[person_id],
                        "state": "menu",
                        "context_enc": key.encrypt_json({"locale": "nl"}, CONTEXT),
                        "last_order": None,
                        "updated_at": now,
                    }
                    for person_id, key in made.items()
                ]
                await session.execute(conversations, rows)
    finally:
        await runtime.close()
    return time.monotonic() - started


async def postgres_database() -> tuple[str, Any]:
    import asyncpg

    admin = "postgresql://postgres@127.0.0.1:5432/test"
    name = f"tijdig_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", drop


def start_bot(env: dict[str, str], log: Path, bot: str = "tijdig") -> subprocess.Popen[bytes]:
    command = ["-m", "bot", "run"] if bot == "tijdig" else [str(ROOT / "bench/textbook_bot.py")]
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tijdig-bench-"))
    drop = None
    if args.database == "postgres":
        database_url, drop = await postgres_database()
    else:
        database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    data_key = new_key_text()
    if args.stored:
        took = await seed(database_url, data_key, args.stored)
        print(f"seeded {args.stored} people with 10 answers each in {took:.1f} s")
    api = Fake(token=TOKEN, flood_limit=args.flood or None)
    await api.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE"))},
        "DATABASE_URL": database_url,
        "DATA_KEY": data_key,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_RATE_LIMIT": str(args.rate_limit),
        "WEB_PORT": str(free_port()),
    }
    if args.redis:
        env["REDIS_URL"] = args.redis
    # As a deployment does (docs/deployment.md): the schema first, so start-up and memory
    # are those of the usual start, on a current database (a first start adds Alembic);
    # and the code byte-compiled, as pip leaves an installed package (where
    # PYTHONDONTWRITEBYTECODE is set, every start would compile bot/ again).
    compileall.compile_dir(ROOT / "bot", quiet=2)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", cwd=ROOT, env=env
    )
    assert await migrate.wait() == 0, "python -m bot migrate failed"
    started = time.monotonic()
    processes = []
    if args.processes:  # webhook mode, N processes behind a round-robin "load balancer"
        import httpx

        api.client = httpx.AsyncClient(timeout=30)
        for n in range(args.processes):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            api.webhooks.append(url)
            hook = {"WEB_PORT": str(port), "TELEGRAM_WEBHOOK_URL": url}
            processes.append(
                start_bot({**env, **hook, "TELEGRAM_WEBHOOK_SECRET": SECRET}, tmp / f"bot{n}.log")
            )
        ready = api.webhooks_set
    else:
        processes.append(start_bot(env, tmp / "bot.log", args.bot))
        ready = api.first_poll
    try:
        startup = await asyncio.wait_for(ready, 60) - started
        await asyncio.sleep(0.3 if args.processes else 0)  # the web apps bind after setWebhook
        people = [Person(api, 500000 + n) for n in range(args.users)]
        welcomed: list[Person] = []  # the others' reply was lost during the welcome
        for group in range(0, len(people), 10):
            batch = people[group : group + 10]
            done = await asyncio.gather(*(onboard(p) for p in batch))
            welcomed += [p for p, ok in zip(batch, done, strict=True) if ok]
        stuck = len(people) - len(welcomed)
        people = welcomed
        await asyncio.sleep(0.5)
        mark = len(api.calls)
        refused_before = api.flood_refused
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        latencies: list[float] = []
        timeline: list[tuple[float, float]] = []  # (seconds into the run, first-reply latency)
        lost: list[float] = []  # when an answer got no reply within LOST_AFTER
        rng = random.Random(1)

        async def run(person: Person) -> None:
            # Think times are exponential, and so is the wait before the first answer: then
            # N people offer N/think answers a second from the first second on. (A uniform
            # first wait offered half as much again in the first `think` seconds.)
            if args.think:
                await asyncio.sleep(rng.expovariate(1 / args.think))
            for _ in range(args.answers):
                started = time.monotonic() - t0
                try:
                    latency = await person.answer()
                except Lost:
                    lost.append(started)
                    return  # no reply: this person is stuck
                latencies.append(latency)
                timeline.append((started, latency))
                if args.think:
                    await asyncio.sleep(rng.expovariate(1 / args.think))

        t0 = time.monotonic()
        own0 = time.process_time()
        await asyncio.gather(*(run(p) for p in people))
        elapsed = time.monotonic() - t0
        own = time.process_time() - own0
        await asyncio.sleep(0.3)
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        answers = len(latencies)
        if not answers:
            print(f"no answer got a reply: {stuck} people stuck in the welcome, {len(lost)} later")
            return
        methods = collections.Counter(c.method for c in api.calls[mark:])
        bound = collections.Counter(c.method for c in api.calls[mark:] if c.chat_id is not None)
        chat_bound = sum(bound.values())
        print(
            f"bot={args.bot} database={args.database} users={args.users} "
            f"answers/user={args.answers} "
            f"think={args.think}s stored={args.stored} rate_limit={args.rate_limit} "
            f"flood={args.flood or 'off'} processes={args.processes or '1 (polling)'}"
        )
        print(f"answers/s           {answers / elapsed:8.1f}   ({answers} in {elapsed:.1f} s)")
        print(
            f"first reply ms      p50 {pct(latencies, 50) * 1000:.0f}  "
            f"p99 {pct(latencies, 99) * 1000:.0f}  max {max(latencies) * 1000:.0f}  "
            f"mean {statistics.mean(latencies) * 1000:.0f}"
        )
        print(f"CPU ms per answer   {cpu / answers * 1000:8.2f}")
        # The driver and the fake share the machine: busy near 100%, they set the pace.
        print(f"bench's own CPU     {own / elapsed * 100:7.0f}%  of one core (fake and people)")
        print(f"peak RSS MB         {max(peak_rss_mb(p.pid) for p in processes):8.1f}")
        print(f"start-up s          {startup:8.2f}")
        per = ", ".join(f"{m} {n / answers:.2f}" for m, n in sorted(methods.items()))
        print(f"calls per answer    {sum(methods.values()) / answers:.2f}: {per}")
        per = ", ".join(f"{m} {n / answers:.2f}" for m, n in sorted(bound.items()))
        print(f"chat-bound/answer   {chat_bound / answers:.2f}: {per}")
        print(f"429 refused         {api.flood_refused - refused_before}")
        if lost or stuck:
            print(
                f"replies lost        {len(lost) + stuck} (no reply within {LOST_AFTER} s): "
                f"{stuck} of {args.users} people in the welcome, {len(lost)} later"
            )
        if args.think:  # paced: how the first reply went over the run, per 30 s
            windows: dict[int, list[float]] = collections.defaultdict(list)
            for started, latency in timeline:
                windows[int(started // 30)].append(latency)
            for n, values in sorted(windows.items()):
                print(
                    f"  {n * 30:4d}-{n * 30 + 30:<4d}s  {len(values):5d} answers "
                    f"({len(values) / 30:5.1f}/s)  p50 {pct(values, 50) * 1000:5.0f}  "
                    f"p99 {pct(values, 99) * 1000:5.0f} ms"
                )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if api.client is not None:
            await api.client.aclose()
        await api.stop()
        if drop is not None:
            await drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bot",
        choices=["tijdig", "textbook"],
        default="tijdig",
        help="textbook: the yardstick in bench/textbook_bot.py (polling only)",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--answers", type=int, default=20, help="answers per person")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds per answer")
    parser.add_argument("--stored", type=int, default=0, help="people seeded first")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate-limit", type=int, default=0, help="TELEGRAM_RATE_LIMIT")
    parser.add_argument("--flood", type=int, default=0, help="fake 429 above N calls/s")
    parser.add_argument("--redis", default=None, help="REDIS_URL for the bot")
    parser.add_argument(
        "--processes", type=int, default=0, help="N webhook processes (0: one, polling)"
    )
    asyncio.run(main(parser.parse_args()))
