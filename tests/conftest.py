"""Shared fixtures: a demo flow, real databases (a SQLite file; PostgreSQL when it answers)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import SETTING_NAMES, Settings, load_settings
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.crypto import new_key_text

ROOT = Path(__file__).resolve().parent.parent
DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
PG_ADMIN_DSN = os.environ.get("TIJDIG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PG_REQUIRED = os.environ.get("TIJDIG_REQUIRE_POSTGRES") == "1"

REDIS_URL = os.environ.get("TIJDIG_TEST_REDIS", "redis://127.0.0.1:6379/0")
REDIS_REQUIRED = os.environ.get("TIJDIG_REQUIRE_REDIS") == "1"

_pg_state: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile the project once, before the workers start: many tests start
    `python -m bot` processes, and where PYTHONDONTWRITEBYTECODE is set (as on the CI
    machine) each would otherwise compile every module of bot/ again (0.2-0.4 s each)."""
    if not hasattr(config, "workerinput"):
        import compileall

        for folder in ("bot", "tests"):
            compileall.compile_dir(ROOT / folder, quiet=2)


def postgres_unavailable() -> str | None:
    """None when the PostgreSQL test server answers, else the reason to skip."""
    if "reason" not in _pg_state:
        _pg_state["reason"] = asyncio.run(_probe_postgres())
    return _pg_state["reason"]


async def _probe_postgres() -> str | None:
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed"
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {PG_ADMIN_DSN} does not answer ({type(exc).__name__})"
    await connection.close()
    return None


def require_postgres() -> None:
    reason = postgres_unavailable()
    if reason:
        if PG_REQUIRED:
            pytest.fail(f"TIJDIG_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    require_postgres()
    import asyncpg

    name = f"tijdig_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_url() -> str:
    """The Redis server the shared limits use; a test that needs it fails under
    TIJDIG_REQUIRE_REDIS=1 (CI) when it does not answer, and skips otherwise."""
    if "redis" not in _pg_state:
        _pg_state["redis"] = asyncio.run(_probe_redis())
    reason = _pg_state["redis"]
    if reason:
        if REDIS_REQUIRED:
            pytest.fail(f"TIJDIG_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)
    return REDIS_URL


async def _probe_redis() -> str | None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        return f"Redis at {REDIS_URL} does not answer ({type(exc).__name__})"
    finally:
        await client.aclose()
    return None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tijdig.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses this runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def data_key() -> str:
    return new_key_text()


@pytest.fixture
def settings(database_url: str, data_key: str) -> Settings:
    return load_settings(
        database_url=database_url,
        data_key=data_key,
        flows_dir=DEMO_FLOWS,
        _env_file=None,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await Runtime.create(settings)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def service(runtime: Runtime) -> ConversationService:
    return ConversationService(runtime)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TIJDIG/Telegram settings leak in from the developer's shell or .env."""
    for name in list(os.environ):
        if name.upper() in {f.upper() for f in SETTING_NAMES}:
            monkeypatch.delenv(name, raising=False)
