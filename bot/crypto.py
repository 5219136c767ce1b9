"""Encryption at rest for LINE user ids and free text, and keyed hashes for lookup.

Keys are derived from CONSULT_SECRET_KEY with HKDF, so one secret the city keeps safe is enough.
Ciphertexts carry a key id, so data written under an old secret stays readable after a rotation
(CONSULT_OLD_SECRET_KEYS) until `consult-bot keys reencrypt` (bot/rekey.py) has rewritten it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"consult-bot/v1", info=purpose).derive(
        secret.encode()
    )


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    aead: dict[str, AESGCM]
    # Current secret's lookup key first, then the old secrets' (a returning resident whose hash
    # was computed before a rotation is still found, and re-hashed; see bot/rekey.py).
    lookup_keys: tuple[bytes, ...]

    @property
    def lookup_key(self) -> bytes:
        return self.lookup_keys[0]

    @classmethod
    def from_secrets(cls, secret: str, old: list[str] | None = None) -> KeyRing:
        aead = {}
        lookup: list[bytes] = []
        for s in [secret, *(old or [])]:
            key = _derive(s, b"aes-gcm data at rest")
            kid = hashlib.sha256(key).hexdigest()[:8]
            aead.setdefault(kid, AESGCM(key))
            hkey = _derive(s, b"hmac user lookup")
            if hkey not in lookup:
                lookup.append(hkey)
        current = next(iter(aead))
        return cls(current_id=current, aead=aead, lookup_keys=tuple(lookup))


_ring: KeyRing | None = None


def configure(secret: str, old_secrets: list[str] | None = None) -> KeyRing:
    global _ring
    _ring = KeyRing.from_secrets(secret, old_secrets)
    return _ring


def ring() -> KeyRing:
    if _ring is None:
        raise RuntimeError("bot.crypto.configure(secret) was not called")
    return _ring


def encrypt(plaintext: str) -> str:
    r = ring()
    nonce = os.urandom(12)
    ct = r.aead[r.current_id].encrypt(nonce, plaintext.encode(), r.current_id.encode())
    return f"{r.current_id}:{base64.b64encode(nonce + ct).decode()}"


def decrypt(token: str) -> str:
    r = ring()
    kid, _, body = token.partition(":")
    if kid not in r.aead:
        raise ValueError("data was encrypted with a key this service does not have")
    raw = base64.b64decode(body)
    return r.aead[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()


def is_current(token: str) -> bool:
    """Whether this ciphertext was written with the current key."""
    return token.startswith(ring().current_id + ":")


def reencrypt(token: str) -> str:
    """The same plaintext under the current key (raises if no key in the ring can read it)."""
    return encrypt(decrypt(token))


def lookup_hash(value: str) -> str:
    """Keyed hash (HMAC-SHA256) so a LINE user id can be found without storing it in clear."""
    return hmac.new(ring().lookup_key, value.encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """The hash under the current secret first, then under each old secret still in the ring:
    rows hashed before a rotation (and not yet re-hashed by `consult-bot keys reencrypt`)."""
    return [hmac.new(k, value.encode(), hashlib.sha256).hexdigest() for k in ring().lookup_keys]


class EncryptedText(TypeDecorator[str]):
    """A str column stored as AES-GCM ciphertext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedJSON(TypeDecorator[object]):
    """A JSON value stored as AES-GCM ciphertext (for payloads that contain free text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(decrypt(value))
