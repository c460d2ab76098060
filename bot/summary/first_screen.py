"""The first screen for the professional: what matters for care, readable in one minute.

Which answers go where is data, not code: each row lists the linkIds of the national PZP
form whose answers it shows (an answer carries its linkId from the flow's `pzp:`). Some
answers have no item on that form (place of care, the wish in case of dementia, where the
papers are, whether the GP may talk with family, questions for the GP); for those alone a
row names Tijdig question ids. A row whose answers are missing says "niet ingevuld".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import i18n
from bot.i18n import N_

if TYPE_CHECKING:  # the model asks `on_first_screen`: no import back at run time
    from bot.summary.model import Summary, SummaryItem


@dataclass(frozen=True)
class Row:
    """One line of the first screen and the answers it shows, in the order of the flow."""

    key: str
    title: str  # Dutch source text (msgid)
    link_ids: tuple[str, ...] = ()  # PZP linkIds (groups and items)
    question_ids: tuple[str, ...] = ()  # only where the national form has no item


# Who speaks for the person (PZP part 1).
PEOPLE: tuple[Row, ...] = (
    Row(
        "representative",
        N_("Vertegenwoordiger"),
        ("29", "30", "973", "974", "975", "39", "40", "976", "41", "980", "982", "411", "983"),
    ),
    Row(
        "contact",
        N_("Eerste contactpersoon"),
        ("984", "53", "985", "986", "987", "61", "62", "988", "66", "992", "995", "412"),
        question_ids=("huisarts_familie",),  # may the GP talk with them (no form item)
    ),
    Row(
        "goal",
        N_("Belangrijkste doel van de zorg"),
        ("586", "1408", "999"),
        question_ids=("dementie",),  # the wish in case of dementia (no form item)
    ),
)

# The six treatments of PZP part 4: the first linkId is the decision (BehandelBesluit),
# the others are its explanation ("SpecificatieAnders", "Toelichting").
TREATMENTS: tuple[Row, ...] = (
    Row("cpr", N_("Reanimatie"), ("1386", "1409", "1410", "1001", "1002")),
    Row("ventilation", N_("Beademing"), ("1387", "1411", "1412", "1388", "1389")),
    Row("icu", N_("Opname op de intensive care"), ("1390", "1413", "1414", "1391", "1392")),
    Row("hospital", N_("Opname in het ziekenhuis"), ("1393", "1415", "1416", "1394", "1395")),
    Row("antibiotics", N_("Antibiotica"), ("1396", "1417", "1418", "1397", "1398")),
    Row("blood", N_("Bloedtransfusie"), ("1399", "1419", "1420", "1400", "1401")),
)

# Wishes (PZP parts 5, 6 and 7) and the person's own questions.
WISHES: tuple[Row, ...] = (
    Row(
        "place",
        N_("Plek van zorg en van overlijden"),
        ("1429", "1430", "1191", "1192"),
        question_ids=("zorgplek",),
    ),
    Row("euthanasia", N_("Euthanasie"), ("1431", "1432", "1193", "1194")),
    Row("donor", N_("Donorregistratie"), ("1433", "1434", "1435")),
    Row(
        "directives",
        N_("Eerder vastgelegde wensen en waar ze liggen"),
        ("115", "1197", "1198", "1199"),
        question_ids=("papieren_waar",),  # where the papers are, and who knows (no form item)
    ),
    Row(
        "matters",
        N_("Wat het belangrijkst is"),
        ("598", "1436", "1196", "1427", "1428", "1190"),
    ),
    Row(
        "questions",
        N_("Vragen voor de huisarts of verpleegkundige"),
        question_ids=("eigen_vragen", "gesprek_onderwerpen"),
    ),
)


_LINK_IDS = frozenset(link for row in PEOPLE + TREATMENTS + WISHES for link in row.link_ids)
_QUESTION_IDS = frozenset(qid for row in PEOPLE + TREATMENTS + WISHES for qid in row.question_ids)


def on_first_screen(item: SummaryItem) -> bool:
    """Whether a row of the first screen shows this answer (what `select` picks for it)."""
    return item.pzp_link in _LINK_IDS or item.question_id in _QUESTION_IDS


@dataclass(frozen=True)
class ScreenRow:
    key: str
    title: str  # translated
    items: tuple[SummaryItem, ...]

    @property
    def filled(self) -> bool:
        return bool(self.items)

    @property
    def main(self) -> SummaryItem | None:
        return self.items[0] if self.items else None

    @property
    def details(self) -> tuple[SummaryItem, ...]:
        return self.items[1:]


@dataclass(frozen=True)
class FirstScreen:
    people: tuple[ScreenRow, ...]
    treatments: tuple[ScreenRow, ...]
    wishes: tuple[ScreenRow, ...]
    # "Om te bespreken": answers that do not fit together (the flow's `discuss` rules).
    to_discuss: tuple[str, ...] = ()


def select(summary: Summary, row: Row, *, lead_first: bool = False) -> tuple[SummaryItem, ...]:
    """The answers a row shows: mapped to one of its linkIds or named by id, flow order.

    With `lead_first`, the answer to the row's first linkId (a treatment's decision) leads.
    """
    links, ids = set(row.link_ids), set(row.question_ids)
    items = [item for item in summary.items if item.pzp_link in links or item.question_id in ids]
    if lead_first and row.link_ids:
        items.sort(key=lambda item: item.pzp_link != row.link_ids[0])
    return tuple(items)


def build_first_screen(summary: Summary) -> FirstScreen:
    tr = i18n.translator(summary.locale)

    def rows(table: tuple[Row, ...], *, lead_first: bool = False) -> tuple[ScreenRow, ...]:
        return tuple(
            ScreenRow(r.key, tr.gettext(r.title), select(summary, r, lead_first=lead_first))
            for r in table
        )

    return FirstScreen(
        people=rows(PEOPLE),
        treatments=rows(TREATMENTS, lead_first=True),
        wishes=rows(WISHES),
        to_discuss=summary.to_discuss,
    )
