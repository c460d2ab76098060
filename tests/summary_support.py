"""Helpers for the summary and sharing tests: a richer flow with PZP items, answers to it,
a frozen clock, an English test catalog, a notifier that collects, and chat shortcuts."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations

from bot import i18n
from bot.engine.replies import LinkReply, Message, Notice, Reply
from bot.services.conversation import Handled

RICH_FLOW = """\
id: rijk
version: 3
title: Proefgesprek met PZP
topics:
  - id: belangrijk
    title: Wat voor u belangrijk is
    intro: Over wat uw leven goed maakt. Dit duurt ongeveer 3 minuten.
    minutes: 3
    questions:
      - id: goede_dag
        type: text
        text: Hoe ziet een goede dag er voor u uit?
        summary: Een goede dag
        pzp: "1196"
      - id: levenskwaliteit
        type: scale
        text: Wat vindt u belangrijker?
        low: Zo lang mogelijk leven
        high: Kwaliteit van leven
  - id: vertegenwoordiger
    title: Wie beslist als u het zelf niet meer kunt
    intro: Over wie voor u beslist. Dit duurt ongeveer 2 minuten.
    minutes: 2
    questions:
      - id: vertegenwoordiger
        type: person
        text: Wie mag over uw zorg beslissen als u dat zelf niet meer kunt?
        summary: Vertegenwoordiger
        pzp: "983"
        options:
          - {id: dochter, label: Dochter, pzp: DAUC}
          - {id: anders, label: Iemand anders, pzp: OTH}
      - id: contactpersoon
        type: person
        text: Wie moeten zorgverleners als eerste bellen?
        summary: Eerste contactpersoon
        pzp: "995"
        options:
          - {id: zoon, label: Zoon, pzp: SONC}
          - {id: anders, label: Iemand anders, pzp: OTH}
  - id: behandelingen
    title: Zorg en behandeling
    intro: Over behandelingen. Dit duurt ongeveer 3 minuten.
    minutes: 3
    questions:
      - id: reanimatie
        type: choice
        text: Wilt u gereanimeerd worden als uw hart stilstaat?
        summary: Reanimatie
        pzp: "1386"
        options:
          - {id: wel, label: "Ja, dat wil ik", pzp: "0"}
          - {id: hangt_af, label: Dat hangt ervan af, pzp: "1"}
          - {id: niet, label: "Nee, dat wil ik niet", pzp: "2"}
      - id: reanimatie_wanneer
        type: text
        text: Waar hangt het van af?
        summary: Reanimatie, hangt af van
        pzp: "1001"
        ask_if: {question: reanimatie, is: hangt_af}
      - id: ziekenhuis
        type: choice
        text: Wilt u nog naar het ziekenhuis?
        summary: Ziekenhuisopname
        pzp: "1393"
        options:
          - {id: wel, label: "Ja, dat wil ik", pzp: "0"}
          - {id: niet, label: "Nee, dat wil ik niet", pzp: "2"}
  - id: levenseinde
    title: Het levenseinde
    intro: Over de laatste fase. Dit duurt ongeveer 3 minuten.
    minutes: 3
    questions:
      - id: zorgplek
        type: choice
        text: Waar wilt u verzorgd worden in de laatste tijd van uw leven?
        summary: Voorkeursplek van zorg
        options:
          - {id: thuis, label: Thuis}
          - {id: hospice, label: In een hospice}
      - id: sterfplek
        type: choice
        text: En waar zou u het liefst overlijden?
        summary: Voorkeursplek van overlijden
        pzp: "1191"
        options:
          - {id: thuis, label: Thuis, pzp: "264362003"}
          - {id: hospice, label: In een hospice, pzp: "284546000"}
      - id: euthanasie
        type: choice
        text: Hoe denkt u over euthanasie?
        summary: Euthanasie
        pzp: "1193"
        options:
          - {id: verklaring, label: Ik heb een euthanasieverklaring, pzp: "340181000146102"}
          - {id: geen, label: Ik wil geen euthanasie, pzp: "340201000146103"}
      - id: donor
        type: yesno
        text: Staat u in het donorregister?
        summary: Donorregister
        pzp: "1435"
        options:
          - {id: ja, pzp: "373066001"}
      - id: wilsverklaring
        type: yesno
        text: Heeft u al eerder wensen op papier gezet?
        summary: Eerder vastgelegde wensen
        pzp: "1197"
      - id: wilsverklaring_waar
        type: text
        text: Waar ligt dat papier?
        summary: Waar het papier ligt
        pzp: "1198"
        ask_if: {question: wilsverklaring, is: ja}
  - id: vragen
    title: Vragen voor uw huisarts
    intro: Wat wilt u bespreken? Dit duurt ongeveer 2 minuten.
    minutes: 2
    questions:
      - id: gesprek_onderwerpen
        type: multi
        text: Waarover wilt u graag praten?
        summary: Onderwerpen voor het gesprek
        options:
          - {id: medicijnen, label: Mijn medicijnen}
          - {id: geheugen, label: Mijn geheugen}
          - {id: wonen, label: Wonen en hulp thuis}
      - id: eigen_vragen
        type: text
        text: Welke vragen wilt u stellen?
        summary: Vragen van de persoon
