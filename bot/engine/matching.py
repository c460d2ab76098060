"""Typed text to a button: "ja", "2", "weet ik niet" should work where a button is expected."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"^\(?(\d{1,2})[.)]?$")
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\ben\b|\band\b|\s)\s*")


def normalize(text: str) -> str:
    """Lower case, accents and punctuation gone, spaces folded: how people really type."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w\s]", " ", plain)
    return " ".join(plain.split())


def match_one(
    text: str, choices: Sequence[Iterable[str]], numbered: int | None = None
) -> int | None:
    """Index of the choice the text means, or None. Each choice has several spellings.

    A number picks by position (1-based) among the first `numbered` choices (all when
    None: controls such as "Overslaan" have no number when typed); otherwise an exact
    spelling wins, then a close one (so "weet ik niet" finds "Weet ik nog niet"), but only
    when it is unambiguous.
    """
    stripped = text.strip()
    number = _NUMBER.match(stripped)
    if number:
        index = int(number.group(1)) - 1
        limit = len(choices) if numbered is None else numbered
        return index if 0 <= index < limit else None
    wanted = normalize(stripped)
    if not wanted:
        return None
    spellings: dict[str, set[int]] = {}
    for index, names in enumerate(choices):
        for name in names:
            for part in name.split("|"):
                key = normalize(part)
                if key:
                    spellings.setdefault(key, set()).add(index)
    exact = spellings.get(wanted)
    if exact is not None:
        return next(iter(exact)) if len(exact) == 1 else None
    close = difflib.get_close_matches(wanted, list(spellings), n=2, cutoff=0.8)
    hits = {i for key in close for i in spellings[key]}
    if not hits and len(wanted) >= 3:
        hits = {i for key, found in spellings.items() if key.startswith(wanted) for i in found}
    return next(iter(hits)) if len(hits) == 1 else None


def match_many(
    text: str, choices: Sequence[Iterable[str]], numbered: int | None = None
) -> list[int] | None:
    """Several choices at once ("1, 3" or "wandelen en lezen"); None if any part is unclear."""
    whole = match_one(text, choices, numbered)
    if whole is not None:
        return [whole]
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    if len(parts) < 2:
        return None
    found: list[int] = []
    for part in parts:
        index = match_one(part, choices, numbered)
        if index is None:
            return None
        if index not in found:
            found.append(index)
    return found
