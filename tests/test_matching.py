"""Typed text to buttons (bot/engine/matching.py).

Why: many older people type "ja", "2" or "weet ik niet" instead of pressing a button. A
match must be forgiving about case, accents and small typos, yet never guess between two
buttons: a wrong guess would store an answer the person did not give.
"""

from __future__ import annotations

import pytest

from bot.engine.matching import match_many, match_one, normalize

WOONPLEK = [
    ("In mijn eigen huis", "thuis", "hier"),
    ("In een aangepaste woning",),
    ("Waar zorg is",),
    ("Weet ik nog niet",),
]


@pytest.mark.parametrize(
    ("typed", "index"),
    [("1", 0), ("2", 1), (" 4 ", 3), ("(2)", 1), ("3.", 2), ("4)", 3), ("01", 0)],
)
def test_a_number_picks_by_position(typed: str, index: int) -> None:
    assert match_one(typed, WOONPLEK) == index


@pytest.mark.parametrize("typed", ["0", "5", "99", "-1", "1.5"])
def test_a_number_without_a_button_matches_nothing(typed: str) -> None:
    assert match_one(typed, WOONPLEK) is None


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("In een aangepaste woning", 1),
        ("in een aangepaste woning", 1),
        ("IN EEN AANGEPASTE WONING!", 1),
        ("  in   een aangepaste   woning. ", 1),
        ("Waar zorg is?", 2),
        ("thuis", 0),
        ("Thuis", 0),
        ("hiér", 0),
    ],
)
def test_labels_and_aliases_ignore_case_accents_and_punctuation(typed: str, index: int) -> None:
    assert match_one(typed, WOONPLEK) == index


def test_accents_on_the_button_side_too() -> None:
    assert match_one("cafe", [("Café",), ("Thee",)]) == 0
    assert match_one("CAFÉ", [("Cafe",), ("Thee",)]) == 0


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("weet ik niet", 3),  # "Weet ik nog niet"
        ("wet ik nog niet", 3),  # a typo
        ("In mijn eigen hu", 0),  # cut short
        ("in een", 1),  # the start of one label only
    ],
)
def test_close_matches(typed: str, index: int) -> None:
    assert match_one(typed, WOONPLEK) == index


@pytest.mark.parametrize("typed", ["", "   ", "!!", "misschien", "eigen", "de"])
def test_nothing_close_matches_nothing(typed: str) -> None:
    assert match_one(typed, WOONPLEK) is None


def test_spellings_separated_by_a_bar() -> None:
    choices = [("Ja|Jawel",), ("Nee|Nee hoor",)]
    assert match_one("jawel", choices) == 0
    assert match_one("nee hoor", choices) == 1


def test_ambiguity_gives_none() -> None:
    # the same word on two buttons
    assert match_one("ja", [("ja",), ("ja",)]) is None
    # a start shared by two labels
    assert match_one("lac", [("Lachen",), ("Lachen en huilen",)]) is None
    # close to two labels
    assert match_one("lezen", [("Lezen 1",), ("Lezen 2",)]) is None


def test_an_exact_match_beats_a_longer_label() -> None:
    assert match_one("ja", [("Ja",), ("Ja, graag",)]) == 0


def test_short_text_is_not_a_prefix_match() -> None:
    assert match_one("la", [("Lezen",), ("Lachen",)]) is None
    assert match_one("lez", [("Lezen",), ("Lachen",)]) == 0


def test_normalize() -> None:
    assert normalize("  Één   Café-Crème! ") == "een cafe creme"
    assert normalize("WEET-ik  NIET?") == "weet ik niet"


HOBBY = [("Wandelen",), ("Lezen",), ("Muziek",)]


@pytest.mark.parametrize(
    ("typed", "indexes"),
    [
        ("1, 3", [0, 2]),
        ("1,3", [0, 2]),
        ("1 3", [0, 2]),
        ("3; 1", [2, 0]),
        ("1/2", [0, 1]),
        ("wandelen en lezen", [0, 1]),
        ("Muziek and Lezen", [2, 1]),
        ("1, 1, 2", [0, 1]),  # a repeat counts once
        ("lezen", [1]),
        ("2", [1]),
    ],
)
def test_match_many(typed: str, indexes: list[int]) -> None:
    assert match_many(typed, HOBBY) == indexes


@pytest.mark.parametrize("typed", ["1, 9", "wandelen en zwemmen", "zwemmen", "", "en"])
def test_match_many_with_an_unclear_part_gives_none(typed: str) -> None:
    assert match_many(typed, HOBBY) is None


def test_match_many_prefers_a_whole_label_with_a_separator_word() -> None:
    choices = [("Wandelen en fietsen",), ("Lezen",)]
    assert match_many("wandelen en fietsen", choices) == [0]
