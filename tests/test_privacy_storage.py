"""Erase means gone, and lengths reveal nothing (issue 12, points 1, 2, 7 and 11).

Why: a person who types /verwijderen is told "Alles is verwijderd". That must hold for
every byte on disk, including the SQLite -wal file and freed pages, and even for someone
who has DATA_KEY (an operator, or a thief with the key file). And a reader of the database
must not learn which option someone chose from the length of the ciphertext.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from bot.config import ConfigError, Settings, load_settings
from bot.content.loader import load_flows
from bot.content.model import QuestionType
from bot.i18n import PROJECT_ROOT
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.storage.crypto import (
    KEY_ID_BYTES,
    NONCE_BYTES,
    PERSON_VERSION,
    WRAP_VERSION,
    Cipher,
    DataKeyError,
    PersonKey,
    new_key_text,
    parse_key,
)
from bot.storage.db import alembic_config, create_engine
from bot.storage.models import (
    Answer,
    ConversationRow,
    KeyCheck,
    Participant,
    Person,
    PersonKeyRow,
)
from bot.storage.person_keys import PersonKeys
from bot.storage.repository import Repository
from tests.conftest import DEMO_FLOWS
from tests.test_storage import CHANNEL, chat_for, latest, person_id

SECRET_NAME = "Wilhelmina Verdwijnt"
SECRET_TEXT = "Mijn geheim: de sleutel ligt onder de bloempot bij de achterdeur"


def settings_for(url: str, key: str | None, flows: Path = DEMO_FLOWS) -> Settings:
    return load_settings(database_url=url, data_key=key, flows_dir=flows, _env_file=None)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_files(settings: Settings) -> dict[str, bytes]:
    path = settings.sqlite_path
    assert path is not None
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}


async def person_material(runtime: Runtime, pid: int) -> tuple[PersonKeyRow, list[bytes]]:
    """The person's wrapped key row and every ciphertext about them, as they are stored."""
    async with runtime.sessions() as session:
        key_row = await session.scalar(select(PersonKeyRow).where(PersonKeyRow.person_id == pid))
        participant_ids = select(Participant.id).where(Participant.person_id == pid)
        blobs = [
            *(await session.scalars(select(Answer.value_enc).where(Answer.person_id == pid))),
            *(await session.scalars(select(Person.name_enc).where(Person.id == pid))),
            *(
                await session.scalars(
                    select(Participant.address_enc).where(Participant.person_id == pid)
                )
            ),
            *(
                await session.scalars(
                    select(ConversationRow.context_enc).where(
                        ConversationRow.participant_id.in_(participant_ids)
                    )
                )
            ),
        ]
    assert key_row is not None
    return key_row, [b for b in blobs if b is not None]


def keys_recoverable_with(data_key: str, raw: bytes) -> list[bytes]:
    """Every person key that anyone holding DATA_KEY can unwrap from these bytes: try each
    place where a wrapped key (0x03 + nonce + 32 + 16 bytes) could start, with every key id
    found in a person_key row's hex id or a 0x02 ciphertext in the same bytes."""
    cipher = Cipher.from_master(parse_key(data_key))
    key_ids = set()
    for at in range(len(raw) - 1 - KEY_ID_BYTES):
        if raw[at : at + 1] == PERSON_VERSION:
            key_ids.add(raw[at + 1 : at + 1 + KEY_ID_BYTES])
    for word in raw.split():
        for at in range(len(word) - 31):
            chunk = word[at : at + 32]
            try:
                key_ids.add(bytes.fromhex(chunk.decode("ascii")))
            except ValueError:
                continue
    size = 1 + NONCE_BYTES + 32 + 16
    found = []
    starts = [i for i in range(len(raw) - size + 1) if raw[i : i + 1] == WRAP_VERSION]
    for key_id in key_ids:
        for at in starts:
            try:
                found.append(cipher.unwrap(raw[at : at + size], key_id))
            except DataKeyError:
                continue
    return found


async def fill_in(service: ConversationService, user: str) -> None:
    chat = await chat_for(service, user).ready(name=SECRET_NAME)
    await chat.open_topic("Wat voor u belangrijk is")
    await chat.say(SECRET_TEXT)
    await chat.press("4")


async def erase(service: ConversationService, user: str) -> None:
    chat = chat_for(service, user)
    await chat.command("verwijderen")
    await chat.press("Ja, verwijder alles")
    assert "Alles is verwijderd" in chat.said


