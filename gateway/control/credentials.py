"""Key/secret pairs: issue, import, rotate, revoke, list.

A consumer credential belongs to one district and one consumer (the NC model: the department
gives CFNC one pair per district). An operator credential belongs to no district and carries
the `admin` scope, for the admin API. Secrets are returned once, by `issue` and `rotate`, and
never stored: only their hashes are (see `gateway.crypto.client_secrets`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.crypto import client_secrets
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.offload import OffLoop, in_thread

CONSUMER_SCOPES = ["etranscripts"]
OPERATOR_SCOPES = ["admin"]
CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{8,128}$")
MAX_OVERLAP = timedelta(days=30)

_LIST = """
SELECT c.credential_id, c.client_id, c.kind, c.label, c.scopes, c.status, c.imported,
       c.weak_secret, c.expires_at, c.created_at, c.created_by, u.last_used_at, u.tokens_issued, c.revoked_at,
       d.lea_code AS district, k.name AS consumer,
       (SELECT count(*) FROM credential_secrets s WHERE s.credential_id = c.credential_id
          AND (s.expires_at IS NULL OR s.expires_at > now())) AS usable_secrets,
       (SELECT max(s.expires_at) FROM credential_secrets s WHERE s.credential_id = c.credential_id
          AND s.expires_at > now()) AS overlap_ends
  FROM credentials c
  LEFT JOIN districts d ON d.district_id = c.district_id
  LEFT JOIN consumers k ON k.consumer_id = c.consumer_id
  LEFT JOIN credential_usage u ON u.credential_id = c.credential_id
