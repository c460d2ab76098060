"""How fast is one turn, and how much memory do many conversations take?

Run: python bench/conversation_bench.py [--users 200] [--database sqlite|postgres]
Prints numbers only; nothing here passes or fails. The targets we watch:
- engine alone: well over 2,000 events/s on one core (a turn must never be the bottleneck);
- a full turn on SQLite (load, decide, encrypt, commit with synchronous=FULL): under 10 ms
  for one person; with 200 people all sending at the very same moment, turns queue behind
  SQLite's single writer, so the number to watch there is turns per second (over 100);
- memory: the process stays under 200 MB RSS with thousands of stored conversations,
  because nothing per conversation is kept in memory between events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.content.loader import load_flows  # noqa: E402
from bot.engine import Choice, Conversation, Engine, Start, Text  # noqa: E402
from bot.engine.replies import Message, RecordAnswer  # noqa: E402
from bot.engine.state import AnswerView  # noqa: E402
from bot.i18n import available_locales, translator  # noqa: E402
from bot.services.conversation import ConversationService  # noqa: E402
from bot.services.runtime import Runtime  # noqa: E402
from bot.storage.crypto import new_key_text  # noqa: E402

SCRIPT = ["ja", "1", "Anna", "2", "1", "thuis", "ja", "Naar de kust", "verder", "1", "1"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_engine(flows_dir: Path, rounds: int) -> None:
    flow = next(iter(load_flows(flows_dir).values()))
    engine = Engine(flow, translator, available_locales())
    events = 0
    started = time.perf_counter()
    for round_ in range(rounds):
        conv, answers = Conversation(), {}
        conv, _ = engine.handle(conv, answers, Start(user_id="u", chat_id="u", event_id="s"))
        for index, line in enumerate(SCRIPT):
            event = Text(user_id="u", chat_id="u", event_id=f"{round_}.{index}", text=line)
            conv, outcome = engine.handle(conv, answers, event)
            for effect in outcome.effects:
                if isinstance(effect, RecordAnswer):
                    answers[effect.question_id] = AnswerView(effect.value, effect.skipped)
            events += 1
        message = next(r for r in outcome.replies if isinstance(r, Message))
        button = message.flat_buttons[0]
        engine.handle(
            conv,
            answers,
            Choice(
                user_id="u",
                chat_id="u",
                event_id="c",
                question_id=button.screen,
                option_id=button.option,
            ),
        )
        events += 1
    elapsed = time.perf_counter() - started
    print(f"engine only: {events} events in {elapsed:.2f} s = {events / elapsed:,.0f} events/s")


async def bench_service(database_url: str, users: int) -> None:
    settings = load_settings(database_url=database_url, data_key=new_key_text(), _env_file=None)
    runtime = await Runtime.create(settings)
    service = ConversationService(runtime)
    latencies: list[float] = []

    async def person(number: int) -> None:
        user = f"bench-{number}"
        for index, line in enumerate(["/start", *SCRIPT]):
            if line.startswith("/"):
                event = Start(user_id=user, chat_id=user, event_id=f"{user}.{index}")
            else:
                event = Text(user_id=user, chat_id=user, event_id=f"{user}.{index}", text=line)
            started = time.perf_counter()
            await service.handle("bench", event)
            latencies.append(time.perf_counter() - started)

    await person(-1)  # one person alone: the latency of a turn without queueing
    alone = sorted(latencies)
    print(
        f"one person alone: p50 {statistics.median(alone) * 1000:.1f} ms, "
        f"max {alone[-1] * 1000:.1f} ms per turn"
    )
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(users)))
    elapsed = time.perf_counter() - started
    await runtime.close()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(
        f"full turns ({database_url.split(':')[0]}, {users} people at once): "
        f"{len(latencies)} turns in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f} turns/s, "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )


async def bench_postgres(users: int) -> None:
    """On a fresh database of its own on the local server, dropped afterwards."""
    import asyncpg

    admin = "postgresql://postgres@127.0.0.1:5432/test"
    name = f"tijdig_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        await bench_service(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", users)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--flows", type=Path, default=ROOT / "tests" / "data" / "flows")
    args = parser.parse_args()
    bench_engine(args.flows, args.rounds)
    os.environ["FLOWS_DIR"] = str(args.flows)
    with tempfile.TemporaryDirectory() as folder:
        if args.database == "sqlite":
            asyncio.run(bench_service(f"sqlite+aiosqlite:///{folder}/bench.db", args.users))
        else:
            asyncio.run(bench_postgres(args.users))
    print(f"peak memory (RSS): {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
