"""/mijngegevens: everything stored about someone, decrypted, as one JSON document.

For the person: their wishes, every answer with who gave it, their links, and each
relative with what that relative contributed. For a relative: only what they gave.
"""

from __future__ import annotations

import json
from typing import Any

from bot.engine import Conversation
from bot.engine.replies import Document
from bot.i18n import translator
from bot.services.sharing import ShareLinks
from bot.services.views import role_of
from bot.storage.family import FamilyRepository
from bot.storage.models import Participant
from bot.storage.repository import AnswerRecord, Repository


def _answer(record: AnswerRecord) -> dict[str, Any]:
    return {
        "question": record.question_id,
        "answer": record.value,
        "skipped": record.skipped,
        "together": record.together,
        "together_with": record.companion,
        "own_view_of_a_relative": record.perspective == "view",
        "given_by": record.role,
        "participant": record.participant_id,
        "at": record.created_at,
        "flow_version": record.flow_version,
    }


async def export_data(
    repo: Repository, share_links: ShareLinks, participant: Participant
) -> dict[str, Any]:
    person_id = participant.person_id
    person = await repo.person(person_id)
    if person is None:
        return {}
    history = await repo.answer_history(person_id)
    family = FamilyRepository(repo)
    if role_of(participant) != "self":
        return {
            "you": {
                "name": family.relative_name(participant),
                "relation": participant.relation,
                "may": participant.mode,
                "may_read_the_answers": participant.may_see,
                "joined_at": participant.created_at,
            },
            "wishes_of": repo.person_name(person),
            "what_you_gave": [_answer(r) for r in history if r.participant_id == participant.id],
        }
    data: dict[str, Any] = {
        "person": {
            "name": repo.person_name(person),
            "fills_in": person.mode,
            "consent_given_at": person.consented_at,
            "created_at": person.created_at,
        },
        "participants": [
            {
                "id": p.id,
                "channel": p.channel,
                "role": p.role,
                "created_at": p.created_at,
            }
            for p in await repo.participants_of(person_id)
        ],
        "relatives": [
            {
                "participant": r.participant_id,
                "name": r.name,
                "relation": r.relation,
                "may": r.mode,
                "may_read_the_answers": r.may_see,
                "last_active_at": r.last_active_at,
                "contributed": [
                    _answer(a) for a in history if a.participant_id == r.participant_id
                ],
            }
            for r in await family.relatives(person_id)
        ],
        "answers": [_answer(record) for record in history],
    }
    data["share_links"] = await share_links.export(repo.session, person_id)
    return data


async def export_document(
    repo: Repository,
    share_links: ShareLinks,
    participant: Participant,
    conversation: Conversation,
) -> Document:
    data = await export_data(repo, share_links, participant)
    data["conversation"] = {
        "state": conversation.state,
        "language": conversation.locale,
        "topic": conversation.topic,
        "question": conversation.question,
        "topics_for_later": conversation.parked,
    }
    tr = translator(conversation.locale)
    return Document(
        filename="tijdig-mijn-gegevens.json",
        mime_type="application/json",
        content=json.dumps(data, ensure_ascii=False, indent=2, default=str).encode(),
        caption=tr.gettext("Dit is alles wat Tijdig van u bewaart."),
    )
