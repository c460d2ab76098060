"""The plain-text summary: what /samenvatting shows in the chat, and the text download of a
share link (`for_professional=True`: who answered and when, and no chat commands)."""

from __future__ import annotations

import unicodedata

from bot import i18n
from bot.dates import day, day_and_time
from bot.summary.attribution import view_label, who_label
from bot.summary.model import UNANSWERED, Summary, SummaryItem


def history_notes(item: SummaryItem, tr: i18n.Translator, locale: str) -> list[str]:
    """ "nagekeken op 3 maart 2027", "al lang niet nagekeken" (see summary/history.py)."""
    notes = [tr.gettext("gewijzigd")] if item.changed else []
    if item.confirmed_at:
        notes.append(tr.gettext("nagekeken op {date}").format(date=day(item.confirmed_at, locale)))
    if item.stale:
        notes.append(tr.gettext("al lang niet nagekeken"))
    return notes


def earlier_lines(item: SummaryItem, tr: i18n.Translator, locale: str) -> list[str]:
    """ "eerder: Thuis, tot 3 maart 2027", newest first."""
    return [
        tr.gettext("eerder: {answer}, tot {date}").format(
            answer=earlier.answer.replace("\n", " "), date=day(earlier.until, locale)
        )
        for earlier in item.earlier
    ]


ISOLATES = "\u2066\u2067\u2068"  # LRI, RLI, FSI
# Bidi classes that can move what stands next to them: right-to-left letters and numbers,
# and every explicit embedding, override and isolate control.
NEEDS_ISOLATION = {"R", "AL", "AN", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
POP_ISOLATE = "\u2069"  # PDI


def isolate(text: str) -> str:
    """Text someone typed, as a bidi isolate (FSI ... PDI) when it holds right-to-left
    text or bidi controls: a right-to-left override (U+202E) inside it cannot reorder what
    follows on the line, such as "(ingevuld door ..., datum)". Its own isolates are
    balanced first, so that a stray PDI in it cannot close ours early. Isolates end at a
    line break: call per line."""
    if not any(unicodedata.bidirectional(c) in NEEDS_ISOLATION for c in text):
        return text  # left-to-right and neutral only: nothing can be reordered
    depth = 0
    kept = []
    for character in text:
        if character in ISOLATES:
            depth += 1
        elif character == POP_ISOLATE:
            if depth == 0:
                continue
            depth -= 1
        kept.append(character)
    return "\u2068" + "".join(kept) + POP_ISOLATE * (depth + 1)


def render_text(
    summary: Summary, *, for_professional: bool = False, heading: str | None = None
) -> str:
    """`heading` replaces the title and the closing sentence: for a relative, whose
    summary is not their own wishes ("Uw kijk op de wensen van Anna")."""
    tr = i18n.translator(summary.locale)
    if heading is not None:
        lines = [heading]
    elif for_professional:
        if summary.person_name:
            title = tr.gettext("Wensen voor later van {name}").format(
                name=isolate(summary.person_name)
            )
        else:
            title = tr.gettext("Wensen voor later")
        lines = [
            title,
            tr.gettext("Samenvatting gemaakt op {date}.").format(
                date=day_and_time(summary.generated_at, summary.locale)
            ),
        ]
    elif summary.person_name:
        lines = [tr.gettext("Samenvatting voor {name}").format(name=isolate(summary.person_name))]
    else:
        lines = [tr.gettext("Uw samenvatting")]
    if for_professional and summary.changed_since:
        lines.append("")
        lines.append(
            tr.gettext("Gewijzigd sinds u dit opende op {date}.").format(
                date=day_and_time(summary.changed_since, summary.locale)
            )
            + " "
            + tr.gettext("De gewijzigde antwoorden zijn gemarkeerd.")
        )
    if for_professional and summary.to_discuss:
        lines.append("")
        lines.append(f"— {tr.gettext('Om te bespreken')} —")
        lines.extend(f"• {text}" for text in summary.to_discuss)
    any_answer = False
    for section in summary.sections:
        if not section.items:
            continue
        any_answer = True
        lines.append("")
        lines.append(f"— {section.title} —")
        for item in section.items:
            # In the chat, the person's own answers need no "by the person themself".
            shown = for_professional or (item.who != "self" and (heading is None or item.by))
            notes = [who_label(item.who, tr, item.by)] if shown else []
            if for_professional:
                notes.append(day(item.answered_at, summary.locale))
            notes += history_notes(item, tr, summary.locale)
            if item.kind == UNANSWERED:  # no answer of the person's: only views below
                notes = []
            note = f" ({', '.join(notes)})" if notes else ""
            answer = "\n    ".join(isolate(line) for line in item.answer.split("\n"))
            if "\n" in item.answer:
                answer = "\n    " + answer
            lines.append(f"• {item.label}: {answer}{note}")
            lines.extend(f"    {line}" for line in earlier_lines(item, tr, summary.locale))
            for view in item.views:  # a relative's own view, beside the answer, never for it
                lines.append(f"    {view_label(view.who, tr)}: {isolate(view.answer)}")
    if not any_answer:
        lines.append("")
        if for_professional:
            lines.append(tr.gettext("Er zijn nog geen antwoorden."))
        else:
            lines.append(
                tr.gettext("Er zijn nog geen antwoorden. Kies een onderwerp om te beginnen.")
            )
    elif for_professional:
        lines.append("")
        lines.append(
            tr.gettext(
                "Dit zijn de wensen van de persoon om met u te bespreken. Het zijn geen "
                "medische afspraken en geen wilsverklaring. Wensen worden pas afspraken na "
                "een gesprek met de huisarts of verpleegkundige."
            )
        )
        lines.append(
            tr.gettext(
                "Een wens is geen recht. Een schriftelijke weigering van een behandeling moet "
                "de arts volgen. Een wens om een behandeling te krijgen, zoals reanimatie of "
                "IC-opname, niet: de arts beslist of die medisch zinvol is."
            )
        )
    elif heading is None:
        lines.append("")
        lines.append(
            tr.gettext(
                "Dit zijn uw wensen om te bespreken, geen medische afspraken. "
                "Met /delen maakt u een link voor uw huisarts."
            )
        )
    return "\n".join(lines)