"""


@dataclass(frozen=True)
class IssuedSecret:
    """What the operator hands over, once: the secret is not recoverable afterwards."""

    client_id: str
    client_secret: str
    credential_id: UUID
    district: str | None
    consumer: str | None
    expires_at: datetime | None


def _slug(text: str, limit: int = 16) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())[:limit] or "client"


def new_client_id(consumer: str, lea_code: str | None) -> str:
    """Readable and unique: `cfnc-920-3fa2c1d0` (consumer, district, 32 random bits)."""
    middle = f"-{lea_code.lower()}" if lea_code else ""
    return f"{_slug(consumer)}{middle}-{secrets.token_hex(4)}"


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValidationFailed({"expires": "The expiry date must be in the future"})


async def _insert(
    conn: asyncpg.Connection,
    *,
    client_id: str,
    kind: str,
    district_id: int | None,
    consumer_id: UUID | None,
    label: str,
    scopes: list[str],
    hash_kind: str,
    secret_hash: str,
    imported: bool,
    weak: bool,
    expires_at: datetime | None,
    actor: Actor,
) -> UUID:
    if not label.strip() or len(label) > 200:
        raise ValidationFailed({"name": "A name (label) is required, at most 200 characters"})
    try:
        credential_id: UUID = await conn.fetchval(
            "INSERT INTO credentials (client_id, kind, district_id, consumer_id, label, scopes,"
            " imported, weak_secret, expires_at, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING credential_id",
            client_id,
            kind,
            district_id,
            consumer_id,
            label.strip(),
            scopes,
            imported,
            weak,
            expires_at,
            f"{actor.type}:{actor.name}",
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"client id {client_id} is already in use") from None
    await conn.execute(
        "INSERT INTO credential_secrets (credential_id, hash_kind, secret_hash) VALUES ($1, $2, $3)",
        credential_id,
        hash_kind,
        secret_hash,
    )
    return credential_id


async def _district_and_consumer(
    conn: asyncpg.Connection, lea_code: str, consumer: str
) -> tuple[int, UUID, str]:
    district_id = await conn.fetchval(
        "SELECT district_id FROM districts WHERE lea_code = $1", lea_code.upper()
    )
    if district_id is None:
        raise NotFound(f"no district {lea_code}")
    row = await conn.fetchrow(
        "SELECT consumer_id, name FROM consumers WHERE name = $1", consumer.strip()
    )
    if row is None:
        raise NotFound(f"no consumer named {consumer!r} (add it with `gateway consumer add`)")
    return district_id, row["consumer_id"], row["name"]


async def _insert_generated(
    conn: asyncpg.Connection,
    *,
    client_id: str,
    kind: str,
    district_id: int | None,
    consumer_id: UUID | None,
    label: str,
    scopes: list[str],
    expires_at: datetime | None,
    actor: Actor,
) -> tuple[UUID, str]:
    """A credential with a freshly generated secret (SHA-256 stored); returns its id and the
    secret, which the caller shows once."""
    secret = client_secrets.generate_secret()
    hash_kind, digest = client_secrets.hash_generated(secret)
    credential_id = await _insert(
        conn,
        client_id=client_id,
        kind=kind,
        district_id=district_id,
        consumer_id=consumer_id,
        label=label,
        scopes=scopes,
        hash_kind=hash_kind,
        secret_hash=digest,
        imported=False,
        weak=False,
        expires_at=expires_at,
        actor=actor,
    )
    return credential_id, secret


async def issue(
    conn: asyncpg.Connection,
    *,
    lea_code: str,
    consumer: str,
    label: str,
    actor: Actor,
    expires_at: datetime | None = None,
) -> IssuedSecret:
    """A new consumer credential for one district, with a generated secret."""
    _check_expiry(expires_at)
    async with conn.transaction():
        district_id, consumer_id, consumer_name = await _district_and_consumer(
            conn, lea_code, consumer
        )
        client_id = new_client_id(consumer_name, lea_code)
        credential_id, secret = await _insert_generated(
            conn,
            client_id=client_id,
            kind="consumer",
            district_id=district_id,
            consumer_id=consumer_id,
            label=label,
            scopes=CONSUMER_SCOPES,
            expires_at=expires_at,
            actor=actor,
        )
        await record(
            conn,
            AuditEvent(
                actor,
                "credential.issue",
                district_id=district_id,
                target=client_id,
                detail={"consumer": consumer_name, "label": label},
            ),
        )
    return IssuedSecret(
        client_id, secret, credential_id, lea_code.upper(), consumer_name, expires_at
    )


async def issue_operator(
    conn: asyncpg.Connection, *, label: str, actor: Actor, expires_at: datetime | None = None
) -> IssuedSecret:
    """A credential for the admin API (client credentials with the `admin` scope)."""
    _check_expiry(expires_at)
    client_id = new_client_id("operator", None)
    async with conn.transaction():
        credential_id, secret = await _insert_generated(
            conn,
            client_id=client_id,
            kind="operator",
            district_id=None,
            consumer_id=None,
            label=label,
            scopes=OPERATOR_SCOPES,
            expires_at=expires_at,
            actor=actor,
        )
        await record(
            conn,
            AuditEvent(
                actor, "credential.issue_operator", target=client_id, detail={"label": label}
            ),
        )
    return IssuedSecret(client_id, secret, credential_id, None, None, expires_at)


@dataclass(frozen=True)
class ImportedSecret:
    """A pair the department already gave out, checked and hashed: ready to be stored."""

    client_id: str
    hash_kind: str
    secret_hash: str = field(repr=False)
    weak: bool
    expires_at: datetime | None


async def hash_import(
    *,
    client_id: str,
    secret: str,
    expires_at: datetime | None = None,
    off_loop: OffLoop = in_thread,
) -> ImportedSecret:
    """Check an imported pair and hash its secret. Its strength is unknown, so the secret is
    hashed with argon2id (by `off_loop`: the server's bounded pool), and flagged weak when
    short. Before any connection is taken: the hash takes tens of milliseconds, and a pooled
    connection held meanwhile would serve nobody."""
    _check_expiry(expires_at)
    if not CLIENT_ID.match(client_id):
        raise ValidationFailed({"client_id": "8-128 characters: letters, digits, . _ ~ -"})
    if not secret or len(secret) > client_secrets.MAX_SECRET_LENGTH or secret != secret.strip():
        raise ValidationFailed({"secret": "A secret of 1-512 characters, no surrounding spaces"})
    weak = client_secrets.is_weak(secret)
    # argon2id takes ~64 MiB and tens of milliseconds: not on the event loop.
    kind, digest = await off_loop(client_secrets.hash_imported, secret)
    return ImportedSecret(client_id, kind, digest, weak, expires_at)


async def import_existing(
    conn: asyncpg.Connection,
    imported: ImportedSecret,
    *,
    lea_code: str,
    consumer: str,
    label: str,
    actor: Actor,
) -> dict[str, Any]:
    """Keep a pair the department already gave out (`hash_import` checked and hashed it)."""
    client_id, weak, expires_at = imported.client_id, imported.weak, imported.expires_at
    async with conn.transaction():
        district_id, consumer_id, consumer_name = await _district_and_consumer(
            conn, lea_code, consumer
        )
        await _insert(
            conn,
            client_id=client_id,
            kind="consumer",
            district_id=district_id,
            consumer_id=consumer_id,
            label=label,
            scopes=CONSUMER_SCOPES,
            hash_kind=imported.hash_kind,
            secret_hash=imported.secret_hash,
            imported=True,
            weak=weak,
            expires_at=expires_at,
            actor=actor,
        )
        await record(
            conn,
            AuditEvent(
                actor,
                "credential.import",
                district_id=district_id,
                target=client_id,
                detail={"consumer": consumer_name, "weak": weak},
            ),
        )
    return {
        "client_id": client_id,
        "district": lea_code.upper(),
        "consumer": consumer_name,
        "weak_secret": weak,
    }


async def _active(conn: asyncpg.Connection, client_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT credential_id, district_id, status FROM credentials WHERE client_id = $1 FOR UPDATE",
        client_id,
    )
    if row is None:
        raise NotFound(f"no credential {client_id}")
    if row["status"] != "active":
        raise Conflict(f"credential {client_id} is revoked")
    return row


async def rotate(
    conn: asyncpg.Connection, client_id: str, *, overlap: timedelta, actor: Actor
) -> IssuedSecret:
    """A new secret; the secrets in use now stay valid until the overlap ends (at most 30 days;
    zero ends them at once)."""
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise ValidationFailed({"overlap": "Overlap between 0 and 30 days"})
    secret = client_secrets.generate_secret()
    kind, digest = client_secrets.hash_generated(secret)
    async with conn.transaction():
        row = await _active(conn, client_id)
        # Shorten, never lengthen, what an earlier rotation allowed.
        await conn.execute(
            "UPDATE credential_secrets SET expires_at = LEAST(COALESCE(expires_at, 'infinity'),"
            " now() + $2::interval) WHERE credential_id = $1"
            " AND (expires_at IS NULL OR expires_at > now())",
            row["credential_id"],
            overlap,
        )
        await conn.execute(
            "INSERT INTO credential_secrets (credential_id, hash_kind, secret_hash) VALUES ($1, $2, $3)",
            row["credential_id"],
            kind,
            digest,
        )
        # The credential row changes too, so that every worker reloads it at once.
        await conn.execute(
            "UPDATE credentials SET weak_secret = false WHERE credential_id = $1",
            row["credential_id"],
        )
        detail = await conn.fetchrow(
            "SELECT c.expires_at, d.lea_code, k.name FROM credentials c"
            " LEFT JOIN districts d USING (district_id) LEFT JOIN consumers k USING (consumer_id)"
            " WHERE c.credential_id = $1",
            row["credential_id"],
        )
        assert detail is not None
        await record(
            conn,
            AuditEvent(
                actor,
                "credential.rotate",
                district_id=row["district_id"],
                target=client_id,
                detail={"overlap_seconds": int(overlap.total_seconds())},
            ),
        )
    return IssuedSecret(
        client_id,
        secret,
        row["credential_id"],
        detail["lea_code"],
        detail["name"],
        detail["expires_at"],
    )


async def revoke(conn: asyncpg.Connection, client_id: str, *, actor: Actor) -> dict[str, Any]:
    """No new tokens, and tokens already issued stop working on every worker (the change feed
    carries the revocation; the bearer check consults the cache, not the token's expiry)."""
    async with conn.transaction():
        row = await _active(conn, client_id)
        await conn.execute(
            "UPDATE credentials SET status = 'revoked', revoked_at = now(), revoked_by = $2"
            " WHERE credential_id = $1",
            row["credential_id"],
            f"{actor.type}:{actor.name}",
        )
        await record(
            conn,
            AuditEvent(
                actor, "credential.revoke", district_id=row["district_id"], target=client_id
            ),
        )
    return {"client_id": client_id, "status": "revoked"}


async def list_credentials(
    conn: asyncpg.Connection, lea_code: str | None = None, consumer: str | None = None
) -> list[dict[str, Any]]:
    """Every credential, newest first; never a secret or a hash."""
    rows = await conn.fetch(
        _LIST + " WHERE ($1::text IS NULL OR d.lea_code = $1) AND ($2::text IS NULL OR k.name = $2)"
        " ORDER BY c.created_at DESC",
        lea_code.upper() if lea_code else None,
        consumer,
    )
    now = datetime.now(UTC)
    return [dict(r) | {"status": effective_status(r, now)} for r in rows]


def effective_status(row: Mapping[str, Any], now: datetime) -> str:
    """`expired` for an active credential past its expiry (what the token endpoint enforces)."""
    expires = row.get("expires_at")
    if row["status"] == "active" and expires is not None and expires <= now:
        return "expired"
    return str(row["status"])


async def get(conn: asyncpg.Connection, client_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(_LIST + " WHERE c.client_id = $1", client_id)
    if row is None:
        raise NotFound(f"no credential {client_id}")
    return dict(row)


async def secret_matches(conn: asyncpg.Connection, client_id: str, secret: str) -> bool:
    """Whether `secret` is a usable secret of the active credential `client_id` now."""
    rows = await conn.fetch(
        "SELECT s.hash_kind, s.secret_hash, s.expires_at FROM credential_secrets s"
        " JOIN credentials c USING (credential_id)"
        " WHERE c.client_id = $1 AND c.status = 'active'"
        " AND (c.expires_at IS NULL OR c.expires_at > now())",
        client_id,
    )
    stored = tuple(
        client_secrets.StoredSecret(r["hash_kind"], r["secret_hash"], r["expires_at"]) for r in rows
    )
    return client_secrets.verify_any(secret, stored, datetime.now(UTC))