# -- erase means gone ----------------------------------------------------------------------------


async def test_after_verwijderen_no_byte_of_the_person_can_be_decrypted_from_any_file(
    sqlite_url: str, data_key: str
) -> None:
    settings = settings_for(sqlite_url, data_key)
    runtime = await Runtime.create(settings)
    try:
        service = ConversationService(runtime)
        await fill_in(service, "bob")  # someone who stays
        await fill_in(service, "anna")
        pid = await person_id(runtime, "anna")
        assert pid is not None
        key_row, blobs = await person_material(runtime, pid)
        async with runtime.sessions() as session:
            person_key = PersonKeys(session, runtime.cipher).unwrap(key_row)
        assert len(blobs) == 5  # two answers, a name, an address, a conversation
        before = b"".join(database_files(settings).values())
        assert person_key.key in keys_recoverable_with(data_key, before)  # the scan works

        await erase(service, "anna")

        # While the process still runs (the -wal is open) and after it stopped.
        for moment in ("running", "stopped"):
            if moment == "stopped":
                await runtime.close()
            for name, raw in database_files(settings).items():
                assert key_row.wrapped not in raw, f"{moment}: wrapped key in {name}"
                assert person_key.key_id not in raw, f"{moment}: a ciphertext in {name}"
                assert key_row.id.encode() not in raw, f"{moment}: the key row in {name}"
                for blob in blobs:
                    assert blob[-32:] not in raw, f"{moment}: a ciphertext in {name}"
                assert person_key.key not in keys_recoverable_with(data_key, raw), name
        # Bob's data is untouched.
        again = await Runtime.create(settings)
        try:
            assert (await latest(again, "bob"))["goede_dag"] == {"text": SECRET_TEXT}
        finally:
            await again.close()
    finally:
        await runtime.close()


async def test_a_copy_of_the_rows_cannot_be_read_after_the_erase(
    runtime: Runtime, service: ConversationService
) -> None:
    """Crypto-shredding: a copy of the ciphertexts (a replica, a dump of the answer table,
    a dead PostgreSQL tuple) is noise once the person key is gone, even with DATA_KEY."""
    await fill_in(service, "anna")
    pid = await person_id(runtime, "anna")
    assert pid is not None
    key_row, blobs = await person_material(runtime, pid)
    key_id = bytes.fromhex(key_row.id)
    assert all(blob[1 : 1 + KEY_ID_BYTES] == key_id for blob in blobs)  # each names its key

    await erase(service, "anna")

    async with runtime.sessions() as session:
        assert await session.get(PersonKeyRow, key_row.id) is None
        keys = PersonKeys(session, runtime.cipher)
        for blob in blobs:
            with pytest.raises(DataKeyError):
                keys.unwrap(await session.get(PersonKeyRow, key_row.id))
            # No other key there opens it either.
            for row in await session.scalars(select(PersonKeyRow)):
                with pytest.raises(DataKeyError):
                    keys.unwrap(row).decrypt(blob, "answer.value")


