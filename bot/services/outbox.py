"""Everything sent without the person writing first: reminders to continue, the review
prompt, "your summary was opened". Each is a row in the outbox with a due time (see
`bot/storage/outbox.py`); the host runs `run_outbox` beside every channel.

- Planned inside the event's (or the web request's) transaction, so it survives restarts.
- Sent exactly once: a row is leased by one process (FOR UPDATE SKIP LOCKED on
  PostgreSQL), sent, then marked sent; a unique key per due moment means one moment can
  never become two rows.
- Never in QUIET_HOURS (Dutch time): what is due then waits for the morning.
- Never to a chat that blocked the bot, never before consent, nothing after /verwijderen
  (erasing deletes the rows), and whatever is checked again at the moment of sending.
- Spread out: at most REMINDER_RATE messages a second, and each waits while replies to
  people who are chatting are being made.
- A process sends only for the channels it runs; the rest waits for a process that has
  them. So a notice counts as given (the once-an-hour limit of link openings) only when
  it was actually sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dates import TIMEZONE
from bot.engine import AnswerView, Conversation, progress
from bot.engine.replies import Notice, Reply
from bot.engine.screens import reminders
from bot.i18n import translator
from bot.services.views import answer_views, conversation_of, own_participant, role_of
from bot.storage.models import Participant, ShareLink
from bot.storage.outbox import OutboxRecord, OutboxStore
from bot.storage.repository import Repository

log = logging.getLogger(__name__)

Push = Callable[[str, list[Reply]], Awaitable[None]]
Clock = Callable[[], datetime]

LEASE = timedelta(minutes=5)  # a claimed row is this process's for this long
RETRY_AFTER = timedelta(minutes=5)  # a send that failed for a passing reason
SEND_TIMEOUT_SECONDS = 15
YIELD_AT_MOST_SECONDS = 2.0  # how long one message waits for chats to quieten
REPEAT = {"weekly": timedelta(days=7), "monthly": timedelta(days=30)}
TELL_GP_AFTER = timedelta(minutes=30)  # after a change, once the person is done for now


class Unreachable(Exception):
    """The chat blocked the bot (Telegram's 403): mark it and send nothing more."""


class ChatActivity:
    """How many events of people chatting are being handled right now; the outbox waits
    for `idle` before each message, so replies go first."""

    def __init__(self) -> None:
        self.active = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def __enter__(self) -> None:
        self.active += 1
        self.idle.clear()

    def __exit__(self, *exc: object) -> None:
        self.active -= 1
        if self.active == 0:
            self.idle.set()


@dataclass(frozen=True)
class Notification:
    """A chat message a unit of work put in the outbox for someone (a relative, the person
    whose link was opened), to be sent after the commit by the process that runs their
    channel."""

    channel: str
    address: str
    text: str


class NotHere(Exception):
    """This process cannot reach that chat now (another terminal user): try again later."""


def stamp(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Outbox:
    def __init__(self, runtime: Any, *, clock: Clock | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.clock: Clock = clock or utcnow
        self.senders: dict[str, Push] = {}
        self.wakeup = asyncio.Event()
        self.activity = ChatActivity()  # replies being made to people chatting
        self._next_send = 0.0  # loop time before which the next message waits

    # -- who can send --------------------------------------------------------------------
    def register(self, channel: str, push: Push) -> None:
        self.senders[channel] = push
        self.wake()

    def unregister(self, channel: str) -> None:
        self.senders.pop(channel, None)

    async def push_now(self, channel: str, address: str, text: str) -> None:
        """A one-off sentence to someone whose link is gone with this very event (a
        relative unlinked or erased): there is no row left to hang an outbox message on,
        so it goes out at once when this process runs their channel; never raises."""
        push = self.senders.get(channel)
        if push is None:
            log.info("no sender here for channel=%s; one-off message not sent", channel)
            return
        try:
            await push(address, [Notice(text)])
        except Exception as exc:  # a message to someone else never breaks this event
            log.warning("one-off message failed channel=%s: %s", channel, type(exc).__name__)

    def wake(self) -> None:
        """Something may be due now (a link was opened): look without waiting."""
        self.wakeup.set()

    # -- planning (inside the caller's transaction) --------------------------------------
    async def after_event(
        self,
        session: AsyncSession,
        participant: Participant,
        conversation: Conversation,
        answers: Mapping[str, AnswerView],
        *,
        reviewed: bool = False,
        changed: bool = False,
    ) -> None:
        """After each event: the reminder moves to REMINDER_AFTER from now (or goes), and
        once everything is done a review is planned REVIEW_AFTER from now."""
        now = self.clock()
        store = OutboxStore(session, self.runtime.cipher)
        flow = self.runtime.flow
        items = progress.flow_progress(flow, answers)  # once, for both questions below
        if reminders.wants_reminder(flow, conversation, answers, items):
            delay = REPEAT.get(conversation.reminders, self.settings.reminder_after)
            due = {
                "ref": stamp(now),
                "due_at": now + delay,
                "dedupe_key": f"reminder:{participant.id}:{stamp(now)}:1",
            }
            if not await store.move_pending(participant.id, "reminder", **due):
                await store.add(participant, kind="reminder", step=1, **due)
        else:
            await store.cancel_pending(participant.id, "reminder")
        if reviewed:
            await store.cancel_pending(participant.id, "review")
        # A relative's own view is not the person's wish: nothing for the GP to hear.
        if (
            changed
            and role_of(participant) != "view"
            and await store.opened_link(participant.person_id, now)
        ):
            person = await self._person_of(session, participant)
            if person is not None:
                # Asked once they are done for now: each change moves it on.
                await store.cancel_pending(person.id, "tell_gp")
                await store.add(
                    person,
                    kind="tell_gp",
                    due_at=now + TELL_GP_AFTER,
                    dedupe_key=f"tell_gp:{person.id}:{stamp(now)}",
                )
        done = reviewed or reminders.all_done(flow, conversation, answers, items)
        if done and not await store.has_pending(participant.id, "review"):
            await store.add(
                participant,
                kind="review",
                due_at=now + self.settings.review_after,
                dedupe_key=f"review:{participant.id}:{stamp(now)}",
            )

    async def _person_of(
        self, session: AsyncSession, participant: Participant
    ) -> Participant | None:
        """Whose wishes these are: a helper's answers count as the person's, so the person
        (their own participant) decides whether to tell the GP, not the helper."""
        if role_of(participant) != "helper":
            return participant
        return await own_participant(
            Repository(session, self.runtime.cipher), participant.person_id
        )

    async def notice(
        self, session: AsyncSession, participant: Participant, text: str, *, ref: str, key: str
    ) -> bool:
        """A short message ("your summary was opened"), sent as soon as allowed. Only one
        waits per `ref` at a time; False when one is already waiting."""
        store = OutboxStore(session, self.runtime.cipher)
        if await store.has_pending(participant.id, "notice", ref=ref):
            return False
        return await store.add(
            participant,
            kind="notice",
            ref=ref,
            text=text,
            priority=0,
            due_at=self.clock(),
            dedupe_key=key,
        )

    # -- sending -------------------------------------------------------------------------
    def quiet(self, now: datetime) -> bool:
        hours = self.settings.quiet_hours
        if hours is None:
            return False
        start, end = hours
        local = now.astimezone(TIMEZONE).time().replace(tzinfo=None)
        if start < end:
            return start <= local < end
        return local >= start or local < end

    async def send_due(self) -> int:
        """Send what is due now for the channels of this process; returns how many rows
        were taken (sent, or found no longer wanted)."""
        now = self.clock()
        if self.quiet(now) or not self.senders:
            return 0
        rate = self.settings.reminder_rate
        async with self.runtime.transaction() as session:
            claimed = await OutboxStore(session, self.runtime.cipher).claim(
                now,
                channels=list(self.senders),
                limit=max(1, int(rate * 2)),
                lease=LEASE,
                skip_locked=not self.settings.is_sqlite,
            )
        for record in claimed:
            await self._yield_to_chats()
            await self._send(record)
        return len(claimed)

    async def _pace(self, rate: float) -> None:
        """At most `rate` messages a second, also across rounds. Called right before the
        push: pacing before the database work let a slow lookup shrink the next gap."""
        loop = asyncio.get_running_loop()
        wait = self._next_send - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_send = loop.time() + 1 / rate

    async def _yield_to_chats(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.activity.idle.wait(), YIELD_AT_MOST_SECONDS)

    async def _send(self, record: OutboxRecord) -> str:
        runtime = self.runtime
        async with runtime.transaction() as session:
            store = OutboxStore(session, runtime.cipher)
            repo = Repository(session, runtime.cipher)
            if not await store.still_there(record.id):
                return "erased"
            participant = await session.get(Participant, record.participant_id)
            person = await repo.person(record.person_id)
            why, replies, address = "obsolete", None, ""
            if participant is not None and participant.blocked_at is not None:
                why = "blocked"
            elif participant is not None and person is not None and person.consented_at:
                conversation = conversation_of(
                    await repo.load_conversation(participant.id),
                    default_locale=self.settings.default_locale,
                )
                answers = answer_views(await repo.latest_answers(record.person_id))
                replies = self._replies(record, conversation, answers)
                address = repo.address(participant)
            if replies is None:
                await store.finish(record.id, why, self.clock())
                return why
        push = self.senders.get(record.channel)
        if push is None:  # unregistered since the claim: leave it for later
            await self._retry(record, self.clock())
            return "later"
        await self._pace(self.settings.reminder_rate)
        try:
            await asyncio.wait_for(push(address, replies), SEND_TIMEOUT_SECONDS)
        except Unreachable:
            async with runtime.transaction() as session:
                await Repository(session, runtime.cipher).mark_blocked(record.participant_id)
                await OutboxStore(session, runtime.cipher).finish(
                    record.id, "blocked", self.clock()
                )
            log.info("outbox chat blocked the bot id=%s kind=%s", record.id, record.kind)
            return "blocked"
        except NotHere:
            await self._retry(record, self.clock() + RETRY_AFTER)
            return "later"
        except Exception as exc:  # a passing failure (network): try again later
            log.warning("outbox send failed id=%s: %s", record.id, type(exc).__name__)
            await self._retry(record, self.clock() + RETRY_AFTER)
            return "failed"
        await self._sent(record)
        log.info("outbox sent id=%s kind=%s step=%s", record.id, record.kind, record.step)
        return "sent"

    async def _retry(self, record: OutboxRecord, due_at: datetime) -> None:
        async with self.runtime.transaction() as session:
            await OutboxStore(session, self.runtime.cipher).retry_at(record.id, due_at)

    async def _sent(self, record: OutboxRecord) -> None:
        now = self.clock()
        async with self.runtime.transaction() as session:
            store = OutboxStore(session, self.runtime.cipher)
            if not await store.still_there(record.id):
                return  # erased while it was being sent
            await store.finish(record.id, "sent", now)
            if record.kind == "notice" and record.ref:
                link = await session.get(ShareLink, record.ref)
                if link is not None:
                    link.notified_at = now  # the hourly limit counts notices actually sent
            elif record.kind == "reminder":
                await self._next_reminder(session, store, record, now)

    async def _next_reminder(
        self, session: AsyncSession, store: OutboxStore, record: OutboxRecord, now: datetime
    ) -> None:
        participant = await session.get(Participant, record.participant_id)
        repo = Repository(session, self.runtime.cipher)
        if participant is None:
            return
        conversation = conversation_of(
            await repo.load_conversation(participant.id),
            default_locale=self.settings.default_locale,
        )
        if conversation.reminders in REPEAT:
            due = now + REPEAT[conversation.reminders]
        elif record.step == 1:  # the second and last of the default two; counted from
            # when the first went out, so after downtime they never come as a pair
            settings = self.settings
            due = now + (settings.reminder_second_after - settings.reminder_after)
        else:
            return
        anchor = record.ref or stamp(record.due_at)
        step = record.step + 1
        await store.add(
            participant,
            kind="reminder",
            step=step,
            ref=anchor,
            due_at=due,
            dedupe_key=f"reminder:{participant.id}:{anchor}:{step}",
        )

    def _replies(
        self,
        record: OutboxRecord,
        conversation: Conversation,
        answers: Mapping[str, AnswerView],
    ) -> list[Reply] | None:
        """What to say now, or None when it is no longer wanted."""
        tr = translator(conversation.locale)
        if not conversation.consented:
            return None
        if record.kind == "notice":
            return [Notice(record.text)] if record.text else None
        if conversation.reminders == "off":
            return None
        if record.kind == "reminder":
            if not reminders.wants_reminder(self.runtime.flow, conversation, answers):
                return None
            return [reminders.reminder_message(tr, conversation, record.step)]
        if record.kind == "review":
            return [reminders.review_message(tr, conversation)]
        if record.kind == "tell_gp":
            return [reminders.tell_gp_message(tr, conversation)]
        return None


async def run_outbox(outbox: Outbox, stop: asyncio.Event, *, every: float = 1.0) -> None:
    """The scheduler loop the host runs beside every channel, until `stop` is set."""
    while not stop.is_set():
        outbox.wakeup.clear()
        try:
            taken = await outbox.send_due()
        except Exception as exc:  # the database was briefly away: try again next round
            log.warning("outbox round failed: %s", type(exc).__name__)
            taken = 0
        if taken:
            continue  # more may be due
        waits = [asyncio.ensure_future(outbox.wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=every, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
