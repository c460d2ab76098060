"""The host's periodic job: delete what Tijdig no longer needs (see bot/storage/retention.py).

Runs once soon after start and then every hour, beside every channel; idempotent, so
several processes may run it at once. A failed round is logged and tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.storage.retention import purge_expired

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600.0


async def run_housekeeping(
    runtime: Any,
    stop: asyncio.Event,
    *,
    every: float = EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    while not stop.is_set():
        try:
            purged = await purge_expired(runtime.sessions, clock(), runtime.settings)
            if purged.events or purged.links or purged.rate_rows:
                log.info(
                    "retention: %d event ids, %d links, %d link openings, %d rate rows deleted",
                    purged.events,
                    purged.links,
                    purged.link_accesses,
                    purged.rate_rows,
                )
        except Exception as exc:  # the database was briefly away: next round
            log.warning("retention round failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
