"""Decrypted answers of the people who are chatting now, so a turn does not decrypt a
person's whole history again.

Each turn reads the person's answer rows (they are the truth: another process, a relative
or an erase may have changed them), but decrypts only ciphertexts it has not seen: the
cache is keyed by the ciphertext itself. A ciphertext never changes and every encryption
has a fresh nonce, so a hit is always the right plaintext, whatever happened in between
(an edit, a key rotation, a reused row id). Bounded by people, least recently used first;
a person's entries go at once when the person is erased in this process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

PEOPLE = 1_000


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


DECRYPTED = DecryptedAnswers()
