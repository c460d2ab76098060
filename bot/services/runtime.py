"""Everything a running Tijdig needs, assembled once from the settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings
from bot.content.loader import FlowError, load_flows
from bot.content.model import Flow
from bot.engine import Engine
from bot.i18n import available_locales, translator
from bot.services.review import first_screen_questions
from bot.storage.crypto import Cipher, DataKeyError, load_or_create_key
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.models import KeyCheck
from bot.storage.person_keys import open_keys

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    flow: Flow
    engine: Engine
    db: AsyncEngine
    sessions: async_sessionmaker[Any]
    cipher: Cipher
    notices: list[str] = field(default_factory=list)
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work. On SQLite, this process's writers queue here, in order, rather
        than at the file lock, where SQLite's busy handler makes waiters sleep and retry."""
        lock = self._write_lock if self.settings.is_sqlite else contextlib.nullcontext()
        async with lock, self.sessions() as session, session.begin():
            yield session

    @classmethod
    async def create(cls, settings: Settings) -> Runtime:
        flow = load_flow(settings)
        key_file = settings.sqlite_path.with_suffix(".key") if settings.sqlite_path else None
        try:
            master, notice = load_or_create_key(settings.data_key, key_file, settings.sqlite_path)
        except DataKeyError as exc:
            raise ConfigError(f"{exc}.") from None
        except OSError as exc:
            raise ConfigError(f"The data key file {key_file} cannot be made ({exc}).") from None
        db = await open_database(settings)
        await migrate(db)
        cipher = Cipher.from_master(master)
        sessions = session_factory(db)
        try:
            await check_key(sessions, cipher)
            cipher = await open_keys(sessions, cipher)
        except DataKeyError:
            await db.dispose()
            raise ConfigError(
                "DATA_KEY is not the key this database was written with; use the original key "
                "(for the SQLite default: the .key file beside the database)."
            ) from None
        engine = Engine(flow, translator, available_locales())
        engine.review_items = first_screen_questions(flow)
        return cls(
            settings=settings,
            flow=flow,
            engine=engine,
            db=db,
            sessions=sessions,
            cipher=cipher,
            notices=[notice] if notice else [],
        )

    async def close(self) -> None:
        await self.db.dispose()


async def open_database(settings: Settings) -> AsyncEngine:
    """An engine for DATABASE_URL that is known to answer; a wrong setting says so plainly."""
    try:
        db = create_engine(settings.database_url)
    except (OSError, ValueError, ArgumentError) as exc:
        raise ConfigError(f"The database at DATABASE_URL cannot be used ({exc}).") from None
    try:
        async with db.connect():  # only reaching the database is a setting's problem
            pass
    except OSError as exc:
        await db.dispose()
        raise ConfigError(f"The database at DATABASE_URL cannot be reached ({exc}).") from None
    except DBAPIError as exc:  # reached, but refused: no such database, wrong password...
        await db.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(f"The database at DATABASE_URL cannot be used ({reason}).") from None
    return db


async def migrate_only(settings: Settings) -> str | None:
    """`python -m bot migrate`: bring the database to the newest schema, then stop."""
    db = await open_database(settings)
    try:
        return await migrate(db)
    finally:
        await db.dispose()


KEY_CHECK = b"tijdig key check"


async def check_key(sessions: async_sessionmaker[Any], cipher: Cipher) -> None:
    """The first start stores a value encrypted with the key; later starts must read it."""
    for attempt in range(2):
        try:
            async with sessions() as session, session.begin():
                row = await session.get(KeyCheck, 1)
                if row is None:
                    session.add(KeyCheck(id=1, value_enc=cipher.encrypt(KEY_CHECK, "key.check")))
                elif cipher.decrypt(row.value_enc, "key.check") != KEY_CHECK:
                    raise DataKeyError("unexpected key check value")
            return
        except IntegrityError:
            # Another process starting at the same moment stored it first: read theirs.
            if attempt:
                raise


def load_flow(settings: Settings) -> Flow:
    try:
        flows = load_flows(settings.flows_dir)
    except FlowError as exc:
        first = exc.issues[0]
        more = f" (and {len(exc.issues) - 1} more; run `python -m bot flows check`)"
        raise ConfigError(
            f"The conversation content has a problem: {first}{more if len(exc.issues) > 1 else ''}"
        ) from None
    if len(flows) == 1:
        return next(iter(flows.values()))
    if "tijdig" in flows:
        return flows["tijdig"]
    raise ConfigError(f"There are several flows in {settings.flows_dir} and none is 'tijdig'.")
