"""aiosqlite with one thread hop per transaction instead of one per statement.

aiosqlite runs every call (cursor, execute, fetch, close) on its worker thread and wakes
the event loop for each result: about forty hops in a turn, measured as a third of a
turn's CPU. SQLite reads and writes into the page cache take microseconds, so here they
run on the loop's own thread. What can wait runs on the worker thread as before: taking
the write lock (`BEGIN IMMEDIATE`, which may wait for another writer), the commit (its
fsync, with synchronous=FULL) and PRAGMAs (checkpoints). Every transaction begins with
BEGIN IMMEDIATE (bot.storage.db), so a statement in between never waits for a lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

# Driver calls that may wait (for the disk or for another writer): on the worker thread.
_WAITING_CALLS = frozenset({"commit", "close", "backup", "iterdump", "rollback"})
_WAITING_SQL = ("BEGIN", "COMMIT", "END", "PRAGMA", "VACUUM")


def _may_wait(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    name = getattr(fn, "__name__", "")
    if name in _WAITING_CALLS:
        return True
    if name.startswith("execute") and args and isinstance(args[0], str):
        return args[0].lstrip()[:16].upper().startswith(_WAITING_SQL)
    return not name  # anything unrecognised: the safe way


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if _may_wait(fn, args):
            return await super()._execute(fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def inline_creator(path: str, *, timeout: float) -> Callable[[], Awaitable[InlineConnection]]:
    """For `create_async_engine(..., async_creator=...)`: connections to the file `path`."""

    async def create() -> InlineConnection:
        def connector() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=timeout, check_same_thread=False)

        connection = InlineConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold up the exit
        return await connection

    return create
