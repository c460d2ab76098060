"""Limits shared across processes: the Telegram send budget and the share-link limit.

Why: each process used to keep its own (30 calls/s each, so three processes sent up to
90/s and Telegram refused them with 429). Each `SendBudget` here has its own Redis client
or database pool, as each process has, and they share one key: in Redis when REDIS_URL is
set, else in PostgreSQL (the `rate_schedule` table).
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.services.conversation import ConversationService
from bot.services.limits import NOTICE, REPLY, DatabaseClientLimit, SendBudget
from bot.services.redis_client_limit import SharedClientLimit, limit_storage
from bot.services.runtime import Runtime
from bot.storage import rate_schedule
from bot.storage.crypto import new_key_text
from bot.storage.db import create_engine, migrate
from bot.storage.rate_schedule import RateSchedule
from bot.storage.retention import purge_expired
from bot.web.app import create_app
from tests.conftest import DEMO_FLOWS

Budgets = Callable[[int, int], list[SendBudget]]


def in_any_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture(params=["redis", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> tuple[str, str | None, str | None]:
    """Where the shared limits live: Redis, or (no REDIS_URL) a fresh PostgreSQL database."""
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_url"), None
    return "postgresql", None, request.getfixturevalue("postgres_url")


@pytest.fixture
async def budgets(store: tuple[str, str | None, str | None]) -> AsyncIterator[Budgets]:
    """Makes `count` budgets on one key, each with its own client, as processes have."""
    backend, redis_url, database_url = store
    made: list[SendBudget] = []
    key = f"test-send:{uuid.uuid4().hex}"
    if database_url:
        db = create_engine(database_url)
        await migrate(db)
        await db.dispose()

    def make(per_second: int, count: int) -> list[SendBudget]:
        new = [
            SendBudget(per_second, redis_url, key, database_url=database_url) for _ in range(count)
        ]
        assert {b.backend for b in new} == {backend}
        made.extend(new)
        return new

    yield make
    for budget in made:
        await budget.close()


async def test_three_processes_share_one_send_budget(budgets: Budgets) -> None:
    """36 calls from three budgets at 15/s share one schedule: the last goes no sooner than
    35 slots after the first was asked for (three schedules of their own would be through
    after 11). Wake-up times are not compared with each other: on a busy machine a stalled
    event loop bunches them whatever the schedule (the slots themselves: below)."""
    per_second = 15
    shared = budgets(per_second, 3)
    started = time.monotonic()
    done: list[float] = []

    async def one(budget: SendBudget) -> None:
        await budget.take()
        done.append(time.monotonic())

    await asyncio.gather(*(one(budget) for budget in shared for _ in range(12)))
    assert len(done) == 36
    slots = 35 * shared[0].interval_ms / 1000
    assert max(done) - started >= slots - 0.05, "one schedule for all three"


async def test_budgets_in_redis_never_hand_out_the_same_slot(redis_url: str) -> None:
    """On one frozen clock, 30 reservations racing from three Redis clients get the slots
    0, 1, 2, ... intervals ahead, each once: at most `per_second` in any second. (One a
    second, so the key's expiry, which runs on the real clock, outlasts any stall.)"""
    key = f"test-slots:{uuid.uuid4().hex}"
    shared = [SendBudget(1, redis_url, key) for _ in range(3)]
    for budget in shared:
        budget.clock = lambda: 1_000_000.0
    try:
        waits = await asyncio.gather(*(shared[n % 3]._reserve(1e12) for n in range(30)))
    finally:
        for budget in shared:
            await budget.close()
    interval = shared[0].interval_ms / 1000
    assert sorted(round(w / interval, 3) for w in waits if w is not None) == list(range(30))
    assert in_any_second([w for w in waits if w is not None]) <= 1


async def test_replies_go_before_notices(budgets: Budgets) -> None:
    """While replies are queued (in any process), a notice waits; it goes once they are
    through. So notifications never make a person who is chatting wait. (Steps follow
    each other on events, not sleeps: the notice asks once 12 replies hold their slots,
    and 5 more replies come once the notice has been turned away.)"""
    # 8 a second: the 12 queued replies hold the budget for about 1.6 s, longer than the
    # stalls of a busy test machine (at 20 a second a stall let the queue drain first).
    reply_budget, notice_budget = budgets(8, 2)
    order: list[str] = []
    queued, refused = asyncio.Event(), asyncio.Event()
    reserve_reply, reserve_notice = reply_budget._reserve, notice_budget._reserve
    slots: list[float | None] = []

    async def counting(max_wait_ms: float) -> float | None:
        slots.append(await reserve_reply(max_wait_ms))
        if len(slots) == 12:
            queued.set()
        return slots[-1]

    async def noting(max_wait_ms: float) -> float | None:
        wait = await reserve_notice(max_wait_ms)
        if wait is None:
            refused.set()
        return wait

    reply_budget._reserve = counting  # type: ignore[method-assign]
    notice_budget._reserve = noting  # type: ignore[method-assign]

    async def reply(n: int) -> None:
        await reply_budget.take(REPLY)
        order.append(f"r{n}")

    async def notice() -> None:
        await queued.wait()
        await notice_budget.take(NOTICE)
        order.append("notice")

    async def later_replies() -> None:
        await refused.wait()  # people still chatting while the notice waits
        await asyncio.gather(*(reply(n) for n in range(12, 17)))

    everything = asyncio.gather(*(reply(n) for n in range(12)), notice(), later_replies())
    await asyncio.wait_for(everything, 60)  # only a broken budget comes near this
    assert len(order) == 18 and order[-1] == "notice", order


async def test_the_share_link_limit_is_shared(redis_url: str) -> None:
    settings = load_settings(redis_url=redis_url, _env_file=None)
    first = SharedClientLimit(limit_storage(settings.redis_url), burst=3)
    second = SharedClientLimit(limit_storage(settings.redis_url), burst=3)
    client = uuid.uuid4().hex
    assert [await first.take(client), await second.take(client), await first.take(client)] == [
        None,
        None,
        None,
    ]
    retry = await second.take(client)
    assert retry is not None and 1 <= retry <= 60
    assert await second.take(uuid.uuid4().hex) is None, "other clients are not affected"


# -- on PostgreSQL (no REDIS_URL) ---------------------------------------------------------------


@pytest.fixture
async def migrated(postgres_url: str) -> str:
    db = create_engine(postgres_url)
    await migrate(db)
    await db.dispose()
    return postgres_url


@pytest.mark.postgres
async def test_two_processes_never_get_the_same_send_slot(migrated: str) -> None:
    """Each reservation is one atomic upsert: 40 reservations racing from two pools get 40
    different slots, one interval apart (a long interval, so the test does not depend on
    how fast this machine is: the race is over in far less than half an interval)."""
    interval = 10_000.0
    pools = [rate_schedule.autocommit(create_engine(migrated)) for _ in range(2)]
    key = f"test-slots:{uuid.uuid4().hex}"
    try:
        waits = await asyncio.gather(
            *(rate_schedule.reserve(pools[n % 2], key, interval, 1e12) for n in range(40))
        )
    finally:
        for pool in pools:
            await pool.dispose()
    slots = sorted(round(wait / interval) for wait in waits if wait is not None)
    assert slots == list(range(40)), slots


@pytest.mark.postgres
async def test_a_notice_is_refused_a_far_slot_and_takes_nothing(migrated: str) -> None:
    db = rate_schedule.autocommit(create_engine(migrated))
    key = f"test-notice:{uuid.uuid4().hex}"
    try:
        assert await rate_schedule.reserve(db, key, 1000, 0) == 0
        assert await rate_schedule.reserve(db, key, 1000, 200) is None, "the next is 1 s off"
        ahead = await rate_schedule.behind(db, key)
        assert 0 < ahead <= 1000, "the refused notice moved nothing"
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_the_budget_chooses_its_store_from_the_settings(postgres_url: str) -> None:
    on_postgres = load_settings(database_url=postgres_url, _env_file=None)
    with_redis = load_settings(
        database_url=postgres_url, redis_url="redis://127.0.0.1:6379/0", _env_file=None
    )
    on_sqlite = load_settings(database_url="sqlite+aiosqlite:///x.db", _env_file=None)
    chosen = [SendBudget.for_settings(s, "k") for s in (with_redis, on_postgres, on_sqlite)]
    assert [b.backend for b in chosen] == ["redis", "postgresql", "memory"]
    for budget in chosen:
        await budget.close()


@pytest.mark.postgres
async def test_the_share_link_limit_is_shared_on_postgres(postgres_url: str) -> None:
    """Two web app instances (two processes) on one database, without Redis: a client
    gets its burst in all, not a burst from each. (A burst of 3, one more every 20 s, so
    a slow machine cannot earn a request back during the test; the apps' own choice is
    checked too: 30 a minute, in PostgreSQL.) Rows that passed are pruned hourly."""
    settings = load_settings(
        database_url=postgres_url, data_key=new_key_text(), flows_dir=DEMO_FLOWS, _env_file=None
    )
    runtimes = [await Runtime.create(settings) for _ in range(2)]
    try:
        default = create_app(runtimes[0], ConversationService(runtimes[0]))
        assert isinstance(default.state.web.limiter, DatabaseClientLimit)
        assert default.state.web.limiter.burst == 30
        apps = [
            create_app(r, ConversationService(r), rate_limiter=DatabaseClientLimit(r.db, burst=3))
            for r in runtimes
        ]
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("203.0.113.5", 1)),
                base_url="http://testserver",
            )
            for app in apps
        ]
        path = "/s/" + "y" * 43  # no such link: 404 while allowed, 429 when limited
        statuses = [(await clients[n % 2].get(path)).status_code for n in range(5)]
        assert statuses == [404, 404, 404, 429, 429], statuses
        limited = await clients[0].get(path)
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        for client in clients:
            await client.aclose()

        async with runtimes[0].sessions() as session:
            count = select(func.count()).select_from(RateSchedule)
            assert (await session.execute(count)).scalar() == 1, "one row per client"
        soon = await purge_expired(runtimes[0].sessions, datetime.now(UTC), settings)
        later = datetime.now(UTC) + timedelta(hours=2)
        after = await purge_expired(runtimes[0].sessions, later, settings)
        assert (soon.rate_rows, after.rate_rows) == (0, 1)
    finally:
        for runtime in runtimes:
            await runtime.close()


