"""The send budget alone: Poisson chat-bound calls through `SharedFloodLimiter` to the tests'
fake Bot API, which refuses (429) above `--flood` calls in any one second.

Run:  python bench/limiter_bench.py [--rate 27.5] [--seconds 60] [--margin 1.1]

No bot, no database: how long a call waits for its slot at a given load, and whether the
spacing (`SendBudget.MARGIN`) keeps the fake from refusing. Prints the wait p50/p99/max,
429s, and the most calls the fake saw in any one second. Numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import ExtBot  # noqa: E402

from bot.channels.telegram_limits import SharedFloodLimiter  # noqa: E402
from bot.services.limits import SendBudget  # noqa: E402
from tests.fakebotapi import FakeBotAPI  # noqa: E402

TOKEN = "123456789:LIMITER-fake-bot-token-abcdef"


async def main(args: argparse.Namespace) -> None:
    if args.margin:
        SendBudget.MARGIN = args.margin
    async with FakeBotAPI(token=TOKEN, flood_limit=args.flood) as api:
        limiter = SharedFloodLimiter(SendBudget(args.rate_limit, None, "limiter-bench"))
        bot = ExtBot(TOKEN, base_url=api.base_url, rate_limiter=limiter)
        await bot.initialize()
        rng = random.Random(1)
        waits: list[float] = []

        async def one(chat: int) -> None:
            started = time.monotonic()
            await bot.send_message(chat, "x")
            waits.append(time.monotonic() - started)

        tasks = []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            await asyncio.sleep(rng.expovariate(args.rate))
            tasks.append(asyncio.create_task(one(rng.randint(1, 10**6))))
        await asyncio.gather(*tasks)
        await bot.shutdown()
    waits.sort()

    def pct(q: float) -> float:
        return waits[min(len(waits) - 1, round(q * (len(waits) - 1)))] * 1000

    print(
        f"margin {SendBudget.MARGIN} rate {args.rate}/s: {len(waits)} calls, wait p50 "
        f"{pct(0.5):.0f} p99 {pct(0.99):.0f} max {pct(1):.0f} ms, 429s {api.flood_refused}, "
        f"most in one second {api.max_chat_bound_in_any_second()}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=27.5, help="calls offered per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--margin", type=float, default=0, help="SendBudget.MARGIN (0: as set)")
    parser.add_argument("--rate-limit", type=int, default=30, help="TELEGRAM_RATE_LIMIT")
    parser.add_argument("--flood", type=int, default=30, help="fake 429 above N calls/s")
    asyncio.run(main(parser.parse_args()))
