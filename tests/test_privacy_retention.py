"""Retention (issue 12, point 11): handled-event ids and dead share links do not pile up.

Why: `processed_event` grew by one row per message forever, and expired or revoked links
kept their access log (when a GP opened what) with no end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.models import LinkAccess, ProcessedEvent, ShareLink
from bot.storage.retention import purge_expired
from bot.testing import ChatDriver
from tests.summary_support import link_of


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_purge_expired_keeps_what_is_recent_and_deletes_what_is_past_retention(
    runtime: Runtime, service: ConversationService
) -> None:
    assert (runtime.settings.event_retention_days, runtime.settings.link_retention_days) == (
        30,
        365,
    )
    chat = ChatDriver.on_service(service)
    await chat.ready()
    links = []
    for _ in range(4):
        links.append(link_of(await chat.command("delen")).url.rsplit("/", 1)[1])
    now = datetime.now(UTC)
    old = now - timedelta(days=400)
    async with runtime.sessions() as session, session.begin():
        ids = list(await session.scalars(select(ShareLink.id).order_by(ShareLink.created_at)))
        expired_long_ago, revoked_long_ago, expired_recently, alive = ids
        await session.execute(
            update(ShareLink).where(ShareLink.id == expired_long_ago).values(expires_at=old)
        )
        await session.execute(
            update(ShareLink).where(ShareLink.id == revoked_long_ago).values(revoked_at=old)
        )
        await session.execute(
            update(ShareLink)
            .where(ShareLink.id == expired_recently)
            .values(expires_at=now - timedelta(days=10))
        )
        for link_id in ids:
            session.add(LinkAccess(link_id=link_id, format="html", outcome="ok", client_hash="x"))
        events = list(await session.scalars(select(ProcessedEvent.id).order_by(ProcessedEvent.id)))
        await session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.id.in_(events[:-2]))
            .values(created_at=now - timedelta(days=31))
        )
    assert len(events) > 2

    purged = await purge_expired(runtime.sessions, now, runtime.settings)

    assert (purged.events, purged.links, purged.link_accesses) == (len(events) - 2, 2, 2)
    async with runtime.sessions() as session:
        left = set(await session.scalars(select(ShareLink.id)))
        logged = set(await session.scalars(select(LinkAccess.link_id)))
    assert left == logged == {expired_recently, alive}
    assert await count(runtime, ProcessedEvent) == 2
    # Running it again deletes nothing more.
    again = await purge_expired(runtime.sessions, now, runtime.settings)
    assert (again.events, again.links, again.link_accesses) == (0, 0, 0)
    # The person goes on as before.
    await chat.command("overzicht")
    assert await count(runtime, ProcessedEvent) == 3


async def test_the_host_job_purges_old_event_ids_without_being_asked(
    runtime: Runtime, service: ConversationService
) -> None:
    """The retention is not a function nobody calls: the host's periodic job runs it."""
    import asyncio

    from bot.services.housekeeping import run_housekeeping

    chat = ChatDriver.on_service(service)
    await chat.ready()
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(ProcessedEvent).values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert await count(runtime, ProcessedEvent) > 0
    stop = asyncio.Event()
    job = asyncio.create_task(run_housekeeping(runtime, stop, every=0.05))
    for _ in range(100):
        if await count(runtime, ProcessedEvent) == 0:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(job, 5)
    assert await count(runtime, ProcessedEvent) == 0
