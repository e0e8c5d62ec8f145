"""Client secrets: generated with 256 bits of randomness, stored only as a hash.

* A generated secret (`etgs_` + 43 base64url characters) is high-entropy, so a fast hash
  (SHA-256) is enough: nobody can guess their way to a preimage of 2^256 candidates, and the
  token endpoint stays fast.
* An imported secret (one the department already handed out) is of unknown strength, so it is
  hashed with argon2id, which makes guessing expensive; it is flagged weak when short.

Verification compares in constant time (`hmac.compare_digest`; argon2 verifies in constant time
itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SECRET_PREFIX = "etgs_"  # noqa: S105 - a prefix, not a secret
SHA256 = "sha256"
ARGON2ID = "argon2id"
# Imported secrets shorter than this are flagged weak (NIST SP 800-63B-like length floor for
# machine secrets: 128 bits of base64 text is 22 characters; we ask for 32).
WEAK_BELOW = 32
MAX_SECRET_LENGTH = 512

# RFC 9106's second recommended option (64 MiB, 3 passes), parallelism 1 for a 2-core host.
_ARGON2 = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


def generate_secret() -> str:
    """A new client secret: recognisable prefix + 32 random bytes, base64url."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_generated(secret: str) -> tuple[str, str]:
    return SHA256, sha256_hex(secret)


def hash_imported(secret: str) -> tuple[str, str]:
    return ARGON2ID, _ARGON2.hash(secret)


def dummy_argon2id() -> str:
    """An argon2id hash (same parameters as imported secrets) of a secret nobody knows."""
    return _ARGON2.hash(secrets.token_urlsafe(32))


def is_weak(secret: str) -> bool:
    """Short, or drawn from very few distinct characters."""
    return len(secret) < WEAK_BELOW or len(set(secret)) < 10


@dataclass(frozen=True)
class StoredSecret:
    hash_kind: str
    secret_hash: str
    expires_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def verify(presented: str, stored: StoredSecret) -> bool:
    """Whether `presented` matches `stored`, in time independent of where they differ."""
    if len(presented) > MAX_SECRET_LENGTH:
        return False
    if stored.hash_kind == SHA256:
        return hmac.compare_digest(sha256_hex(presented), stored.secret_hash)
    if stored.hash_kind == ARGON2ID:
        try:
            return _ARGON2.verify(stored.secret_hash, presented)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return False


def verify_any(presented: str, stored: tuple[StoredSecret, ...], now: datetime) -> bool:
    """True if any usable stored secret matches. Every usable one is checked, so the time taken
    does not reveal which (old or new, during a rotation overlap) matched."""
    matched = False
    for candidate in stored:
        if candidate.usable(now) and verify(presented, candidate):
            matched = True
    return matched
