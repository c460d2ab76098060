"""`python -m bot rotate-key`: re-wrap every person key under a new DATA_KEY.

Stop every Tijdig process first: a process still running holds the old key and would wrap
new person keys with it. The content itself is not re-encrypted; only the person keys, the
database's lookup secret and the key check are. Afterwards the old DATA_KEY opens nothing
in this database; destroy it, and with it every backup made before (that is how an erase
reaches old backups: see docs/security.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from bot.config import ConfigError, Settings
from bot.storage.crypto import (
    Cipher,
    DataKeyError,
    load_or_create_key,
    new_key_text,
    parse_key,
    write_key_file,
)
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.person_keys import rotate


async def rotate_data_key(settings: Settings, new_key: str) -> int:
    """Re-wrap under `new_key` (base64); returns the number of person keys."""
    key_file = key_file_of(settings)
    try:
        master, _ = load_or_create_key(settings.data_key, None if key_file is None else key_file)
    except DataKeyError as exc:
        raise ConfigError(f"{exc}.") from None
    new = Cipher.from_master(parse_key(new_key))
    old = Cipher.from_master(master)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        try:
            return await rotate(session_factory(engine), old, new)
        except DataKeyError:
            raise ConfigError(
                "DATA_KEY is not the key this database was written with; nothing was changed."
            ) from None
        except DBAPIError as exc:
            raise ConfigError(
                f"The database at DATABASE_URL cannot be used ({exc.orig})."
            ) from None
    finally:
        await engine.dispose()


def key_file_of(settings: Settings) -> Path | None:
    return settings.sqlite_path.with_suffix(".key") if settings.sqlite_path else None


async def rotate_key_command(settings: Settings) -> int:
    """With DATA_KEY set: print the new key for the operator to put in its place (from
    NEW_DATA_KEY when that is set). With the key file: replace the file."""
    configured = os.environ.get("NEW_DATA_KEY")
    new_key = configured.strip() if configured else new_key_text()
    try:
        parse_key(new_key)
    except DataKeyError as exc:
        raise ConfigError(f"NEW_DATA_KEY is not valid: {exc}.") from None
    key_file = key_file_of(settings)
    uses_file = settings.data_key is None and key_file is not None
    if not uses_file:
        count = await rotate_data_key(settings, new_key)
        print(f"Re-wrapped {count} person key(s). The database now opens only with the new key.")
        if not configured:
            print("Put this in DATA_KEY (and nowhere else) before the next start:")
            print(new_key)
        return 0
    assert key_file is not None
    if not key_file.exists():
        raise ConfigError(f"There is no key file {key_file} to rotate.")
    pending = key_file.with_name(key_file.name + ".new")
    if pending.exists():
        raise ConfigError(
            f"{pending} exists: an earlier rotation stopped half-way. If Tijdig starts with "
            f"{key_file}, delete {pending}; otherwise move it to {key_file}."
        )
    write_key_file(pending, new_key)  # on disk before the database depends on it
    try:
        count = await rotate_data_key(settings, new_key)
    except BaseException:
        pending.unlink()
        raise
    os.replace(pending, key_file)
    directory = os.open(key_file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    print(f"Re-wrapped {count} person key(s); the new key is in {key_file}.", file=sys.stderr)
    print("Replace every copy of the old key file (backups too) with the new one.", file=sys.stderr)
    return 0