async def test_sqlite_deletes_overwrite_and_the_connection_pragmas_hold(
    sqlite_url: str, data_key: str
) -> None:
    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    try:
        async with runtime.db.connect() as connection:
            value = (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar()
    finally:
        await runtime.close()
    assert value == 1


# -- lengths reveal nothing ------------------------------------------------------------------------


def recorded_values(question) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every value the engine can record for a question with fixed answers."""
    if question.type in (QuestionType.CHOICE, QuestionType.YESNO):
        return [{"option": o.id} for o in question.options]
    if question.type is QuestionType.MULTI:
        ids = [o.id for o in question.options]
        return [{"options": [i]} for i in ids] + [{"options": ids}, {"options": []}]
    if question.type is QuestionType.SCALE:
        return [{"value": n} for n in range(1, 6)]
    return []


async def test_every_option_of_every_choice_question_encrypts_to_the_same_length(
    sqlite_url: str, data_key: str
) -> None:
    """Through the repository into the database, for the flow Tijdig ships."""
    flows = load_flows(PROJECT_ROOT / "flows")
    runtime = await Runtime.create(settings_for(sqlite_url, data_key, PROJECT_ROOT / "flows"))
    try:
        async with runtime.transaction() as session:
            repo = Repository(session, runtime.cipher)
            participant = await repo.create_participant(CHANNEL, "anna", "chat-anna")
            asked = 0
            for flow in flows.values():
                for question in flow.questions:
                    for value in recorded_values(question):
                        await repo.add_answer(
                            participant,
                            question.id,
                            value,
                            skipped=False,
                            together=False,
                            flow_version=1,
                        )
                        asked += 1
            await repo.add_answer(
                participant, "x", {}, skipped=True, together=False, flow_version=1
            )
        async with runtime.sessions() as session:
            lengths = {len(b) for b in await session.scalars(select(Answer.value_enc))}
    finally:
        await runtime.close()
    assert asked > 100
    assert len(lengths) == 1, f"answer lengths differ: {sorted(lengths)}"


def test_padding_hides_length_within_a_bucket_and_round_trips() -> None:
    key = PersonKey.new()
    short, long = key.encrypt(b"ja", "p"), key.encrypt(b"weet_niet" * 5, "p")
    assert len(short) == len(long)
    for size in (0, 1, 126, 127, 128, 5000, 10_000 * 4):
        value = os.urandom(size).replace(b"\x80", b"x")
        assert key.decrypt(key.encrypt(value, "p"), "p") == value
    assert key.decrypt(key.encrypt(b"ends in zero \x80\x00", "p"), "p") == b"ends in zero \x80\x00"


# -- key rotation --------------------------------------------------------------------------------


async def test_rotate_key_rewraps_every_person_key_under_a_new_data_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    from bot.storage.rotation import rotate_data_key

    old, new = new_key_text(), new_key_text()
    runtime = await Runtime.create(settings_for(sqlite_url, old))
    try:
        await fill_in(ConversationService(runtime), "anna")
        pid = await person_id(runtime, "anna")
        assert pid is not None
        _, blobs_before = await person_material(runtime, pid)
    finally:
        await runtime.close()

    count = await rotate_data_key(settings_for(sqlite_url, old), new)
    assert count == 1

    with pytest.raises(ConfigError, match="DATA_KEY is not the key"):
        await Runtime.create(settings_for(sqlite_url, old))
    rotated = await Runtime.create(settings_for(sqlite_url, new))
    try:
        assert (await latest(rotated, "anna"))["goede_dag"] == {"text": SECRET_TEXT}
        _, blobs_after = await person_material(rotated, pid)
        assert blobs_after == blobs_before  # the content was not re-encrypted, only the keys
        # The same person is still found by their chat id (the lookup key survived).
        chat = chat_for(ConversationService(rotated), "anna")
        await chat.command("overzicht")
        assert "Wilt u meedoen?" not in chat.said
    finally:
        await rotated.close()


async def test_rotate_key_command_with_the_key_file(
    sqlite_url: str, tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.storage.rotation import rotate_key_command

    settings = settings_for(sqlite_url, None)
    runtime = await Runtime.create(settings)
    try:
        await fill_in(ConversationService(runtime), "anna")
    finally:
        await runtime.close()
    key_file = tmp_path / "tijdig.key"
    before = key_file.read_text()

    assert await rotate_key_command(settings) == 0
    after = key_file.read_text()
    assert after != before
    assert mode(key_file) == 0o600
    assert not [name for name in names(tmp_path) if name.endswith(".new")]
    out = capsys.readouterr()
    assert after.strip() not in out.out + out.err  # the new key is in the file, not printed
    assert before.strip() not in out.out + out.err
    again = await Runtime.create(settings)
    try:
        assert (await latest(again, "anna"))["goede_dag"] == {"text": SECRET_TEXT}
    finally:
        await again.close()


# -- older databases ----------------------------------------------------------------------------


async def test_a_database_from_before_person_keys_is_moved_to_them(
    sqlite_url: str, data_key: str
) -> None:
    """Rows sealed with DATA_KEY itself (revision 0003) are re-sealed with person keys at the
    first start, and the returning person is still recognised."""
    cipher = Cipher.from_master(parse_key(data_key))
    engine = create_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0003"))
    db_path = sqlite_url.split(":///", 1)[1]
    await engine.dispose()
    raw = sqlite3.connect(db_path)
    with raw:
        raw.execute(
            "INSERT INTO key_check (id, value_enc) VALUES (1, ?)",
            (cipher.encrypt(b"tijdig key check", "key.check"),),
        )
        raw.execute(
            "INSERT INTO person (id, name_enc, mode, consented_at, created_at) "
            "VALUES (1, ?, 'alone', '2026-01-01', '2026-01-01')",
            (cipher.encrypt(SECRET_NAME.encode(), "person.name"),),
        )
        raw.execute(
            "INSERT INTO participant (id, person_id, channel, lookup_key, address_enc, role, "
            "created_at) VALUES (1, 1, ?, ?, ?, 'self', '2026-01-01')",
            (
                CHANNEL,
                cipher.lookup(CHANNEL, "anna"),
                cipher.encrypt(b"chat-anna", "participant.address"),
            ),
        )
        raw.execute(
            "INSERT INTO answer (person_id, participant_id, question_id, flow_version, "
            "value_enc, skipped, together, role, created_at) "
            "VALUES (1, 1, 'goede_dag', 1, ?, 0, 0, 'self', '2026-01-01')",
            (cipher.encrypt(b'{"text": "Tuinieren"}', "answer.value"),),
        )
    raw.close()

    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    try:
        assert await person_id(runtime, "anna") == 1
        assert await latest(runtime, "anna") == {"goede_dag": {"text": "Tuinieren"}}
        key_row, blobs = await person_material(runtime, 1)
        assert len(blobs) == 3
        assert all(b[1 : 1 + KEY_ID_BYTES] == bytes.fromhex(key_row.id) for b in blobs)
        async with runtime.sessions() as session:
            repo = Repository(session, runtime.cipher)
            person = await repo.person(1)
            assert person is not None and repo.person_name(person) == SECRET_NAME
            check = await session.get(KeyCheck, 1)
            assert check is not None
    finally:
        await runtime.close()


# -- files and start-up ------------------------------------------------------------------------


async def test_database_files_are_private_and_a_new_data_folder_too(
    tmp_path: Path, clean_env: None
) -> None:
    folder = tmp_path / "nieuw"
    settings = settings_for(f"sqlite+aiosqlite:///{folder / 'tijdig.db'}", None)
    runtime = await Runtime.create(settings)
    try:
        await fill_in(ConversationService(runtime), "anna")
        modes = {name: mode(folder / name) for name in names(folder)}
    finally:
        await runtime.close()
    assert mode(folder) == 0o700
    assert {"tijdig.db", "tijdig.db-wal", "tijdig.key"} <= set(modes)
    assert all(mode == 0o600 for mode in modes.values()), modes


async def test_an_existing_world_readable_database_is_made_private(
    sqlite_url: str, data_key: str
) -> None:
    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    await runtime.close()
    path = Path(sqlite_url.split(":///", 1)[1])
    os.chmod(path, 0o644)
    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    await runtime.close()
    assert mode(path) == 0o600


async def test_a_missing_key_file_beside_a_database_refuses_and_writes_nothing(
    sqlite_url: str, tmp_path: Path, clean_env: None
) -> None:
    settings = settings_for(sqlite_url, None)
    runtime = await Runtime.create(settings)
    await runtime.close()
    (tmp_path / "tijdig.key").unlink()
    before = names(tmp_path)
    with pytest.raises(ConfigError, match=r"key file .*tijdig.key is missing"):
        await Runtime.create(settings)
    assert names(tmp_path) == before
    assert not (tmp_path / "tijdig.key").exists()


async def test_a_database_with_tables_of_its_own_is_one_clear_sentence(
    sqlite_url: str, data_key: str
) -> None:
    path = sqlite_url.split(":///", 1)[1]
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, naam TEXT)")
    raw.commit()
    raw.close()
    with pytest.raises(ConfigError, match="already has tables that Tijdig did not make"):
        await Runtime.create(settings_for(sqlite_url, data_key))


async def test_a_database_of_another_alembic_program_is_one_clear_sentence(
    sqlite_url: str, data_key: str
) -> None:
    path = sqlite_url.split(":///", 1)[1]
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    raw.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    raw.commit()
    raw.close()
    with pytest.raises(ConfigError, match="set up by another program"):
        await Runtime.create(settings_for(sqlite_url, data_key))


async def test_a_corrupt_sqlite_file_is_one_clear_sentence(sqlite_url: str, data_key: str) -> None:
    Path(sqlite_url.split(":///", 1)[1]).write_bytes(b"this is not a database" * 200)  # noqa: ASYNC240
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        await Runtime.create(settings_for(sqlite_url, data_key))
