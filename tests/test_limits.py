"""Limits shared across processes: the Telegram send budget and the share-link limit.

Why: each process used to keep its own (30 calls/s each, so three processes sent up to
90/s and Telegram refused them with 429). Each `SendBudget` here has its own Redis client,
as each process has, and they share one key.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from bot.config import load_settings
from bot.services.limits import NOTICE, REPLY, SendBudget, SharedClientLimit, limit_storage


def in_any_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def budgets(redis_url: str, per_second: int, count: int) -> list[SendBudget]:
    key = f"test-send:{uuid.uuid4().hex}"
    return [SendBudget(per_second, redis_url, key) for _ in range(count)]


async def test_three_processes_share_one_send_budget(redis_url: str) -> None:
    per_second = 15
    times: list[float] = []

    async def process(budget: SendBudget, calls: int) -> None:
        async def one() -> None:
            await budget.take()
            times.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(calls)))

    shared = budgets(redis_url, per_second, 3)
    await asyncio.gather(*(process(b, 12) for b in shared))
    for budget in shared:
        await budget.close()
    assert len(times) == 36
    # One budget for the three: 36 calls over 35 slots; each process with its own would
    # be done after 11. A stall of this busy test process may stamp the first call late,
    # or let a call or two of the slots it slept through go together (the margin's job).
    interval = shared[0].interval_ms / 1000
    assert max(times) - min(times) >= 25 * interval, "spaced as one budget"
    assert in_any_second(times) <= per_second + 2


async def test_replies_go_before_notices(redis_url: str) -> None:
    """While replies are queued (in any process), a notice waits; it goes once they are
    through. So notifications never make a person who is chatting wait."""
    reply_budget, notice_budget = budgets(redis_url, 20, 2)
    order: list[str] = []

    async def reply(n: int) -> None:
        await reply_budget.take(REPLY)
        order.append(f"r{n}")

    async def notice() -> None:
        await asyncio.sleep(0.01)  # asks after the replies queued up
        await notice_budget.take(NOTICE)
        order.append("notice")

    async def later_replies() -> None:
        await asyncio.sleep(0.3)  # people still chatting while the notice waits
        await asyncio.gather(*(reply(n) for n in range(12, 17)))

    await asyncio.gather(*(reply(n) for n in range(12)), notice(), later_replies())
    assert order[-1] == "notice", order


async def test_the_share_link_limit_is_shared(redis_url: str) -> None:
    settings = load_settings(redis_url=redis_url, _env_file=None)
    first = SharedClientLimit(limit_storage(settings), burst=3)
    second = SharedClientLimit(limit_storage(settings), burst=3)
    client = uuid.uuid4().hex
    assert [await first.take(client), await second.take(client), await first.take(client)] == [
        None,
        None,
        None,
    ]
    retry = await second.take(client)
    assert retry is not None and 1 <= retry <= 60
    assert await second.take(uuid.uuid4().hex) is None, "other clients are not affected"
