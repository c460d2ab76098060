"""Storage through the conversation service, on a SQLite file and on PostgreSQL.

Why: a person trusts that what the bot acknowledged is kept, that nobody reading the
database sees their words, that a change of mind keeps the history, and that "alles
verwijderen" leaves nothing behind. These tests check exactly that on both databases.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import pkgutil
import sqlite3
import stat
import time
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text

import bot.storage
from bot.config import ConfigError, Settings, load_settings
from bot.engine import Text
from bot.services.conversation import ConversationService
from bot.services.runtime import Runtime
from bot.services.views import conversation_of
from bot.storage.answer_cache import DECRYPTED
from bot.storage.crypto import Cipher, DataKeyError, new_key_text, parse_key
from bot.storage.db import create_engine
from bot.storage.models import Answer, Base, ConversationRow, Participant, Person
from bot.storage.repository import Repository
from bot.testing import ChatDriver

DEMO_FLOWS = Path(__file__).resolve().parent / "data" / "flows"
CHANNEL = "test"

# Every table of every storage module (features add tables), so the erase test covers them.
for _module in pkgutil.iter_modules(bot.storage.__path__):
    if _module.name not in {"migrations"}:
        importlib.import_module(f"bot.storage.{_module.name}")

_event_ids = itertools.count(1)


def chat_for(service: ConversationService, user: str) -> ChatDriver:
    """One person talking to the service, pressing buttons by their label."""
    return ChatDriver.on_service(service, user=user, chat_id=f"chat-{user}", channel=CHANNEL)


async def person_id(runtime: Runtime, user: str) -> int | None:
    async with runtime.sessions() as session:
        participant = await Repository(session, runtime.cipher).find_participant(CHANNEL, user)
        return participant.person_id if participant else None


async def history(runtime: Runtime, user: str) -> list:
    pid = await person_id(runtime, user)
    assert pid is not None
    async with runtime.sessions() as session:
        return await Repository(session, runtime.cipher).answer_history(pid)


async def latest(runtime: Runtime, user: str) -> dict[str, dict]:
    pid = await person_id(runtime, user)
    if pid is None:
        return {}
    async with runtime.sessions() as session:
        records = await Repository(session, runtime.cipher).latest_answers(pid)
    return {qid: ({"skipped": True} if r.skipped else r.value) for qid, r in records.items()}


NOT_ABOUT_ANYONE = {"key_check", "database_secret"}  # written once, at first start


async def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows per table, for every table that can hold something about a person."""
    async with runtime.sessions() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name not in NOT_ABOUT_ANYONE
        }


def settings_for(url: str, key: str | None) -> Settings:
    return load_settings(database_url=url, data_key=key, flows_dir=DEMO_FLOWS, _env_file=None)


# -- answers --------------------------------------------------------------------------------


async def test_changing_an_answer_adds_a_row_and_the_latest_wins(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await chat_for(service, "anna").ready(mode="Samen met iemand")
    await chat.open_topic("Wonen")
    await chat.press("In mijn eigen huis")
    await chat.press("Terug")
    assert "Uw antwoord tot nu toe: In mijn eigen huis" in chat.last_text
    await chat.press("Waar zorg is")

    assert (await latest(runtime, "anna"))["woonplek"] == {"option": "zorg"}
    rows = [r for r in await history(runtime, "anna") if r.question_id == "woonplek"]
    assert [r.value for r in rows] == [{"option": "thuis"}, {"option": "zorg"}]
    for row in rows:
        assert row.together is True  # filled in together, as chosen
        assert row.role == "self"
        assert row.participant_id is not None
        assert row.created_at is not None
        assert row.flow_version == 1
    assert rows[0].created_at <= rows[1].created_at
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Answer).where(Answer.question_id == "woonplek")
        )
    assert count == 2


