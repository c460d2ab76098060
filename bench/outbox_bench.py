"""The outbox under load: 100,000 people, of whom 10,000 are due for a reminder at once.

Run: python bench/outbox_bench.py [--people 100000] [--due 10000] [--database URL]
     [--seconds 10]
Prints numbers only; nothing here passes or fails. What we watch:
- picking: one claim of a round (FOR UPDATE SKIP LOCKED on PostgreSQL) stays in
  milliseconds with 100,000 rows in the table (the index on sent_at, due_at);
- replies to people chatting while reminders go out: p99 close to the p99 without them,
  because each reminder waits while a reply is being made and they are paced to
  REMINDER_RATE.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, update  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.engine import Start, Text  # noqa: E402
from bot.engine.replies import Reply  # noqa: E402
from bot.services.conversation import ConversationService  # noqa: E402
from bot.services.runtime import Runtime  # noqa: E402
from bot.storage.crypto import PersonKey, new_key_text  # noqa: E402
from bot.storage.models import (  # noqa: E402
    Answer,
    ConversationRow,
    OutboxMessage,
    Participant,
    Person,
    PersonKeyRow,
)
from bot.storage.outbox import OutboxStore  # noqa: E402
from bot.storage.repository import ADDRESS, ANSWER, CONTEXT, Repository  # noqa: E402

FLOWS = ROOT / "tests" / "data" / "flows"
CHUNK = 5000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def seed(runtime: Runtime, service: ConversationService, people: int, due: int) -> None:
    """One real person who stopped halfway, copied `people` times (same encrypted blobs)."""
    user = "template"
    for event in (
        Start(user_id=user, chat_id=user, event_id="t0"),
        Text(user_id=user, chat_id=user, event_id="t1", text="ja"),
        Text(user_id=user, chat_id=user, event_id="t2", text="1"),
        Text(user_id=user, chat_id=user, event_id="t3", text="Anna"),
        Text(user_id=user, chat_id=user, event_id="t4", text="1"),
        Text(user_id=user, chat_id=user, event_id="t5", text="1"),
        Text(user_id=user, chat_id=user, event_id="t6", text="Koffie in de tuin"),
    ):
        await service.handle("bench", event)
    async with runtime.sessions() as session:
        participant = (await session.execute(select(Participant))).scalar_one()
        repo = Repository(session, runtime.cipher)
        record = await repo.load_conversation(participant.id)
        (answer,) = await repo.answer_history(participant.person_id)
        assert record is not None
        address, state, context = repo.address(participant), record.state, record.context
        question, value = answer.question_id, answer.value
    now = datetime.now(UTC)
    base = 1_000_000
    for start in range(0, people, CHUNK):
        ids = range(base + start, base + min(people, start + CHUNK))
        # Each person has a data key of their own (as PersonKeys.create makes it), and
        # their rows are sealed with it: the same texts, their own ciphertexts.
        keys = {i: PersonKey.new() for i in ids}
        async with runtime.transaction() as session:
            await session.execute(
                insert(Person), [{"id": i, "consented_at": now, "created_at": now} for i in ids]
            )
            await session.execute(
                insert(PersonKeyRow),
                [
                    {
                        "id": key.key_id.hex(),
                        "person_id": i,
                        "wrapped": runtime.cipher.wrap(key.key, key.key_id),
                        "created_at": now,
                    }
                    for i, key in keys.items()
                ],
            )
            await session.execute(
                insert(Participant),
                [
                    {
                        "id": i,
                        "person_id": i,
                        "channel": "bench",
                        "lookup_key": uuid.uuid4().hex,
                        "address_enc": keys[i].encrypt(address.encode(), ADDRESS),
                        "role": "self",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(ConversationRow),
                [
                    {
                        "participant_id": i,
                        "state": state,
                        "context_enc": keys[i].encrypt_json(context, CONTEXT),
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(Answer),
                [
                    {
                        "person_id": i,
                        "participant_id": i,
                        "question_id": question,
                        "flow_version": 1,
                        "value_enc": keys[i].encrypt_json(value, ANSWER),
                        "skipped": False,
                        "together": False,
                        "role": "self",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(OutboxMessage),
                [
                    {
                        "person_id": i,
                        "participant_id": i,
                        "channel": "bench",
                        "kind": "reminder",
                        "step": 1,
                        "ref": "0",
                        "dedupe_key": f"bench:{i}",
                        "priority": 1,
                        "due_at": now - timedelta(minutes=1)
                        if i - base < due
                        else now + timedelta(days=3),
                        "created_at": now,
                    }
                    for i in ids
                ],
            )


async def bench_picking(runtime: Runtime, rounds: int = 200) -> None:
    timings = []
    now = datetime.now(UTC)
    for _ in range(rounds):
        started = time.perf_counter()
        async with runtime.transaction() as session:
            await OutboxStore(session, runtime.cipher).claim(
                now,
                channels=["bench"],
                limit=10,
                lease=timedelta(minutes=5),
                skip_locked=not runtime.settings.is_sqlite,
            )
        timings.append((time.perf_counter() - started) * 1000)
    async with runtime.transaction() as session:  # give the leases back
        await session.execute(update(OutboxMessage).values(lease_until=None))
    print(
        f"picking a round of 10 due of {rounds * 10} claimed: "
        f"p50 {statistics.median(timings):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms"
    )


async def chat_latencies(service: ConversationService, seconds: float, users: int) -> list[float]:
    """`users` people each sending a message every 50 ms; the time each reply takes."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def person(n: int) -> None:
        user = f"chatter{n}"
        await service.handle("bench", Start(user_id=user, chat_id=user, event_id=f"{n}.s"))
        count = 0
        while time.perf_counter() < deadline:
            count += 1
            event = Text(user_id=user, chat_id=user, event_id=f"{n}.{count}", text="/help")
            started = time.perf_counter()
            await service.handle("bench", event)
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)

    await asyncio.gather(*(person(n) for n in range(users)))
    return latencies


async def bench_replies(service: ConversationService, seconds: float, users: int) -> None:
    quiet = await chat_latencies(service, seconds, users)
    sent = 0

    async def push(address: str, replies: list[Reply]) -> None:
        nonlocal sent
        sent += 1

    outbox = service.outbox
    outbox.register("bench", push)
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            await outbox.send_due()

    started = time.perf_counter()
    task = asyncio.create_task(loop())
    busy = await chat_latencies(service, seconds, users)
    stop.set()
    await task
    elapsed = time.perf_counter() - started
    for name, values in (("without reminders", quiet), ("while reminders go out", busy)):
        print(
            f"replies {name}: {len(values)} turns, p50 {statistics.median(values):.1f} ms, "
            f"p99 {percentile(values, 0.99):.1f} ms"
        )
    print(f"reminders sent meanwhile: {sent} in {elapsed:.1f} s ({sent / elapsed:.1f}/s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="default: a SQLite file in /tmp")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rate", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{folder}/bench.db"
        settings = load_settings(
            database_url=url,
            data_key=new_key_text(),
            flows_dir=FLOWS,
            quiet_hours="off",
            reminder_rate=args.rate,
            _env_file=None,
        )
        runtime = await Runtime.create(settings)
        try:
            service = ConversationService(runtime)
            started = time.perf_counter()
            await seed(runtime, service, args.people, args.due)
            print(
                f"seeded {args.people} people, {args.due} due, "
                f"in {time.perf_counter() - started:.1f} s ({url.split(':', 1)[0]})"
            )
            await bench_picking(runtime)
            await bench_replies(service, args.seconds, args.users)
        finally:
            await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
