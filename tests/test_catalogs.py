"""The translation catalogs: locales/messages.pot is current, and every language is complete.

Why: a text added to the flow or to the code reaches a non-Dutch speaker only after it is
extracted into messages.pot and translated in locales/<lang>/LC_MESSAGES/messages.po. When
this test fails, run the commands in docs/content.md ("Update the translations"):

    pybabel extract -F babel.cfg -o locales/messages.pot --add-comments=TRANSLATORS: .
    pybabel update -i locales/messages.pot -d locales --ignore-obsolete

then translate what is new or marked fuzzy, and remove the `#, fuzzy` marks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import placeholders

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
POT = LOCALES_DIR / "messages.pot"
LOCALES = sorted(p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))

Key = tuple[str | None, str]


def key(message: Message) -> Key:
    msgid = message.id[0] if isinstance(message.id, list | tuple) else message.id
    return message.context, msgid


@cache
def fresh_extraction() -> frozenset[Key]:
    """What `pybabel extract -F babel.cfg` would find now, without writing a file."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[Key] = set()
    for _filename, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message[0] if isinstance(message, list | tuple) else message
        if msgid:
            found.add((context, msgid))
    return frozenset(found)


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def entries(catalog: Catalog) -> dict[Key, Message]:
    return {key(m): m for m in catalog if m.id}


def translation_problems(template: Catalog, catalog: Catalog) -> list[str]:
    """Everything that keeps a language from being complete and correct."""
    wanted = entries(template)
    have = entries(catalog)
    problems = [f"missing: {k}" for k in wanted.keys() - have.keys()]
    problems += [f"not in messages.pot (run pybabel update): {k}" for k in have.keys() - wanted]
    for k, message in have.items():
        strings = message.string if isinstance(message.string, list | tuple) else [message.string]
        ids = message.id if isinstance(message.id, list | tuple) else [message.id]
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {k}")
        elif message.fuzzy:
            problems.append(f"fuzzy (check it, then remove the mark): {k}")
        elif any(placeholders(s) != placeholders(ids[0]) for s in strings):
            problems.append(f"other {{placeholders}} than the Dutch: {k}")
    return problems


def test_there_is_a_template_and_at_least_one_translation() -> None:
    assert POT.exists()
    assert "en" in LOCALES


def test_messages_pot_is_up_to_date() -> None:
    fresh = fresh_extraction()
    assert any(context and context.startswith("tijdig.") for context, _ in fresh), (
        "the flows were not extracted; check babel.cfg"
    )
    in_pot = frozenset(entries(read_catalog(POT)))
    assert sorted(fresh - in_pot, key=str) == [], "new texts: run pybabel extract"
    assert sorted(in_pot - fresh, key=str) == [], "texts that are gone: run pybabel extract"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_language_is_complete(locale: str) -> None:
    template = read_catalog(POT)
    catalog = read_catalog(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    assert translation_problems(template, catalog) == []
    assert [error for error in catalog.check()] == []


# -- the check can fail ---------------------------------------------------------------------------


def test_the_check_flags_missing_fuzzy_untranslated_and_placeholder_errors() -> None:
    template = Catalog()
    for msgid in ("Klaar", "Dank u wel, {name}.", "Verder", "Terug", "Nieuw"):
        template.add(msgid)
    template.add("Reanimatie", context="tijdig.reanimatie.summary")
    catalog = Catalog(locale="en")
    catalog.add("Klaar", "Done")
    catalog.add("Dank u wel, {name}.", "Thank you, {naam}.")
    catalog.add("Verder", "Continue", flags=["fuzzy"])
    catalog.add("Terug", "")
    catalog.add("Oud", "Old")
    catalog.add("Reanimatie", "Resuscitation", context="tijdig.reanimatie.summary")
    problems = translation_problems(template, catalog)
    assert sorted(p.split(":")[0] for p in problems) == sorted(
        [
            "missing",
            "not in messages.pot (run pybabel update)",
            "other {placeholders} than the Dutch",
            "fuzzy (check it, then remove the mark)",
            "untranslated",
        ]
    )


def test_every_language_is_shipped_compiled() -> None:
    """Tijdig reads each language's compiled catalog at start (2 ms, where compiling the
    .po took 45 ms and 2 MB of memory for good): it must be the .po, compiled."""
    from bot.content.check import compiled_catalog_issues

    assert [str(issue) for issue in compiled_catalog_issues()] == []


def _language(folder: Path, translated: str, compiled: str) -> Path:
    """A language `xx` whose .po says `translated` for "Verder" and whose .mo says
    `compiled`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    messages = folder / "xx" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    for text, write, name in ((translated, write_po, "messages.po"), (compiled, write_mo, "")):
        catalog = Catalog(locale="en")
        catalog.add("Verder", text)
        with (messages / (name or "messages.mo")).open("wb") as handle:
            write(handle, catalog)
    return messages / "messages.po"


def test_the_compiled_catalog_is_read_when_current_else_the_po(tmp_path: Path) -> None:
    """The .mo when it is current; the .po when it was edited since, when there is no .mo
    yet, or when the .mo is damaged (never a crash at start over a derived file)."""
    import os

    from bot.content.check import compiled_catalog_issues
    from bot.i18n import translator

    current = _language(tmp_path / "current", "Continue", "Continue (compiled)")
    assert translator("xx", tmp_path / "current").gettext("Verder") == "Continue (compiled)"
    assert [issue.message for issue in compiled_catalog_issues(tmp_path / "current")] == [
        "not the compiled translations of messages.po: run `pybabel compile -d locales` "
        "(see docs/content.md)"
    ]
    edited = _language(tmp_path / "edited", "Continue", "Continue (compiled)")
    later = edited.stat().st_mtime + 60
    os.utime(edited, (later, later))  # the .po saved a minute after `pybabel compile`
    assert translator("xx", tmp_path / "edited").gettext("Verder") == "Continue"
    missing = _language(tmp_path / "missing", "Continue", "unused")
    missing.with_suffix(".mo").unlink()  # a language just added: its .po is enough
    assert translator("xx", tmp_path / "missing").gettext("Verder") == "Continue"
    for damage in (b"", b"not a catalog", current.with_suffix(".mo").read_bytes()[:40]):
        folder = tmp_path / f"damaged{len(damage)}"
        damaged = _language(folder, "Continue", "unused")
        damaged.with_suffix(".mo").write_bytes(damage)
        assert translator("xx", folder).gettext("Verder") == "Continue"