@pytest.mark.postgres
async def test_database_client_limit_alone(migrated: str) -> None:
    db = create_engine(migrated)
    try:
        first, second = DatabaseClientLimit(db, burst=3), DatabaseClientLimit(db, burst=3)
        client = uuid.uuid4().hex
        taken = [await first.take(client), await second.take(client), await first.take(client)]
        assert taken == [None, None, None]
        retry = await second.take(client)
        assert retry is not None and 1 <= retry <= 20
        assert await second.take(uuid.uuid4().hex) is None, "other clients are not affected"
    finally:
        await db.dispose()


async def test_a_store_that_does_not_answer_leaves_the_process_its_own_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reply is never lost to a database (or Redis) hiccup: the call takes a slot from
    the process's own schedule, and the log says so once, without the URL."""
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://postgres:secret@127.0.0.1:{port}/nowhere"
    budget = SendBudget(50, None, "k", database_url=url)
    try:
        with caplog.at_level("WARNING"):
            waits = [await budget.take() for _ in range(3)]
    finally:
        await budget.close()
    assert len(waits) == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "postgresql not answering" in warnings[0], warnings
    assert "secret" not in caplog.text


def test_the_share_link_limit_is_in_redis_when_redis_url_is_set() -> None:
    from types import SimpleNamespace

    from bot.web.app import client_limit

    settings = SimpleNamespace(redis_url="redis://127.0.0.1:6379/0", is_sqlite=True)
    assert isinstance(client_limit(SimpleNamespace(settings=settings)), SharedClientLimit)
