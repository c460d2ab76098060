"""Database engine set-up: SQLite pragmas, BEGIN IMMEDIATE, and migrations at start."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from bot.config import ConfigError
from bot.storage.answer_cache import STAGED, keep_committed
from bot.storage.models import Base
from bot.storage.person_keys import ERASED
from bot.storage.sqlite_inline import InlineSQLite

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest migration. A start on a current database reads this and never imports
# Alembic (about 11 MB of memory and a good part of start-up); tests/test_migrations.py
# checks that it names Alembic's head.
SCHEMA_HEAD = "0400"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class DatabaseNotUsable(ConfigError):
    """The database is there but is not one Tijdig can use; the message is one sentence."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine whose SQLite connections are durable (WAL, synchronous=FULL) and whose
    transactions take the write lock up front, so two writers never deadlock mid-way."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        timeout = BUSY_TIMEOUT_MS / 1000
        if path and path != ":memory:":
            make_private(Path(path.split("?", 1)[0]))
        kwargs.setdefault("module", InlineSQLite())
        connect_args = {"timeout": timeout, **kwargs.pop("connect_args", {})}
        engine = create_async_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def make_private(database: Path) -> None:
    """The database file and its -wal/-shm readable by the owner only (SQLite gives the side
    files the database file's mode), in a folder of the owner's only when Tijdig makes it."""
    folder = database.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    if not database.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, *(Path(f"{database}{side}") for side in SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not just marked free.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Session, "after_commit")
def _checkpoint_after_erase(session: Session) -> None:
    """After an erase is committed on SQLite, copy the WAL into the database (where
    secure_delete has zeroed the rows) and truncate it, so the old pages leave the -wal."""
    if not session.info.pop(ERASED, False):
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    connection = bind.raw_connection()  # not the session's: outside any transaction
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cursor.fetchone()[0]
        cursor.close()
    finally:
        connection.close()
    if busy:
        log.warning("the WAL could not be truncated after an erase (a reader was busy)")


@event.listens_for(Session, "after_commit")
def _keep_answer_histories(session: Session) -> None:
    keep_committed(session.info)


@event.listens_for(Session, "after_rollback")
def _forget_erase(session: Session) -> None:
    session.info.pop(ERASED, None)
    session.info.pop(STAGED, None)  # what was read or added here never happened


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> str | None:
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.util.exc import CommandError

    tables = set(inspect(connection).get_table_names())
    ours = sorted(tables & set(Base.metadata.tables))
    if ours and "alembic_version" not in tables:
        raise DatabaseNotUsable(
            "The database at DATABASE_URL already has tables that Tijdig did not make "
            f"({', '.join(ours[:3])}); give Tijdig an empty database of its own."
        )
    try:
        command.upgrade(alembic_config(connection), "head")
    except CommandError as exc:
        raise DatabaseNotUsable(
            "The database at DATABASE_URL was set up by another program or a newer Tijdig "
            f"({str(exc).splitlines()[0]}); give Tijdig a database of its own."
        ) from None
    return MigrationContext.configure(connection).get_current_revision()


# Any constant both sides agree on: "Tijdig" in ASCII, as a PostgreSQL advisory lock key.
MIGRATION_LOCK_KEY = 0x54696A646967


async def migrate(engine: AsyncEngine) -> str | None:
    """Bring the schema to the newest migration; safe to run at every start, and from
    several processes at once: on PostgreSQL they queue on an advisory lock (held until
    this transaction ends), so the first migrates and the others find the schema current.
    SQLite's BEGIN IMMEDIATE already lets only one writer in. Returns the revision."""
    if await schema_revision(engine) == SCHEMA_HEAD:
        return SCHEMA_HEAD  # the common start: nothing to do, no Alembic loaded
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        return await connection.run_sync(_upgrade)


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    async with engine.connect() as connection:
        try:
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
        except DBAPIError:  # no such table yet (an empty database)
            return None
