"""Encryption at rest (AES-GCM), per-person data keys, and keyed lookups for user ids.

Three kinds of blob, told apart by their first byte:

- `0x01` (`Cipher.encrypt`): sealed with a key derived from `DATA_KEY` itself. Only the
  key-check value and rows written before per-person keys existed use it.
- `0x02` (`PersonKey.encrypt`): a person's content, sealed with that person's own random
  key. The 16-byte key id follows the version byte, so every ciphertext names its key.
  The plaintext is padded to a fixed bucket first, so that the length of a ciphertext
  does not tell which option was chosen.
- `0x03` (`Cipher.wrap`): a person key (or a database secret) sealed with a key derived
  from `DATA_KEY`. Destroying this one row makes every `0x02` blob of that person noise,
  wherever a copy of it lives (crypto-shredding).

Lookups use an HMAC, so the database never holds a Telegram user id or a terminal user
name in the clear, yet a returning person is still found in one indexed query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.setting_values import Secret

VERSION = b"\x01"
PERSON_VERSION = b"\x02"
WRAP_VERSION = b"\x03"
NONCE_BYTES = 12
KEY_ID_BYTES = 16
KEY_BYTES = 32
# Plaintexts are padded to the smallest bucket that holds them (beyond the last: the next
# multiple of it). 128 bytes hold every choice, yes/no, scale and small multi answer.
BUCKETS = (128, 256, 512, 1024, 2048, 4096)


class DataKeyError(Exception):
    """DATA_KEY is malformed, or the data was written with another key."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def parse_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise DataKeyError("DATA_KEY is not valid base64") from exc
    if len(raw) != 32:
        raise DataKeyError("DATA_KEY must be 32 random bytes, base64-encoded (44 characters)")
    return raw


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def bucket_size(length: int) -> int:
    """The padded size of a plaintext of `length` bytes (one byte of padding at least)."""
    needed = length + 1
    for size in BUCKETS:
        if needed <= size:
            return size
    last = BUCKETS[-1]
    return -(-needed // last) * last


def pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding: 0x80, then zeros up to the bucket size."""
    return data + b"\x80" + bytes(bucket_size(len(data)) - len(data) - 1)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise DataKeyError("the padding of a decrypted value is broken")
    return end[:-1]


def _seal(key: bytes, version: bytes, header: bytes, value: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return version + header + nonce + AESGCM(key).encrypt(nonce, value, aad)


def _open(key: bytes, body: bytes, aad: bytes, what: str) -> bytes:
    nonce, sealed = body[:NONCE_BYTES], body[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise DataKeyError(what) from exc


@dataclass(frozen=True)
class PersonKey:
    """One person's data key: everything personal about them is sealed with it."""

    key_id: bytes
    key: bytes = field(repr=False)

    @classmethod
    def new(cls) -> PersonKey:
        return cls(os.urandom(KEY_ID_BYTES), AESGCM.generate_key(bit_length=256))

    def _aad(self, purpose: str) -> bytes:
        return purpose.encode() + b"\x1f" + self.key_id

    def encrypt(self, value: bytes, purpose: str) -> bytes:
        return _seal(self.key, PERSON_VERSION, self.key_id, pad(value), self._aad(purpose))

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        if key_id_of(blob) != self.key_id:
            raise DataKeyError("the value was encrypted with another person's key")
        body = blob[1 + KEY_ID_BYTES :]
        return unpad(_open(self.key, body, self._aad(purpose), "the value cannot be decrypted"))

    def encrypt_json(self, value: Any, purpose: str) -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False).encode(), purpose)

    def decrypt_json(self, blob: bytes, purpose: str) -> Any:
        return json.loads(self.decrypt(blob, purpose))

    def encrypt_text(self, value: str | None, purpose: str) -> bytes | None:
        return None if value is None else self.encrypt(value.encode(), purpose)

    def decrypt_text(self, blob: bytes | None, purpose: str) -> str | None:
        return None if blob is None else self.decrypt(blob, purpose).decode()


def key_id_of(blob: bytes) -> bytes:
    """The id of the person key a `0x02` blob was sealed with."""
    if len(blob) < 1 + KEY_ID_BYTES or blob[:1] != PERSON_VERSION:
        raise DataKeyError("unknown encryption format")
    return blob[1 : 1 + KEY_ID_BYTES]


@dataclass(frozen=True)
class Cipher:
    """The keys that come from DATA_KEY: for wrapping person keys, for the key check, and
    the lookup key (stored wrapped in the database, so it survives a key rotation)."""

    data_key: bytes = field(repr=False)
    lookup_key: bytes = field(repr=False)
    wrap_key: bytes = field(repr=False)

    @classmethod
    def from_master(cls, master: bytes) -> Cipher:
        return cls(
            _derive(master, b"tijdig data v1"),
            _derive(master, b"tijdig lookup v1"),
            _derive(master, b"tijdig wrap v1"),
        )

    def encrypt(self, value: bytes, purpose: str) -> bytes:
        return _seal(self.data_key, VERSION, b"", value, purpose.encode())

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        if not blob or blob[:1] != VERSION:
            raise DataKeyError("unknown encryption format")
        return _open(
            self.data_key,
            blob[1:],
            purpose.encode(),
            "the data was encrypted with another DATA_KEY",
        )

    def decrypt_json(self, blob: bytes, purpose: str) -> Any:
        return json.loads(self.decrypt(blob, purpose))

    def decrypt_text(self, blob: bytes | None, purpose: str) -> str | None:
        return None if blob is None else self.decrypt(blob, purpose).decode()

    def wrap(self, secret: bytes, label: bytes) -> bytes:
        """Seal a key under DATA_KEY; `label` (a key id, a secret's name) is bound in."""
        return _seal(self.wrap_key, WRAP_VERSION, b"", secret, b"wrap\x1f" + label)

    def unwrap(self, blob: bytes, label: bytes) -> bytes:
        if not blob or blob[:1] != WRAP_VERSION:
            raise DataKeyError("unknown key format")
        return _open(
            self.wrap_key,
            blob[1:],
            b"wrap\x1f" + label,
            "the data was encrypted with another DATA_KEY",
        )

    def lookup(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()


def _secret_text(configured: str | Secret | None) -> str | None:
    if isinstance(configured, Secret):
        return configured.get_secret_value()
    return configured


def load_or_create_key(
    configured: str | Secret | None,
    key_file: Path | None,
    database: Path | None = None,
) -> tuple[bytes, str | None]:
    """The master key, and a sentence to show once when a new key file was just created.

    A key file is only ever created beside a database that does not exist yet: a missing
    key file beside an existing database means the key was lost or moved, and a new key
    would make everything in it unreadable. Nothing is written then.
    """
    text = _secret_text(configured)
    if text:
        return parse_key(text), None
    if key_file is None:
        raise DataKeyError(
            "DATA_KEY must be set for this database (only the embedded SQLite default "
            "creates a key file by itself)"
        )
    if key_file.exists():
        return parse_key(key_file.read_text(encoding="ascii")), None
    if database is not None and database.exists() and database.stat().st_size > 0:
        raise DataKeyError(
            f"the database {database} exists but its key file {key_file} is missing; put the "
            "key file back from your backup (or set DATA_KEY), since a new key cannot read it"
        )
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = new_key_text()
    write_key_file(key_file, text)
    return parse_key(text), (
        f"Created a new data key in {key_file}. Answers are encrypted with it: keep it safe "
        "and back it up with the database (or set DATA_KEY)."
    )


def write_key_file(path: Path, text: str) -> None:
    """Write a key file readable by its owner only, flushed to disk; never overwrites."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
