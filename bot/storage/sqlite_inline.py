"""SQLite for SQLAlchemy's asyncio engine, with statements run directly on the loop.

SQLAlchemy's aiosqlite adapter sends every cursor call (open, execute, fetch, close)
through aiosqlite's worker thread and back through a greenlet switch: about 100 µs per
statement here, against 10-30 µs for the same statement on a plain `sqlite3` connection.
SQLite reads and writes into its page cache take microseconds, so here statements run on
the event loop's thread, on `sqlite3` itself. What can wait runs on the connection's own
worker thread, awaited: opening the file, taking the write lock (`BEGIN IMMEDIATE`, which
may wait for another process's writer), the commit (its fsync, with synchronous=FULL),
rollbacks, PRAGMAs (checkpoints) and closing. Every transaction begins with BEGIN
IMMEDIATE (bot.storage.db), so a statement in between never waits for a lock.

`InlineSQLite` is the DBAPI module handed to `create_async_engine(..., module=...)` for
the `sqlite+aiosqlite` dialect; aiosqlite itself is then never imported.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.connectors.asyncio import (
    AsyncAdapt_dbapi_connection,
    AsyncAdapt_dbapi_cursor,
    AsyncAdapt_dbapi_module,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_, in_greenlet

T = TypeVar("T")

# Statements that may wait (for another writer or for the disk): on the worker thread.
_WAITING_SQL = ("BEGIN", "COMMIT", "END", "ROLLBACK", "PRAGMA", "VACUUM")


def may_wait(operation: str) -> bool:
    return operation.lstrip()[:8].upper().startswith(_WAITING_SQL)


async def _passed() -> None:
    return None


class InlineCursor(AsyncAdapt_dbapi_cursor):
    """A `sqlite3` cursor; rows are fetched at once, as SQLAlchemy's async cursors do."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: InlineConnection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = adapt_connection._connection.cursor()
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            if not self._connection.in_transaction or may_wait(operation):
                # Outside BEGIN IMMEDIATE a write takes the lock itself, and may wait.
                return self._adapt_connection.on_worker(self._run, operation, parameters)
            result = self._run(operation, parameters)
            # SQLAlchemy's AsyncConnection insists that each call passes through the
            # event loop once (greenlet_spawn's _require_await): a coroutine that returns
            # at once, a few microseconds.
            await_(_passed())
            return result
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def _run(self, operation: str, parameters: Any) -> Any:
        cursor = self._cursor
        if parameters is None:
            result = cursor.execute(operation)
        else:
            result = cursor.execute(operation, parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())
        return result

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            many = self._cursor.executemany
            if not self._connection.in_transaction:
                return self._adapt_connection.on_worker(many, operation, seq_of_parameters)
            result = many(operation, seq_of_parameters)
            await_(_passed())
            return result
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()


class InlineConnection(AsyncAdapt_dbapi_connection):
    """A `sqlite3` connection with a worker thread of its own for what may wait."""

    __slots__ = ("_worker",)
    _cursor_cls = InlineCursor
    _ss_cursor_cls = InlineCursor  # SQLite's rows are local: a buffered cursor serves both

    def __init__(self, dbapi: Any, connection: Any, worker: ThreadPoolExecutor) -> None:
        super().__init__(dbapi, connection)
        self._worker = worker

    def on_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on the worker thread while the event loop serves others meanwhile."""
        loop = asyncio.get_running_loop()
        return await_(loop.run_in_executor(self._worker, functools.partial(fn, *args)))

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.create_function(*args, **kwargs)

    def commit(self) -> None:
        try:
            self.on_worker(self._connection.commit)
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self.on_worker(self._connection.rollback)
        except Exception as error:
            self._handle_exception(error)

    def close(self) -> None:
        # The pool may close a connection outside a greenlet (garbage collection).
        if in_greenlet():
            self.on_worker(self._connection.close)
        else:
            self._connection.close()
        self._worker.shutdown(wait=False)

    def terminate(self) -> None:
        """What the pool calls for a connection that failed: close it here and now."""
        self._connection.close()
        self._worker.shutdown(wait=False)


class InlineSQLite(AsyncAdapt_dbapi_module):
    """The DBAPI module SQLAlchemy's SQLite dialect sees: sqlite3's names, our connect."""

    paramstyle = "qmark"
    has_stop = True  # the dialect's name for "connections can be terminated"

    DatabaseError = sqlite3.DatabaseError
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError
    InterfaceError = sqlite3.InterfaceError
    NotSupportedError = sqlite3.NotSupportedError
    OperationalError = sqlite3.OperationalError
    ProgrammingError = sqlite3.ProgrammingError
    sqlite_version = sqlite3.sqlite_version
    sqlite_version_info = sqlite3.sqlite_version_info
    PARSE_COLNAMES = sqlite3.PARSE_COLNAMES
    PARSE_DECLTYPES = sqlite3.PARSE_DECLTYPES
    Binary = sqlite3.Binary

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.sqlite = sqlite3

    def connect(self, *args: Any, **kwargs: Any) -> InlineConnection:
        kwargs["check_same_thread"] = False  # the worker thread and the loop take turns
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(worker, functools.partial(sqlite3.connect, *args, **kwargs))
        try:
            connection = await_(opening)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return InlineConnection(self, connection, worker)