"""

# Free text that must come out exactly as written (and escaped in HTML).
GOOD_DAY = 'Koffie met mijn buurvrouw <b>Els</b> & "de krant".\nDaarna wandelen.'
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"
WHEN_CPR = "Alleen als ik daarna weer thuis kan wonen."
WHERE_PAPER = "In de blauwe map, la van het bureau"
QUESTIONS = "Wat betekent mijn hartfalen voor later?"

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def write_rich_flow(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rijk.yaml").write_text(RICH_FLOW, encoding="utf-8")
    return directory


@dataclass
class Record:
    """An answer as the summary builder reads it (see storage.repository.AnswerRecord)."""

    question_id: str
    value: dict[str, Any]
    skipped: bool = False
    together: bool = False
    role: str = "self"
    created_at: datetime = T0


def rich_answers() -> dict[str, Record]:
    """Answers to every question of the rich flow, by several people at several times."""
    later = T0 + timedelta(days=3)
    records = [
        Record("goede_dag", {"text": GOOD_DAY}),
        Record("levenskwaliteit", {"value": 4}),
        Record(
            "vertegenwoordiger",
            {"name": "Marieke de Vries", "relation": "dochter", "phone": "06 1234 5678"},
            together=True,
        ),
        Record(
            "contactpersoon",
            {"name": "Karel", "relation": "zoon", "phone": None},
            role="relative",
            created_at=later,
        ),
        Record("reanimatie", {"option": "hangt_af"}),
        Record("reanimatie_wanneer", {"text": WHEN_CPR}),
        Record("ziekenhuis", {"option": "wel"}, skipped=False),
        Record("zorgplek", {"option": "thuis"}),
        Record("sterfplek", {"option": "hospice"}),
        Record("euthanasie", {}, skipped=True),
        Record("donor", {"option": "ja"}),
        Record("wilsverklaring", {"option": "ja"}),
        Record("wilsverklaring_waar", {"text": WHERE_PAPER}),
        Record("gesprek_onderwerpen", {"options": ["medicijnen", "geheugen"]}),
        Record("eigen_vragen", {"text": HOSTILE + " " + QUESTIONS}, created_at=later),
    ]
    return {r.question_id: r for r in records}


# -- an English catalog for the language switch ------------------------------------------------

ENGLISH = {
    ("", "Voor de zorgverlener"): "For the care professional",
    ("", "Reanimatie"): "Resuscitation",
    ("", "niet ingevuld"): "not filled in",
    ("", "Alle onderwerpen"): "All topics",
    ("", "overgeslagen"): "skipped",
    ("", "Wensen voor later"): "Wishes for later",
    ("", "Wensen voor later van {name}"): "Wishes for later of {name}",
    ("", "Uw samenvatting is geopend op {date} om {time} ({format})."): (
        "Your summary was opened on {date} at {time} ({format})."
    ),
    ("", "Tijdig – samenvatting"): "Tijdig – summary",
}


def english_translations(flow_texts: dict[tuple[str, str], str] | None = None) -> Translations:
    catalog = Catalog(locale="en")
    for (context, source), text in {**ENGLISH, **(flow_texts or {})}.items():
        catalog.add(source, text, context=context or None)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def install_english(monkeypatch: Any, flow_texts: dict[tuple[str, str], str] | None = None) -> None:
    """Make "en" available with a small catalog, whatever locales/ holds right now."""
    english = english_translations(flow_texts)
    original = i18n.translator

    def translator(locale: str, *args: Any) -> Any:
        return english if locale == "en" else original(locale, *args)

    monkeypatch.setattr(i18n, "translator", translator)
    monkeypatch.setattr(i18n, "available_locales", lambda *a: ("nl", "en"))


# -- time and notifications ------------------------------------------------------------------------


class FrozenClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class CollectingNotifier:
    """Collects what the outbox sends, as (channel, address, text)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def attach(self, outbox: Any, channel: str = "terminal") -> CollectingNotifier:
        async def push(address: str, replies: list[Reply]) -> None:
            for reply in replies:
                self.sent.append((channel, address, getattr(reply, "text", "")))

        outbox.register(channel, push)
        return self


# -- chatting --------------------------------------------------------------------------------------


def link_of(replies: list[Reply] | Handled) -> LinkReply:
    replies = replies.replies if isinstance(replies, Handled) else replies
    links = [r for r in replies if isinstance(r, LinkReply)]
    assert links, f"no link in {replies!r}"
    return links[0]


def texts(replies: list[Reply] | Handled) -> str:
    replies = replies.replies if isinstance(replies, Handled) else replies
    parts = []
    for reply in replies:
        if isinstance(reply, Message | Notice | LinkReply):
            parts.append(reply.text)
    return "\n".join(parts)
