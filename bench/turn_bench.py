"""CPU and SQL statements per conversation turn, through the service alone (no Telegram).

Run: python bench/turn_bench.py [--people 20] [--answers 30] [--profile]

Each person consents, opens the first topic and answers question after question (the
first option, or typed text) on a real SQLite file with synchronous=FULL. Prints CPU ms
per turn (this process, all threads), wall ms per turn, statements per turn by kind, and
with --profile the Python calls per turn (a count that does not depend on how busy the
machine is) and the top of a cProfile. Numbers only; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.services.conversation import ConversationService  # noqa: E402
from bot.services.runtime import Runtime  # noqa: E402
from bot.storage.crypto import new_key_text  # noqa: E402
from bot.testing import ChatDriver  # noqa: E402

CONTROLS = {"Overslaan", "Later", "Terug", "Uitleg", "Een ander onderwerp", "Liever niet"}


async def answer(chat: ChatDriver) -> None:
    buttons = chat.message.flat_buttons if chat.message else []
    labels = [b.label for b in buttons]
    if any(label.startswith("✓ ") for label in labels) and "Klaar" in labels:
        await chat.press("Klaar")
        return
    for button in buttons:
        if button.label not in CONTROLS:
            await chat.send(chat.choice(button))
            return
    await chat.say("Bij mijn dochter in de buurt")


async def main(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="tijdig-turns-")
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{folder}/turns.db",
        data_key=new_key_text(),
        quiet_hours="off",
        _env_file=None,
    )
    runtime = await Runtime.create(settings)
    service = ConversationService(runtime)
    statements: collections.Counter[str] = collections.Counter()

    @event.listens_for(runtime.db.sync_engine, "before_cursor_execute")
    def count(*call: Any) -> None:
        words = call[2].split()
        statements[" ".join(words[:3])[:40]] += 1

    chats = [ChatDriver.on_service(service, user=f"u{n}") for n in range(args.people)]
    for chat in chats:
        await chat.ready()
        await chat.send(chat.choice(chat.message.flat_buttons[0]))  # the first topic
        await chat.press("begin")
    statements.clear()
    profile = cProfile.Profile(time.process_time) if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for _ in range(args.answers):
        for chat in chats:
            await answer(chat)
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await runtime.close()
    turns = args.people * args.answers
    print(f"{turns} turns: CPU {cpu / turns * 1000:.2f} ms, wall {wall / turns * 1000:.2f} ms")
    print(f"statements per turn {sum(statements.values()) / turns:.2f}:")
    for text, n in statements.most_common(12):
        print(f"  {n / turns:5.2f}  {text}")
    if profile:
        stats = pstats.Stats(profile)
        print(f"Python calls per turn {stats.total_calls / turns:.0f} (CPU above is profiled)")  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--answers", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    asyncio.run(main(parser.parse_args()))
