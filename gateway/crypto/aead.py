"""Encryption at rest for secrets the gateway must send on (vendor passwords, signing keys).

AES-256-GCM under a master key from configuration. Each blob records the id of the master key
that sealed it, so the master key can rotate: new values use the first configured key, old
values still open with the key they name. The associated data binds a blob to its place
(table, column, row id): a ciphertext copied into another row does not open.

Blob layout: b"v1" | len(kid) (1 byte) | kid | nonce (12 bytes) | ciphertext+tag
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.errors import ConfigurationError, GatewayError
from gateway.settings import MasterKey

_VERSION = b"v1"


class DecryptionFailed(GatewayError):
    """A blob did not open: wrong key, wrong place, or tampered with."""


def seal(keys: tuple[MasterKey, ...], plaintext: bytes, aad: bytes) -> bytes:
    if not keys:
        raise ConfigurationError("no master key configured (GATEWAY_MASTER_KEY)")
    key = keys[0]
    kid = key.kid.encode()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key.key).encrypt(nonce, plaintext, aad)
    return _VERSION + bytes([len(kid)]) + kid + nonce + sealed


def key_id(blob: bytes) -> str:
    if blob[:2] != _VERSION:
        raise DecryptionFailed("unknown encryption format")
    return blob[3 : 3 + blob[2]].decode()


def open_sealed(keys: tuple[MasterKey, ...], blob: bytes, aad: bytes) -> bytes:
    kid = key_id(blob)
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise DecryptionFailed(f"master key {kid!r} is not configured")
    start = 3 + blob[2]
    nonce, sealed = blob[start : start + 12], blob[start + 12 :]
    try:
        return AESGCM(key.key).decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise DecryptionFailed("the encrypted value does not open here") from exc


def seal_text(keys: tuple[MasterKey, ...], text: str, aad: str) -> bytes:
    return seal(keys, text.encode("utf-8"), aad.encode("utf-8"))


def open_text(keys: tuple[MasterKey, ...], blob: bytes, aad: str) -> str:
    return open_sealed(keys, blob, aad.encode("utf-8")).decode("utf-8")
