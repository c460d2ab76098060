"""A bot process's outbox alone, for the test with two real processes: waits for a start
file, sends what is due through a collecting channel until nothing is left, and prints the
addresses it sent to as JSON. Settings come from the environment."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bot.config import load_settings
from bot.engine.replies import Reply
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime


async def main(start_file: Path) -> None:
    runtime = await Runtime.create(load_settings(_env_file=None))
    try:
        service = ConversationService(runtime)
        sent: list[str] = []

        async def push(address: str, replies: list[Reply]) -> None:
            await asyncio.sleep(0.02)  # a network round trip
            sent.append(address)

        service.outbox.register("test", push)
        while not start_file.exists():  # noqa: ASYNC110, ASYNC240 - a test helper
            await asyncio.sleep(0.01)
        idle = 0
        while idle < 5:
            taken = await service.outbox.send_due()
            idle = 0 if taken else idle + 1
            if not taken:
                await asyncio.sleep(0.1)
        print(json.dumps(sent))
    finally:
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
