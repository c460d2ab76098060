"""SQLite for SQLAlchemy's asyncio engine, with statements run directly on the loop.

SQLAlchemy's aiosqlite adapter sends every cursor call (open, execute, fetch, close)
through aiosqlite's worker thread and back through a greenlet switch: about 100 µs per
statement here, against 10-30 µs for the same statement on a plain `sqlite3` connection.
SQLite reads and writes into its page cache take microseconds, so here statements run on
the event loop's thread, on `sqlite3` itself. A trip to a thread and back costs about
120 µs of CPU here (two thread wake-ups and the loop's own wake-up), so only what may
really wait goes to the connection's own worker thread, awaited meanwhile:

- taking the write lock: `BEGIN IMMEDIATE` is tried here without waiting, and only when
  another process holds the lock does it wait for it on the worker (this process's own
  writers queue before it, in `Runtime.transaction`);
- the commit (its fsync, with synchronous=FULL) when this disk's commits are slow: they
  run here while their moving average stays under `SLOW_COMMIT_S`, and on the worker
  otherwise, so a slow disk never stalls the loop;
- opening and closing, PRAGMAs (checkpoints), and any statement outside a transaction
  (a write there takes the lock itself).

`InlineSQLite` is the DBAPI module handed to `create_async_engine(..., module=...)` for
the `sqlite+aiosqlite` dialect; aiosqlite itself is then never imported.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import sqlite3
import time
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
log = logging.getLogger(__name__)

# Commits slower than this on average (an fsync on a slow or network disk) run on the
# worker thread; faster ones cost less here than the trip to the thread and back.
SLOW_COMMIT_S = 0.002

# Statements that may wait (for another writer or for the disk): on the worker thread.
_WAITING_SQL = ("COMMIT", "END", "ROLLBACK", "PRAGMA", "VACUUM")


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
            if operation.startswith("BEGIN"):
                return self._adapt_connection.begin(self._run, operation, parameters)
            return self._call(self._run, operation, parameters, waits=may_wait(operation))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return self._call(self._cursor.executemany, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def _call(self, fn: Callable[..., T], *args: Any, waits: bool = False) -> T:
        if waits or not self._connection.in_transaction:
            # Outside BEGIN IMMEDIATE a write takes the lock itself, and may wait.
            return self._adapt_connection.on_worker(fn, *args)
        result = fn(*args)
        # SQLAlchemy's AsyncConnection insists that each call passes through the event
        # loop once (greenlet_spawn's _require_await): a coroutine that returns at once,
        # a few microseconds.
        await_(_passed())
        return result

    def _run(self, operation: str, parameters: Any) -> Any:
        cursor = self._cursor
        if parameters is None:
            result = cursor.execute(operation)
        else:
            result = cursor.execute(operation, parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())
        return result

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()


class InlineConnection(AsyncAdapt_dbapi_connection):
    """A `sqlite3` connection with a worker thread of its own for what may wait."""

    __slots__ = ("_busy_ms", "_commit_s", "_worker")
    _cursor_cls = InlineCursor
    _ss_cursor_cls = InlineCursor  # SQLite's rows are local: a buffered cursor serves both

    def __init__(self, dbapi: Any, connection: Any, worker: ThreadPoolExecutor) -> None:
        super().__init__(dbapi, connection)
        self._worker = worker
        self._busy_ms: int | None = None  # the connection's busy timeout, read once
        self._commit_s = 0.0  # moving average of how long a commit takes

    def begin(self, run: Callable[[str, Any], Any], operation: str, parameters: Any) -> Any:
        """BEGIN here when the write lock is free (it nearly always is); when another
        process holds it, wait for it on the worker, with the connection's busy timeout."""
        connection = self._connection
        if self._busy_ms is None:
            self._busy_ms = int(connection.execute("PRAGMA busy_timeout").fetchone()[0])
        connection.execute("PRAGMA busy_timeout=0")
        try:
            result = run(operation, parameters)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            connection.execute(f"PRAGMA busy_timeout={self._busy_ms}")
            return self.on_worker(run, operation, parameters)
        connection.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        await_(_passed())
        return result

    def _timed_commit(self) -> None:
        started = time.perf_counter()
        self._connection.commit()
        took = time.perf_counter() - started
        slow_before = self._commit_s > SLOW_COMMIT_S
        self._commit_s = 0.9 * self._commit_s + 0.1 * took
        if (self._commit_s > SLOW_COMMIT_S) != slow_before:
            where = "a worker thread" if not slow_before else "the event loop's thread"
            log.info("SQLite commits take %.1f ms here: they now run on %s", took * 1000, where)

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
            if self._commit_s > SLOW_COMMIT_S:
                self.on_worker(self._timed_commit)
            else:
                self._timed_commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._connection.rollback()  # a WAL rollback forgets pages: nothing to wait for
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
