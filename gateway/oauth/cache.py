"""Every worker's in-memory copy of the credentials, so that issuing a token and checking a
bearer token cost no database round trip.

Loaded whole at start-up (a state has thousands of credentials at most) and refreshed one
credential at a time when the change feed announces a change: a revocation reaches every
worker within milliseconds of its commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from gateway.crypto.client_secrets import StoredSecret

_SELECT = """
SELECT c.credential_id, c.client_id, c.kind, c.district_id, c.consumer_id, c.label, c.scopes,
       c.status, c.expires_at, k.name AS consumer_name, k.status AS consumer_status,
       COALESCE((SELECT array_agg(ARRAY[s.hash_kind, s.secret_hash,
                        COALESCE(to_char(s.expires_at AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), '')])
                   FROM credential_secrets s
                  WHERE s.credential_id = c.credential_id
                    AND (s.expires_at IS NULL OR s.expires_at > now())), '{}') AS secrets
  FROM credentials c
  LEFT JOIN consumers k ON k.consumer_id = c.consumer_id
"""


@dataclass(frozen=True)
class CachedCredential:
    credential_id: UUID
    client_id: str
    kind: str  # consumer or operator
    district_id: int | None
    consumer_id: UUID | None
    consumer_name: str | None
    label: str
    scopes: tuple[str, ...]
    status: str
    consumer_active: bool
    expires_at: datetime | None
    secrets: tuple[StoredSecret, ...]

    def usable(self, now: datetime) -> bool:
        """Active, not expired, and its consumer not disabled."""
        return (
            self.status == "active"
            and self.consumer_active
            and (self.expires_at is None or now < self.expires_at)
        )

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> CachedCredential:
        stored = tuple(
            StoredSecret(kind, digest, datetime.fromisoformat(expires) if expires else None)
            for kind, digest, expires in row["secrets"]
        )
        return cls(
            credential_id=row["credential_id"],
            client_id=row["client_id"],
            kind=row["kind"],
            district_id=row["district_id"],
            consumer_id=row["consumer_id"],
            consumer_name=row["consumer_name"],
            label=row["label"],
            scopes=tuple(row["scopes"]),
            status=row["status"],
            consumer_active=row["consumer_status"] in (None, "active"),
            expires_at=row["expires_at"],
            secrets=stored,
        )


class CredentialCache:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._by_client: dict[str, CachedCredential] = {}
        self._client_of: dict[UUID, str] = {}

    def get(self, client_id: str) -> CachedCredential | None:
        return self._by_client.get(client_id)

    async def lookup(self, client_id: str) -> CachedCredential | None:
        """From memory; on a miss, one read (a credential issued a moment ago whose
        notification has not arrived yet). Misses already cost a lockout write anyway."""
        found = self._by_client.get(client_id)
        if found is None and len(client_id) <= 128:
            await self.refresh_client(client_id)
            found = self._by_client.get(client_id)
        return found

    def __len__(self) -> int:
        return len(self._by_client)

    async def load(self) -> None:
        rows = await self._pool.fetch(_SELECT)
        entries = [CachedCredential.from_row(r) for r in rows]
        self._by_client = {e.client_id: e for e in entries}
        self._client_of = {e.credential_id: e.client_id for e in entries}

    async def refresh_client(self, client_id: str) -> None:
        row = await self._pool.fetchrow(_SELECT + " WHERE c.client_id = $1", client_id)
        if row is None:
            old = self._by_client.pop(client_id, None)
            if old is not None:
                self._client_of.pop(old.credential_id, None)
            return
        entry = CachedCredential.from_row(row)
        self._by_client[entry.client_id] = entry
        self._client_of[entry.credential_id] = entry.client_id

    async def refresh_credential(self, credential_id: str) -> None:
        client_id = self._client_of.get(UUID(credential_id))
        if client_id is None:
            found = await self._pool.fetchval(
                "SELECT client_id FROM credentials WHERE credential_id = $1", UUID(credential_id)
            )
            if found is None:
                return
            client_id = str(found)
        await self.refresh_client(client_id)
