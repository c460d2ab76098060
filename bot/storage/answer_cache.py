"""What a turn knows of a person's answers without reading them all again.

Two layers, both per process, bounded by people (least recently used go first), and both
dropped at once when the person is erased here:

- `HISTORIES`: the person's whole answer history as last committed, with the person's
  answers version at that moment. The database moves the version at every change to the
  person's answers (triggers, migration 0400), by any process or by hand, so a turn reads
  one number, and the history only when the number moved. A unit of work stages what it
  read and the answers it added (`Staged`); the entry is kept only after the commit, and
  only when the version at the end is the one read plus the answers added here (nothing
  else changed them meanwhile; on PostgreSQL the person row is locked from the read on).
- `DECRYPTED`: plaintexts by ciphertext, for when the history is read again. A ciphertext
  never changes and every encryption has a fresh nonce, so a hit is always the right
  plaintext, whatever happened in between (an edit, a key rotation, a reused row id).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PEOPLE = 1_000
STAGED = "tijdig.answer_histories"  # key in the session's `info`


class DecryptedAnswers:
    def __init__(self, people: int = PEOPLE) -> None:
        self.people = people
        self._by_person: OrderedDict[int, dict[bytes, Any]] = OrderedDict()

    def value(self, person_id: int, blob: bytes, decrypt: Callable[[bytes], Any]) -> Any:
        """The plaintext of `blob`, decrypted once. Callers must not change it: it is
        shared by later turns."""
        seen = self._by_person.get(person_id)
        if seen is None:
            seen = self._by_person[person_id] = {}
            while len(self._by_person) > self.people:
                self._by_person.popitem(last=False)
        else:
            self._by_person.move_to_end(person_id)
        if blob not in seen:
            seen[blob] = decrypt(blob)
        return seen[blob]

    def holds(self, person_id: int) -> bool:
        """Whether anything of this person is kept (for tests and checks)."""
        return bool(self._by_person.get(person_id))

    def forget(self, person_id: int) -> None:
        self._by_person.pop(person_id, None)


class AnswerHistories:
    def __init__(self, people: int = PEOPLE) -> None:
        self.people = people
        self._by_person: OrderedDict[int, tuple[int, tuple[Any, ...]]] = OrderedDict()

    def get(self, person_id: int, version: int) -> tuple[Any, ...] | None:
        """The history at `version`, or None when this process has not seen that one."""
        entry = self._by_person.get(person_id)
        if entry is None or entry[0] != version:
            return None
        self._by_person.move_to_end(person_id)
        return entry[1]

    def put(self, person_id: int, version: int, records: tuple[Any, ...]) -> None:
        self._by_person[person_id] = (version, records)
        self._by_person.move_to_end(person_id)
        while len(self._by_person) > self.people:
            self._by_person.popitem(last=False)

    def holds(self, person_id: int) -> bool:
        """Whether a history of this person is kept (for tests and checks)."""
        return person_id in self._by_person

    def forget(self, person_id: int) -> None:
        self._by_person.pop(person_id, None)


@dataclass
class Staged:
    """A person's history as this unit of work read it, plus the answers it added."""

    version: int
    records: list[Any]
    added: int = 0
    final: int | None = None  # the version at the end, read when the conversation is saved


def staged(info: dict[Any, Any]) -> dict[int, Staged]:
    """The histories staged in a session (its `info`), by person."""
    result: dict[int, Staged] = info.setdefault(STAGED, {})
    return result


def keep_committed(info: dict[Any, Any]) -> None:
    """After a commit: keep what was staged, if nothing else changed those answers."""
    for person_id, entry in info.pop(STAGED, {}).items():
        if entry.final is not None and entry.final == entry.version + entry.added:
            HISTORIES.put(person_id, entry.final, tuple(entry.records))
        else:
            HISTORIES.forget(person_id)


def forget(person_id: int) -> None:
    """The person is erased: nothing of them stays in this process."""
    DECRYPTED.forget(person_id)
    HISTORIES.forget(person_id)


DECRYPTED = DecryptedAnswers()
HISTORIES = AnswerHistories()
