"""What /nakijken walks through first: the answers on the professional's first screen."""

from __future__ import annotations

from bot.content.model import Flow
from bot.summary.first_screen import PEOPLE, TREATMENTS, WISHES


def first_screen_questions(flow: Flow) -> tuple[str, ...]:
    """The questions whose answers the first screen shows, in the order of the flow."""
    rows = (*PEOPLE, *TREATMENTS, *WISHES)
    link_ids = {link for row in rows for link in row.link_ids}
    question_ids = {qid for row in rows for qid in row.question_ids}
    return tuple(
        q.id
        for q in flow.questions
        if q.is_asked
        and ((q.pzp is not None and q.pzp.link_id in link_ids) or q.id in question_ids)
    )
