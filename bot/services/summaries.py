"""A person's summary, loaded and built in one place (for the chat and for share links)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.content.model import Flow
from bot.engine.relations import who
from bot.i18n import translator
from bot.storage.family import FamilyRepository
from bot.storage.models import Participant
from bot.storage.repository import AnswerRecord, Repository
from bot.summary.history import with_history
from bot.summary.model import Summary, build_summary
from bot.summary.text import render_text

REVIEW_AFTER = timedelta(days=365)


async def load_summary(
    repo: Repository,
    flow: Flow,
    person_id: int,
    *,
    locale: str,
    now: datetime,
    review_after: timedelta = REVIEW_AFTER,
    only_participant: int | None = None,
    own_views_of: int | None = None,
) -> Summary:
    """The person's answers with who gave each and their history, and relatives' own
    views beside them.

    `only_participant`: just what that participant gave (a relative who may not read the
    person's answers). `own_views_of`: a relative's own views, as their summary.
    """
    person = await repo.person(person_id)
    history = await repo.answer_history(person_id)
    answers = [r for r in history if r.perspective == "person"]
    latest = {record.question_id: record for record in answers}
    views: dict[int | tuple[str, str], dict[str, AnswerRecord]] = {}
    for record in history:
        if record.perspective == "view":
            views.setdefault(_viewer(record), {})[record.question_id] = record
    tr = translator(locale)
    givers = {
        r.participant_id: who(r.name, r.relation, tr)
        for r in await FamilyRepository(repo).relatives(person_id)
    }
    if own_views_of is not None:  # their own views, as their summary: no names needed
        latest, views, givers = views.get(own_views_of, {}), {}, {}
        answers = list(latest.values())
    elif only_participant is not None:
        latest = {q: r for q, r in latest.items() if r.participant_id == only_participant}
        answers = [r for r in answers if r.participant_id == only_participant]
        views = {}
    beside: dict[str, list[tuple[str, AnswerRecord]]] = {}
    for viewer, given in views.items():
        if isinstance(viewer, tuple):  # a removed relative's views, kept
            name, relation = viewer
            label = (
                who(name, relation or None, tr)
                if name
                else tr.gettext("Een naaste die niet meer meedoet")
            )
        else:
            label = givers.get(viewer, tr.gettext("een naaste"))
        for question_id, record in given.items():
            beside.setdefault(question_id, []).append((label, record))
    summary = build_summary(
        flow,
        latest,
        locale=locale,
        person_name=repo.person_name(person) if person else None,
        mode=person.mode if person else None,
        now=now,
        givers=givers,
        views=beside,
    )
    confirmations = await repo.confirmations(person_id)
    return with_history(summary, flow, answers, confirmations, review_after=review_after)


def _viewer(record: AnswerRecord) -> int | tuple[str, str]:
    """Whose view a row is: the relative's participant id, or, once the person removed
    that relative keeping what they gave, the name and relation the row kept (`with_enc`,
    when it kept them; all unnamed ones are one "Een naaste die niet meer meedoet")."""
    if record.participant_id is not None:
        return record.participant_id
    companion = record.companion or {}
    return (str(companion.get("name") or ""), str(companion.get("relation") or ""))


async def chat_summary_text(
    repo: Repository,
    flow: Flow,
    participant: Participant,
    *,
    role: str,
    locale: str,
    now: datetime,
    review_after: timedelta = REVIEW_AFTER,
) -> str:
    """/samenvatting in the chat. A relative sees the person's answers only when allowed;
    otherwise just what they gave themselves (a helper) or their own view."""
    only = participant.id if role == "helper" and not participant.may_see else None
    summary = await load_summary(
        repo,
        flow,
        participant.person_id,
        locale=locale,
        now=now,
        review_after=review_after,
        only_participant=only,
        own_views_of=participant.id if role == "view" else None,
    )
    if role == "self":
        return render_text(summary)
    tr = translator(locale)
    name = summary.person_name or tr.gettext("deze persoon")
    if role == "view":
        heading = tr.gettext("Uw kijk op de wensen van {name}").format(name=name)
    elif only is not None:
        heading = tr.gettext("Wat u invulde voor {name}").format(name=name)
    else:
        heading = tr.gettext("Wensen van {name}").format(name=name)
    text = render_text(summary, heading=heading)
    if role == "view" and participant.may_see:
        own = await load_summary(
            repo, flow, participant.person_id, locale=locale, now=now, review_after=review_after
        )
        mine = tr.gettext("Wat {name} zelf antwoordde").format(name=name)
        text += "\n\n" + render_text(own, heading=mine)
    return text
