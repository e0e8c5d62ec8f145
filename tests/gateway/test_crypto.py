"""Secrets: generation, hashing, constant-time verification, and sealing at rest."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from gateway.crypto import aead, client_secrets
from gateway.crypto.client_secrets import StoredSecret
from gateway.settings import MasterKey


def test_generated_secrets_have_256_bits_and_a_prefix() -> None:
    values = {client_secrets.generate_secret() for _ in range(200)}
    assert len(values) == 200
    for value in values:
        assert value.startswith("etgs_")
        assert len(value) == 5 + 43  # base64url of 32 bytes


def test_fast_and_slow_hashes_verify_only_the_right_secret() -> None:
    secret = client_secrets.generate_secret()
    for kind, digest in (
        client_secrets.hash_generated(secret),
        client_secrets.hash_imported(secret),
    ):
        stored = StoredSecret(kind, digest, None)
        assert secret not in digest
        assert client_secrets.verify(secret, stored)
        assert not client_secrets.verify(secret + "x", stored)
        assert not client_secrets.verify("", stored)
    assert not client_secrets.verify(
        "x" * 600, StoredSecret(*client_secrets.hash_generated("x" * 600), None)
    )


def test_expired_secrets_do_not_verify() -> None:
    secret = client_secrets.generate_secret()
    now = datetime.now(UTC)
    expired = StoredSecret(*client_secrets.hash_generated(secret), now - timedelta(seconds=1))
    current = StoredSecret(*client_secrets.hash_generated("other"), None)
    assert not client_secrets.verify_any(secret, (expired, current), now)
    assert client_secrets.verify_any("other", (expired, current), now)


@pytest.mark.parametrize(
    ("secret", "weak"), [("short", True), ("a" * 40, True), (secrets.token_urlsafe(32), False)]
)
def test_weakness(secret: str, weak: bool) -> None:
    assert client_secrets.is_weak(secret) is weak


def keys(*kids: str) -> tuple[MasterKey, ...]:
    return tuple(MasterKey(kid, secrets.token_bytes(32)) for kid in kids)


def test_sealed_values_open_only_in_their_place_and_with_their_key() -> None:
    ring = keys("k2", "k1")
    blob = aead.seal_text(ring, "vendor password", "outgoing.password:abc")
    assert b"vendor password" not in blob
    assert aead.key_id(blob) == "k2"
    assert aead.open_text(ring, blob, "outgoing.password:abc") == "vendor password"
    with pytest.raises(aead.DecryptionFailed):
        aead.open_text(ring, blob, "outgoing.password:other-row")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(aead.DecryptionFailed):
        aead.open_text(ring, tampered, "outgoing.password:abc")
    with pytest.raises(aead.DecryptionFailed, match="not configured"):
        aead.open_text(keys("k9"), blob, "outgoing.password:abc")


def test_master_key_rotation_old_blobs_still_open() -> None:
    old_ring = keys("k1")
    blob = aead.seal_text(old_ring, "secret", "x")
    new_ring = (MasterKey("k2", secrets.token_bytes(32)), old_ring[0])
    assert aead.open_text(new_ring, blob, "x") == "secret"
    assert aead.key_id(aead.seal_text(new_ring, "secret", "x")) == "k2"
