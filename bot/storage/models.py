"""The database tables. Personal content is stored encrypted (`*_enc` columns)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Whose wishes these are."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    mode: Mapped[str | None] = mapped_column(String(16))  # alone | together | for_other
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Moved on by the database (triggers, migration 0400) at every change to this person's
    # answers: a turn re-reads the history only when it moved (bot/storage/answer_cache.py).
    answers_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The key `name_enc` is sealed with, loaded along so that the name decrypts at once.
    key: Mapped[PersonKeyRow | None] = relationship(
        primaryjoin="Person.id == foreign(PersonKeyRow.person_id)",
        lazy="selectin",
        viewonly=True,
    )


class Participant(Base):
    """A chat user linked to a person: the person themself or a relative.

    One chat user can be a person with their own wishes and a relative of others: one row
    per person they are linked to, and `active` marks whose wishes the chat is about now.
    """

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("channel", "lookup_key", "person_id"),
        # A chat user has at most one person of their own (two first consents racing
        # must not make two). On PostgreSQL the index has the same WHERE (migration 0006;
        # tests/test_migrations.py checks both databases): `postgresql_where` here would
        # load SQLAlchemy's PostgreSQL dialect into every process, SQLite ones too (2 MB),
        # only to describe it, and Alembic's comparison does not read it.
        Index(
            "uq_participant_self",
            "channel",
            "lookup_key",
            unique=True,
            sqlite_where=text("role = 'self'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    lookup_key: Mapped[str] = mapped_column(String(64))  # HMAC of the channel's user id
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)  # where to send messages
    role: Mapped[str] = mapped_column(String(16), default="self")  # self | relative
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A relative: helper (their answers count as the person's) or view (their own view),
    # whether they may read the person's answers, their name and relation to the person.
    mode: Mapped[str | None] = mapped_column(String(8))
    may_see: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    relation: Mapped[str | None] = mapped_column(String(16))
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The person's key, which `address_enc` is sealed with (see bot/storage/person_keys.py).
    person_key: Mapped[PersonKeyRow | None] = relationship(
        primaryjoin="Participant.person_id == foreign(PersonKeyRow.person_id)",
        lazy="joined",  # in the same SELECT: one statement less per turn
        viewonly=True,
    )


class ConversationRow(Base):
    """Where a participant is in the conversation; committed with each answer."""

    __tablename__ = "conversation"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(32))
    context_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # The channel's order of the last event applied (Telegram's update_id): an older one
    # arriving later, through another process, is stale and never recorded.
    last_order: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Answer(Base):
    """Append-only: a change adds a row; the latest row per question is the answer."""

    __tablename__ = "answer"
    __table_args__ = (Index("ix_answer_person_question", "person_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    question_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    together: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str] = mapped_column(String(16), default="self")
    # person: the person's answer (given by them, with someone, or by a helper);
    # view: a relative's own view, shown next to the person's answer, never instead of it.
    perspective: Mapped[str] = mapped_column(String(8), default="person", server_default="person")
    # Who sat with the person ("samen met Els, dochter"): encrypted {name, relation}.
    with_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Invite(Base):
    """An invitation for a relative. Only a keyed hash of the code is stored; the code is
    single use, expires, and can be revoked. What the relative may do is set here."""

    __tablename__ = "invite"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[str] = mapped_column(String(8))  # helper | view
    may_see: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProcessedEvent(Base):
    """Event ids already handled, so a redelivered update is not applied twice."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("participant_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShareLink(Base):
    """A secret link to a person's summary. Only the SHA-256 of the token is stored.

    `id` is public: it names the link in logs, in /links and on its revoke button, and
    reveals nothing. The token itself exists only in the message that gave it out.
    """

    __tablename__ = "share_link"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # Who made the link: they are told when it is opened.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))  # keyed HMAC of the access code
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str] = mapped_column(String(8))  # the page's language unless ?lang= says
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LinkAccess(Base):
    """Append-only access log (NEN 7513 style): when, which link, what, outcome, from where.

    The client address is stored only as a keyed hash, enough to tell openings apart.
    """

    __tablename__ = "link_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[str] = mapped_column(
        ForeignKey("share_link.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    format: Mapped[str] = mapped_column(String(8))  # html | pdf | fhir | txt | code
    outcome: Mapped[str] = mapped_column(String(16))
    client_hash: Mapped[str] = mapped_column(String(64))


class KeyCheck(Base):
    """One value encrypted with the database's key, so a wrong DATA_KEY is noticed at start
    (otherwise every returning person would silently look new)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)


class PersonKeyRow(Base):
    """A person's own data key, wrapped (encrypted) with a key derived from DATA_KEY.

    Every `*_enc` value about the person is sealed with it and names it by `id`. Erasing the
    person deletes this row first: every copy of their ciphertexts anywhere is noise then.
    """

    __tablename__ = "person_key"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # hex of the 16-byte id
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatabaseSecret(Base):
    """A secret of the whole database (the lookup key), wrapped with DATA_KEY, so that it
    stays the same when DATA_KEY is rotated."""

    __tablename__ = "database_secret"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxMessage(Base):
    """A message sent without the person writing first (a reminder, a review prompt, "your
    summary was opened"): due at a time, picked by the scheduler once, then marked sent.

    `dedupe_key` is unique: one due moment can never become two rows. The text of a notice
    is stored encrypted; reminders and review prompts are drawn when they are sent, in the
    person's language of that moment.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # notice | reminder | review
    step: Mapped[int] = mapped_column(Integer, default=1)  # which reminder of a series
    ref: Mapped[str | None] = mapped_column(String(32))  # a notice's share link id
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    priority: Mapped[int] = mapped_column(Integer, default=1)  # 0 goes first
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent | blocked | obsolete
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerConfirmation(Base):
    """Append-only: "Klopt nog" in a review. The answer stays; this row says it still holds."""

    __tablename__ = "answer_confirmation"
    __table_args__ = (Index("ix_answer_confirmation_person", "person_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    question_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
