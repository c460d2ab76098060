"""Encryption at rest for answers and names (AES-GCM), and keyed lookups for user ids.

Both keys are derived from one `DATA_KEY` with HKDF, so one secret is all an operator keeps.
Lookups use an HMAC, so the database never holds a Telegram user id or a terminal user
name in the clear, yet a returning person is still found in one indexed query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12


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


@dataclass(frozen=True)
class Cipher:
    """Encrypts values for one column purpose; the purpose is bound in as associated data."""

    data_key: bytes
    lookup_key: bytes

    @classmethod
    def from_master(cls, master: bytes) -> Cipher:
        return cls(_derive(master, b"tijdig data v1"), _derive(master, b"tijdig lookup v1"))

    def encrypt(self, value: bytes, purpose: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.data_key).encrypt(nonce, value, purpose.encode())
        return VERSION + nonce + sealed

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        if not blob or blob[:1] != VERSION:
            raise DataKeyError("unknown encryption format")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return AESGCM(self.data_key).decrypt(nonce, sealed, purpose.encode())
        except InvalidTag as exc:
            raise DataKeyError("the data was encrypted with another DATA_KEY") from exc

    def encrypt_json(self, value: Any, purpose: str) -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False).encode(), purpose)

    def decrypt_json(self, blob: bytes, purpose: str) -> Any:
        return json.loads(self.decrypt(blob, purpose))

    def encrypt_text(self, value: str | None, purpose: str) -> bytes | None:
        return None if value is None else self.encrypt(value.encode(), purpose)

    def decrypt_text(self, blob: bytes | None, purpose: str) -> str | None:
        return None if blob is None else self.decrypt(blob, purpose).decode()

    def lookup(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, key_file: Path | None) -> tuple[bytes, str | None]:
    """The master key, and a sentence to show once when a new key file was just created."""
    if configured:
        return parse_key(configured), None
    if key_file is None:
        raise DataKeyError(
            "DATA_KEY must be set for this database (only the embedded SQLite default "
            "creates a key file by itself)"
        )
    if key_file.exists():
        return parse_key(key_file.read_text(encoding="ascii")), None
    key_file.parent.mkdir(parents=True, exist_ok=True)
    text = new_key_text()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return parse_key(text), (
        f"Created a new data key in {key_file}. Answers are encrypted with it: keep it safe "
        "and back it up with the database (or set DATA_KEY)."
    )
