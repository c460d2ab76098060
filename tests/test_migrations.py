"""The Alembic migrations build exactly the schema the models describe.

Why: Tijdig migrates at every start. A model changed without a migration (or the other way
round) would work in tests that create tables from the models and then fail on a real
database; comparing a migrated database with the models catches that on both databases.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import bot.storage
from bot.config import SETTING_NAMES
from bot.storage.db import SCHEMA_HEAD, alembic_config, create_engine, migrate
from bot.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent

# Models of every storage module (features add their own tables).
for _module in pkgutil.iter_modules(bot.storage.__path__):
    if _module.name != "migrations":
        importlib.import_module(f"bot.storage.{_module.name}")


def schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _plain(index: dict[str, Any]) -> dict[str, Any]:
    """An index as text (a partial index's WHERE clause is an object without a value repr)."""
    options = {k: str(v) for k, v in (index.get("dialect_options") or {}).items()}
    return {**index, "dialect_options": options}


def schema_snapshot(connection: Connection) -> dict[str, object]:
    inspector = inspect(connection)
    return {
        table: (
            sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            sorted(str(sorted(_plain(i).items())) for i in inspector.get_indexes(table)),
            sorted(str(sorted(f.items())) for f in inspector.get_foreign_keys(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(schema_diff)
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == [], "models and migrations differ; run `alembic revision --autogenerate`"
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


async def test_migrating_twice_changes_nothing(database_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            first = await connection.run_sync(schema_snapshot)
        await migrate(engine)
        async with engine.connect() as connection:
            second = await connection.run_sync(schema_snapshot)
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
    finally:
        await engine.dispose()
    assert first == second
    assert versions == [(head,)]


def test_migrations_form_one_line() -> None:
    """One head and no branches: two features each adding a migration must be merged."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_the_schema_head_a_start_compares_with_is_the_newest_migration() -> None:
    """A start on a current database skips Alembic by comparing with SCHEMA_HEAD: a new
    migration must move it, or no database would ever get the new migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == SCHEMA_HEAD, f"set SCHEMA_HEAD in bot/storage/db.py to {head!r}"


def test_three_processes_migrating_at_once_all_succeed(postgres_url: str) -> None:
    """Why: every process migrates at start; three started together on an empty PostgreSQL
    database crashed with duplicate keys before the advisory lock. Three real
    `python -m bot migrate` processes start at the same moment here."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    env = {**clean_environ(), "DATABASE_URL": postgres_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=60) for p in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert f"revision {head}" in out


def clean_environ() -> dict[str, str]:
    names = {name.upper() for name in SETTING_NAMES}
    return {k: v for k, v in os.environ.items() if k.upper() not in names}


def test_migrate_command_brings_an_empty_database_to_the_newest_schema(tmp_path: Path) -> None:
    """Why: a deployment migrates once before starting the new version's processes."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    env = {**clean_environ(), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"revision {head}" in done.stdout
    assert (tmp_path / "m.db").exists()


async def test_the_own_person_index_is_partial_on_both_databases(database_url: str) -> None:
    """One person of their own per chat user, while the same chat user can be a relative
    of others: the unique index holds only for role 'self'. Alembic's comparison does not
    read an index's WHERE (and the model states it for SQLite only), so this checks the
    migrated database itself."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            indexes = await connection.run_sync(lambda c: inspect(c).get_indexes("participant"))
    finally:
        await engine.dispose()
    (own,) = [index for index in indexes if index["name"] == "uq_participant_self"]
    assert own["unique"] and own["column_names"] == ["channel", "lookup_key"]
    where = " ".join(str(v) for k, v in own.get("dialect_options", {}).items() if "where" in k)
    assert "role" in where and "'self'" in where, own
