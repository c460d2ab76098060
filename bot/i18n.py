"""Babel catalogs, locale negotiation, and the extractor that feeds flows into messages.pot.

Dutch is the source language: every msgid is Dutch, and `nl` needs no catalog. Other
languages live in locales/<lang>/LC_MESSAGES/messages.po, compiled by `pybabel compile`
into the messages.mo beside it; a missing or stale .mo is compiled in memory instead.
A running bot reads the .mo with the standard library's `gettext` (what Babel's own
`Translations` builds on), so a chat turn does not import Babel's date and number
formatting (about 0.5 MB of every process): those parts of Babel are loaded when a date
is shown, a language is named or a catalog must be compiled (negotiation uses its core).
"""

from __future__ import annotations

import gettext
import io
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any, Protocol

from babel import Locale, UnknownLocaleError

SOURCE_LOCALE = "nl"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = PROJECT_ROOT / "locales"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


class Translator(Protocol):
    """What the engine and renderers need: plain and context-qualified lookups."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def pgettext(self, context: str, message: str) -> str: ...


def N_(message: str) -> str:
    """Mark a text for Babel where it is defined; it is translated where it is shown."""
    return message


@cache
def available_locales(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """Read once per folder: every turn negotiates its language with it."""
    found = sorted(p.parent.parent.name for p in locales_dir.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LOCALE, *[code for code in found if code != SOURCE_LOCALE])


# A `.po` saved this much later than its `.mo` was edited after `pybabel compile`. (A git
# checkout writes both within moments of each other, in either order.)
EDITED_AFTER_COMPILE_SECONDS = 2.0


@cache
def translator(locale: str, locales_dir: Path = LOCALES_DIR) -> Translator:
    """The translations for one locale; the source locale (and unknown ones) get Dutch.

    From the compiled catalog (`messages.mo`, made by `pybabel compile -d locales`) when it
    is current: reading it takes 2 ms and its texts. Else (a language just added, or a
    `.po` edited since) the `.po` is compiled here, which costs about 45 ms and 2 MB of
    the process's memory for good (Babel's parse of the whole file)."""
    po_path = locales_dir / locale / "LC_MESSAGES" / "messages.po"
    if locale == SOURCE_LOCALE or not po_path.exists():
        return gettext.NullTranslations()
    mo_path = po_path.with_suffix(".mo")
    if _compiled_is_current(po_path, mo_path):
        try:
            with mo_path.open("rb") as handle:
                return gettext.GNUTranslations(handle)
        except (OSError, struct.error):  # a damaged .mo: its .po still says it all
            pass
    return gettext.GNUTranslations(io.BytesIO(compile_catalog(po_path)))


def compile_catalog(po_path: Path) -> bytes:
    """What `pybabel compile` writes for this `.po` (fuzzy translations left out)."""
    from babel.messages.mofile import write_mo  # only without a current .mo
    from babel.messages.pofile import read_po

    locale = po_path.parent.parent.name
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _compiled_is_current(po_path: Path, mo_path: Path) -> bool:
    try:
        edited = po_path.stat().st_mtime - mo_path.stat().st_mtime
    except FileNotFoundError:
        return False
    return edited <= EDITED_AFTER_COMPILE_SECONDS


def negotiate(language_code: str | None, default: str = SOURCE_LOCALE) -> str:
    """Map a client's language tag (Telegram's `language_code`, e.g. `en-GB`) to ours."""
    if not language_code:
        return default
    tag = language_code.replace("-", "_")
    available = list(available_locales())
    match = Locale.negotiate([tag], available, sep="_")
    if match is None:
        try:
            match = Locale.negotiate([Locale.parse(tag).language], available, sep="_")
        except (ValueError, UnknownLocaleError):
            match = None
    return str(match) if match else default


@cache
def language_name(locale: str) -> str:
    """The language's own name ("Nederlands", "English"), as shown on the /taal buttons.

    Asked for only when shown: it loads the language's CLDR data (about 5 MB for Dutch),
    which a chat turn otherwise never needs."""
    try:
        name = Locale.parse(locale).get_display_name(locale) or locale
    except (ValueError, UnknownLocaleError):
        return locale
    return name[:1].upper() + name[1:]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


# -- extraction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Extracted:
    line: int
    context: str
    text: str
    comment: str


def extract_flows(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor for flows/*.yaml: every text of the flow, keyed by its context."""
    from bot.content.loader import FlowError, load_flow

    path = Path(getattr(fileobj, "name", ""))
    try:
        flow = load_flow(path)
    except FlowError as exc:
        raise SystemExit(f"cannot extract from a broken flow:\n{exc}") from exc
    for item in flow_texts(flow):
        yield item.line, "pgettext", (item.context, item.text), [item.comment]


def flow_texts(flow: Any) -> Iterator[_Extracted]:
    """Every translatable text of a flow, in reading order."""
    yield _Extracted(1, flow.title.context, flow.title.source, "flow title")
    for topic in flow.topics:
        yield _Extracted(topic.line, topic.title.context, topic.title.source, "topic title")
        yield _Extracted(topic.line, topic.intro.context, topic.intro.source, "topic intro")
        if topic.permission:
            yield _Extracted(
                topic.line, topic.permission.context, topic.permission.source, "asks permission"
            )
        if topic.proxy_note:
            yield _Extracted(
                topic.line,
                topic.proxy_note.context,
                topic.proxy_note.source,
                "note before the topic's questions for someone who answers for the person; "
                "{name} is the person (a first name, or e.g. 'your mother')",
            )
        for q in topic.questions:
            kind = f"{q.type.value} question"
            for label, text in (
                ("text", q.text),
                ("the question asked about someone else; {name} is the person", q.about),
                ("help (Uitleg)", q.help),
                ("summary label for the GP", q.summary),
                ("scale: low end", q.low),
                ("scale: high end", q.high),
            ):
                if text is not None:
                    yield _Extracted(q.line, text.context, text.source, f"{kind}: {label}")
            for option in q.options:
                yield _Extracted(
                    option.line or q.line,
                    option.label.context,
                    option.label.source,
                    f"option of {q.id}",
                )
                for alias in option.aliases:
                    yield _Extracted(
                        option.line or q.line,
                        alias.context,
                        alias.source,
                        "other words for this option, separated by |",
                    )
    for rule in getattr(flow, "discuss", ()):
        yield _Extracted(
            rule.line,
            rule.text.context,
            rule.text.source,
            "summary, 'Om te bespreken': for the professional, when answers do not fit together",
        )