async def test_answers_for_someone_else_are_marked_as_given_by_a_relative(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await chat_for(service, "zoon").ready(mode="Voor iemand anders", name="mijn vader")
    await chat.open_topic("Wonen")
    await chat.press("In mijn eigen huis")
    [row] = await history(runtime, "zoon")
    assert row.role == "relative"
    assert row.together is False


async def test_skipped_is_stored_as_skipped(service: ConversationService, runtime: Runtime) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wonen")
    await chat.press("Overslaan")
    assert await latest(runtime, "anna") == {"woonplek": {"skipped": True}}


# -- encryption --------------------------------------------------------------------------------


SECRET_NAME = "Wilhelmina Zeldzaam"
SECRET_TEXT = "Ik wil graag in mijn huisje aan de Vecht blijven, met mijn kat Pluis"
SECRET_PERSON = "Hendrik Geheimhouder"
SECRET_PHONE = "0612398745"


async def test_free_text_and_names_are_not_readable_in_the_database(
    service: ConversationService, runtime: Runtime, settings: Settings
) -> None:
    user = "user-8675309"
    chat = await chat_for(service, user).ready(name=SECRET_NAME)
    await chat.open_topic("Wat voor u belangrijk is")
    await chat.say(SECRET_TEXT)
    await chat.press("Later")
    await chat.press("Het levenseinde")
    await chat.press("Ja, we beginnen")
    await chat.say(SECRET_PERSON)
    await chat.press("Zoon")
    await chat.say(SECRET_PHONE)
    assert (await latest(runtime, user))["goede_dag"] == {"text": SECRET_TEXT}

    secrets = [SECRET_NAME, SECRET_TEXT, SECRET_PERSON, SECRET_PHONE, user, f"chat-{user}"]
    async with runtime.sessions() as session:
        blobs = [
            *(await session.scalars(select(Answer.value_enc))),
            *(await session.scalars(select(Person.name_enc))),
            *(await session.scalars(select(Participant.address_enc))),
            *(await session.scalars(select(ConversationRow.context_enc))),
        ]
        lookup_keys = list(await session.scalars(select(Participant.lookup_key)))
    assert len(blobs) == 5  # two answers, a name, an address, a conversation
    for blob in blobs:
        assert blob is not None
        for secret in secrets:
            assert secret.encode() not in blob
            assert secret.encode("utf-16-le") not in blob
    [lookup_key] = lookup_keys
    assert user not in lookup_key
    assert lookup_key != user

    if settings.sqlite_path is not None:  # nothing in the files on disk either
        for path in settings.sqlite_path.parent.glob(settings.sqlite_path.name + "*"):
            raw = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in raw, f"{secret!r} readable in {path.name}"


# -- transactions ----------------------------------------------------------------------------


async def test_state_and_answer_are_committed_together(
    service: ConversationService, settings: Settings
) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wonen")
    await chat.press("Waar zorg is")
    assert "Denkt u erover om te verhuizen?" in chat.last_text

    fresh = await Runtime.create(settings)
    try:
        pid = await person_id(fresh, "anna")
        assert pid is not None
        async with fresh.sessions() as session:
            repo = Repository(session, fresh.cipher)
            participant = await repo.find_participant(CHANNEL, "anna")
            assert participant is not None
            conversation = conversation_of(
                await repo.load_conversation(participant.id), default_locale="nl"
            )
            answers = await repo.latest_answers(pid)
        assert conversation.state == "question"
        assert conversation.question == "verhuizen"
        assert answers["woonplek"].value == {"option": "zorg"}
        # and the other process carries on exactly there
        again = chat_for(ConversationService(fresh), "anna")
        await again.start()
        assert "Denkt u erover om te verhuizen?" in again.last_text
    finally:
        await fresh.close()


async def test_a_failure_halfway_stores_neither_state_nor_answer(
    service: ConversationService,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wonen")
    press = chat.choice("Waar zorg is")

    async def broken(self: Repository, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Repository, "save_conversation", broken)  # after the answer's INSERT
    with pytest.raises(RuntimeError):
        await service.handle(CHANNEL, press)
    monkeypatch.undo()

    assert await latest(runtime, "anna") == {}
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant(CHANNEL, "anna")
        assert participant is not None
        conversation = conversation_of(
            await repo.load_conversation(participant.id), default_locale="nl"
        )
    assert conversation.question == "woonplek"
    # the same press, delivered again, now works
    await chat.send(press)
    assert (await latest(runtime, "anna"))["woonplek"] == {"option": "zorg"}


async def test_a_redelivered_event_is_ignored(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wat voor u belangrijk is")
    typed = Text(text="Een wandeling", **chat.ids())
    first = await chat.send(typed)
    assert not first.duplicate
    second = await service.handle(CHANNEL, typed)
    assert second.duplicate
    assert second.replies == []
    press = chat.choice("3")
    await chat.send(press)
    again = await service.handle(CHANNEL, press)
    assert again.duplicate
    rows = await history(runtime, "anna")
    assert [(r.question_id, r.value) for r in rows] == [
        ("goede_dag", {"text": "Een wandeling"}),
        ("levenskwaliteit", {"value": 3}),
    ]


# -- erasing ------------------------------------------------------------------------------------


async def test_delete_leaves_no_row_about_the_person(
    service: ConversationService, runtime: Runtime
) -> None:
    other = await chat_for(service, "bob").ready(name="Bob")
    await other.open_topic("Wonen")
    await other.press("In mijn eigen huis")
    before = await row_counts(runtime)
    assert before["answer"] == 1

    chat = await chat_for(service, "anna").ready(mode="Samen met iemand", name="Anna")
    await chat.open_topic("Wat voor u belangrijk is")
    await chat.say("Met de kleinkinderen naar het strand")
    await chat.press("4")
    await chat.command("mijngegevens")
    await chat.command("verwijderen")
    assert "Weet u het zeker?" in chat.last_text
    await chat.press("Ja, verwijder alles")
    assert "Alles is verwijderd" in chat.said

    assert await person_id(runtime, "anna") is None
    assert await row_counts(runtime) == before  # every table: only Bob's rows are left
    assert (await latest(runtime, "bob")) == {"woonplek": {"option": "thuis"}}

    # starting again is a fresh start
    await chat.start()
    assert "Wilt u meedoen?" in chat.last_text
    assert await latest(runtime, "anna") == {}


async def test_delete_cancelled_keeps_everything(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wonen")
    await chat.press("In mijn eigen huis")
    await chat.command("verwijderen")
    await chat.press("Nee, toch niet")
    assert "Denkt u erover om te verhuizen?" in chat.last_text
    assert await latest(runtime, "anna") == {"woonplek": {"option": "thuis"}}


async def test_declining_consent_keeps_nothing(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = chat_for(service, "anna")
    await chat.start()
    await chat.press("Nee, liever niet")
    assert await person_id(runtime, "anna") is None
    assert all(count == 0 for count in (await row_counts(runtime)).values())


async def test_nothing_is_stored_before_consent_not_even_the_chat(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = chat_for(service, "nieuw")
    await chat.start()
    await chat.say("hallo")
    await chat.command("privacy")
    await chat.command("taal", "en")
    assert chat.message is not None and chat.message.flat_buttons[0].screen == "consent.en"
    assert all(count == 0 for count in (await row_counts(runtime)).values())
    await chat.press(chat.message.flat_buttons[0].label)  # yes, in English
    counts = await row_counts(runtime)
    assert counts["person"] == counts["participant"] == counts["conversation"] == 1
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant(CHANNEL, "nieuw")
        assert participant is not None
        conversation = conversation_of(
            await repo.load_conversation(participant.id), default_locale="nl"
        )
    assert conversation.consented and conversation.locale == "en", "the language chosen stays"


async def test_a_typed_yes_to_the_english_consent_keeps_english(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = chat_for(service, "english")
    await chat.start()
    await chat.command("taal", "en")
    await chat.say("yes")
    async with runtime.sessions() as session:
        repo = Repository(session, runtime.cipher)
        participant = await repo.find_participant(CHANNEL, "english")
        assert participant is not None
        conversation = conversation_of(
            await repo.load_conversation(participant.id), default_locale="nl"
        )
    assert conversation.consented and conversation.locale == "en"


async def test_typed_yes_gives_consent_to_someone_not_stored_yet(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = chat_for(service, "typist")
    await chat.start()
    await chat.say("ja")
    assert "Wie vult dit in?" in chat.last_text
    assert await person_id(runtime, "typist") is not None


# -- concurrency --------------------------------------------------------------------------------


async def test_two_people_at_the_same_moment_both_land(
    service: ConversationService, runtime: Runtime
) -> None:
    anna, bob = chat_for(service, "anna"), chat_for(service, "bob")
    await asyncio.gather(anna.start(), bob.start())  # two new people created at once
    assert "Wilt u meedoen?" in anna.last_text and "Wilt u meedoen?" in bob.last_text
    for step in (
        lambda c: c.press("Ja, ik doe mee"),
        lambda c: c.press("Ik vul het zelf in"),
        lambda c: c.say(c.user.title()),
        lambda c: c.press("Wonen"),
        lambda c: c.press("begin"),
    ):
        await asyncio.gather(step(anna), step(bob))
    await asyncio.gather(anna.press("In mijn eigen huis"), bob.press("Waar zorg is"))
    await asyncio.gather(anna.press("Ja"), bob.press("Nee"))
    assert await latest(runtime, "anna") == {
        "woonplek": {"option": "thuis"},
        "verhuizen": {"option": "ja"},
    }
    assert await latest(runtime, "bob") == {
        "woonplek": {"option": "zorg"},
        "verhuizen": {"option": "nee"},
    }
    assert await person_id(runtime, "anna") != await person_id(runtime, "bob")


async def test_two_first_consents_of_one_person_racing_make_one_participant(
    service: ConversationService, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same person taps "Ja" on two phones, or Telegram delivers twice at once: the
    slower turn finds no participant, then loses the insert to the faster one. It must
    retry and carry on with the participant that exists, not fail or make a second one."""
    first = chat_for(service, "racer")
    await first.start()
    await first.press("Ja, ik doe mee")  # the faster turn: the participant now exists
    original = Repository.find_participant
    misses = [True]

    async def not_yet_committed(self: Repository, *args: object, **kwargs: object) -> object:
        if misses and misses.pop():
            return None  # what the slower turn saw before the faster one committed
        return await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Repository, "find_participant", not_yet_committed)
    second = chat_for(service, "racer")
    handled = await second.say("ja")  # consent typed on the consent screen shown earlier
    assert not misses, "the race was staged"
    assert "Wie vult dit in?" in handled.replies[-1].text  # type: ignore[union-attr]
    counts = await row_counts(runtime)
    assert counts["participant"] == counts["person"] == 1


async def test_many_people_at_once(service: ConversationService, runtime: Runtime) -> None:
    chats = [chat_for(service, f"user{n}") for n in range(8)]
    await asyncio.gather(*(c.ready(name=c.user) for c in chats))
    await asyncio.gather(*(c.open_topic("Wat voor u belangrijk is") for c in chats))
    await asyncio.gather(*(c.say(f"Een goede dag voor {c.user}") for c in chats))
    for chat in chats:
        assert await latest(runtime, chat.user) == {
            "goede_dag": {"text": f"Een goede dag voor {chat.user}"}
        }


# -- SQLite specifics ----------------------------------------------------------------------------


async def test_sqlite_connections_are_durable(sqlite_url: str, data_key: str) -> None:
    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    try:
        async with runtime.db.connect() as connection:
            values = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await runtime.close()
    assert values["journal_mode"] == "wal"
    assert values["synchronous"] == 2  # FULL
    assert values["foreign_keys"] == 1
    assert values["busy_timeout"] > 0


@pytest.mark.usefixtures("clean_env")
async def test_key_file_is_created_private_and_reused(sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(sqlite_url, None)
    key_file = tmp_path / "tijdig.key"
    runtime = await Runtime.create(settings)
    try:
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert len(runtime.notices) == 1 and str(key_file) in runtime.notices[0]
        chat = await chat_for(ConversationService(runtime), "anna").ready()
        await chat.open_topic("Wat voor u belangrijk is")
        await chat.say("Tuinieren")
    finally:
        await runtime.close()
    key = key_file.read_text()

    again = await Runtime.create(settings)
    try:
        assert again.notices == []
        assert key_file.read_text() == key
        assert await latest(again, "anna") == {"goede_dag": {"text": "Tuinieren"}}
    finally:
        await again.close()


async def test_a_wrong_data_key_is_a_clear_error(sqlite_url: str) -> None:
    right, wrong = new_key_text(), new_key_text()
    runtime = await Runtime.create(settings_for(sqlite_url, right))
    try:
        chat = await chat_for(ConversationService(runtime), "anna").ready()
        await chat.open_topic("Wat voor u belangrijk is")
        await chat.say("Tuinieren")
        pid = await person_id(runtime, "anna")
    finally:
        await runtime.close()

    with pytest.raises(ConfigError, match="DATA_KEY is not the key this database"):
        await Runtime.create(settings_for(sqlite_url, wrong))

    # Even past the start-up check, data written with one key never opens with another.
    other = await Runtime.create(settings_for(sqlite_url, right))
    other.cipher = Cipher.from_master(parse_key(wrong))
    try:
        async with other.sessions() as session:
            repo = Repository(session, other.cipher)
            with pytest.raises(DataKeyError, match="another DATA_KEY"):
                await repo.answer_history(pid)  # type: ignore[arg-type]
            person = await repo.person(pid)  # type: ignore[arg-type]
            assert person is not None
            with pytest.raises(DataKeyError, match="another DATA_KEY"):
                repo.person_name(person)
    finally:
        await other.close()


async def test_foreign_keys_are_enforced(runtime: Runtime) -> None:
    """On both databases an answer cannot point at a person that is not there."""
    from sqlalchemy.exc import IntegrityError

    async with runtime.sessions() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                session.add(
                    Answer(
                        person_id=999_999,
                        question_id="woonplek",
                        flow_version=1,
                        value_enc=b"x",
                    )
                )


async def test_a_writer_elsewhere_never_freezes_the_bot(sqlite_url: str, data_key: str) -> None:
    """Statements run on the event loop's thread (bot.storage.sqlite_inline), but taking
    the write lock must not: while another program holds it, the bot keeps serving (other
    tasks run) and the turn goes through as soon as the lock is free."""
    runtime = await Runtime.create(settings_for(sqlite_url, data_key))
    try:
        chat = await chat_for(ConversationService(runtime), "anna").ready()
        other = sqlite3.connect(sqlite_url.split(":///", 1)[1], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. a backup or an export, writing
        turn = asyncio.create_task(chat.open_topic("Wat voor u belangrijk is"))
        started = time.monotonic()
        for _ in range(20):  # the loop is free: these run on time while the turn waits
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 2, "the loop stood still (the busy timeout is 10 s)"
        assert not turn.done(), "the turn waits for the lock"
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(turn, 10)
        assert "Hoe ziet een goede dag" in chat.last_text
    finally:
        await runtime.close()


class SlowDisk(sqlite3.Connection):
    """A connection whose commits take 50 ms, as an fsync on a slow or network disk does."""

    spans: ClassVar[list[tuple[float, float]]] = []

    def commit(self) -> None:
        started = time.monotonic()
        time.sleep(0.05)
        super().commit()
        SlowDisk.spans.append((started, time.monotonic()))


async def test_slow_commits_wait_off_the_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Commits run on the loop's thread while they are quick (cheaper than a trip to a
    thread); where the disk makes them slow, they move to the worker thread after a
    commit or two, so the bot keeps serving others while one is on its way to the disk."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}"
    db = create_engine(url, connect_args={"timeout": 5, "factory": SlowDisk})
    beats: list[float] = []

    async def heartbeat() -> None:
        while True:
            beats.append(time.monotonic())
            await asyncio.sleep(0.002)

    beating = asyncio.create_task(heartbeat())
    try:
        SlowDisk.spans.clear()
        with caplog.at_level(logging.INFO, logger="bot.storage.sqlite_inline"):
            async with db.begin() as connection:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            for n in range(8):
                async with db.begin() as connection:
                    await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        served = [any(start < beat < end for beat in beats) for start, end in SlowDisk.spans]
        assert served[0] is False, "the first commit ran on the loop (nothing known yet)"
        assert all(served[-5:]), f"the loop stood still during a slow commit: {served}"
        assert "they now run on a worker thread" in caplog.text
        async with db.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar()
        assert count == 8
    finally:
        beating.cancel()
        await db.dispose()


async def test_a_change_made_by_another_process_shows_at_the_next_turn(
    settings: Settings,
) -> None:
    """Decrypted answers are kept between turns (bot.storage.answer_cache); the database
    stays the truth: an answer changed through another process is what the next turn,
    the summary and the history show, here and there."""
    here = await Runtime.create(settings)
    there = await Runtime.create(settings)
    try:
        chat = await chat_for(ConversationService(here), "anna").ready()
        await chat.open_topic("Wat voor u belangrijk is")
        await chat.say("Een wandeling")
        assert (await latest(here, "anna"))["goede_dag"] == {"text": "Een wandeling"}
        elsewhere = chat_for(ConversationService(there), "anna")
        await elsewhere.command("overzicht")
        await elsewhere.press("Wat voor u belangrijk is")
        await elsewhere.press("Beginnen")  # the next open question
        await elsewhere.press("Terug")  # back to the first
        await elsewhere.say("Koffie met de buren")
        assert (await latest(here, "anna"))["goede_dag"] == {"text": "Koffie met de buren"}
        await chat.command("samenvatting")
        assert "Koffie met de buren" in chat.said
        assert "Een wandeling" not in chat.said
    finally:
        await here.close()
        await there.close()


async def test_an_erased_person_leaves_nothing_decrypted_in_memory(
    service: ConversationService, runtime: Runtime
) -> None:
    chat = await chat_for(service, "anna").ready()
    await chat.open_topic("Wat voor u belangrijk is")
    await chat.say("Een wandeling")
    await chat.press("3")  # this turn reads the answer above
    pid = await person_id(runtime, "anna")
    assert pid is not None
    assert DECRYPTED.holds(pid), "kept while she chats"
    await chat.command("verwijderen")
    await chat.press("Ja, verwijder alles")
    assert not DECRYPTED.holds(pid)


@pytest.mark.postgres
async def test_a_turn_that_waited_for_the_lock_reads_the_conversation_saved_before_it(
    postgres_url: str, data_key: str
) -> None:
    """Two processes, one person (a double tap): the second turn waits for the first's lock
    on the participant and must then see where the first left the conversation, or it
    records the same answer again. (Rows joined to a locked row come from the snapshot
    taken before the wait: the conversation is read after the lock, on its own.)"""
    settings = load_settings(database_url=postgres_url, data_key=data_key, _env_file=None)
    runtime = await Runtime.create(settings)
    try:
        async with runtime.transaction() as session:
            repo = Repository(session, runtime.cipher)
            made = await repo.create_participant("telegram", "42", "42")
            await repo.save_conversation(made.id, "question", {"at": "levenskwaliteit"})
        locked, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with runtime.transaction() as session:
                repo = Repository(session, runtime.cipher)
                participant = await repo.find_participant("telegram", "42", lock=True)
                assert participant is not None
                await repo.load_conversation(participant.id)
                locked.set()
                await release.wait()
                await repo.save_conversation(participant.id, "question", {"at": "hobby"})

        async def second() -> dict[str, object]:
            await locked.wait()
            async with runtime.transaction() as session:
                repo = Repository(session, runtime.cipher)
                participant = await repo.find_participant("telegram", "42", lock=True)
                assert participant is not None
                record = await repo.load_conversation(participant.id)
                assert record is not None
                return record.context

        turns = asyncio.gather(first(), second())
        await locked.wait()
        await asyncio.sleep(0.5)  # the second turn's SELECT now waits for the lock
        release.set()
        _, seen = await turns
        assert seen == {"at": "hobby"}
    finally:
        await runtime.close()
