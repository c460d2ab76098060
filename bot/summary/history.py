"""The history of each answer, added to a built summary: when it was last confirmed in a
review ("Klopt nog"), what it was before and until when, and whether it has gone
unconfirmed for longer than REVIEW_AFTER ("al lang niet nagekeken").

Answers are append-only, so the history is the stored rows themselves; a confirmation is
its own row naming the answer it confirms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot import i18n
from bot.content.model import Flow
from bot.dates import as_utc
from bot.summary.model import UNANSWERED, AnswerLike, Earlier, Summary, SummaryItem, _item

EARLIER_SHOWN = 4  # the New Zealand ACP app keeps five versions: this one and four before
# An answer changed within a day of giving it was a correction while filling in, not an
# earlier wish: the professional is not shown it.
CORRECTION = timedelta(days=1)


def with_history(
    summary: Summary,
    flow: Flow,
    history: Sequence[AnswerLike],
    confirmations: Mapping[int, datetime],
    *,
    review_after: timedelta,
) -> Summary:
    """`history`: every answer row, oldest first; `confirmations`: answer row id -> the
    last time it was confirmed."""
    tr = i18n.translator(summary.locale)
    rows: dict[str, list[AnswerLike]] = {}
    for record in history:
        rows.setdefault(record.question_id, []).append(record)
    now = as_utc(summary.generated_at)

    def enrich(item: SummaryItem) -> SummaryItem:
        records = rows.get(item.question_id, [])
        question = flow.question(item.question_id)
        if not records or question is None:
            return item
        current = records[-1]
        confirmed = confirmations.get(getattr(current, "id", -1))
        earlier: list[Earlier] = []
        shown = item.answer
        for before, after in zip(reversed(records[:-1]), reversed(records[1:]), strict=True):
            text = _item(question, before, tr, item.topic_id).answer
            held = as_utc(after.created_at) - as_utc(before.created_at)
            if text != shown and held >= CORRECTION:
                earlier.append(Earlier(text, as_utc(after.created_at)))
                shown = text
            if len(earlier) == EARLIER_SHOWN:
                break
        last_seen = as_utc(item.answered_at)
        if confirmed is not None:
            last_seen = max(last_seen, as_utc(confirmed))
        return dataclasses.replace(
            item,
            confirmed_at=as_utc(confirmed) if confirmed else None,
            earlier=tuple(earlier),
            stale=item.kind != "skipped" and last_seen + review_after < now,
        )

    sections = tuple(
        dataclasses.replace(section, items=tuple(enrich(i) for i in section.items))
        for section in summary.sections
    )
    by_question = {item.question_id: item for s in sections for item in s.items}
    return dataclasses.replace(summary, sections=sections, by_question=by_question)


def mark_changed(summary: Summary, seen_at: datetime | None) -> Summary:
    """Answers given after `seen_at` (the professional's previous visit) are marked, and
    the summary says since when; nothing changes when nothing is newer."""
    if seen_at is None:
        return summary
    since = as_utc(seen_at)

    def mark(item: SummaryItem) -> SummaryItem:
        newer = item.kind not in ("skipped", UNANSWERED) and as_utc(item.answered_at) > since
        return dataclasses.replace(item, changed=True) if newer else item

    sections = tuple(
        dataclasses.replace(section, items=tuple(mark(i) for i in section.items))
        for section in summary.sections
    )
    if not any(item.changed for s in sections for item in s.items):
        return summary
    by_question = {item.question_id: item for s in sections for item in s.items}
    return dataclasses.replace(
        summary, sections=sections, by_question=by_question, changed_since=since
    )
