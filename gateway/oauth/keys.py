"""Token signing keys (ES256), kept encrypted in the control database.

One key signs at a time. Rotation publishes the next key first and lets it sign only once every
resource server's cached JWKS (cached for `JWKS_MAX_AGE`, the Cache-Control we send) has had time
to pick it up; the old key stops signing at that same instant but stays published until every
token it signed has expired. So a verifier that caches the JWKS never sees a valid token it
cannot verify, neither before nor after the switch. Each key signs during
[activates_at, retired_at); workers choose the signer by the clock (`signer_at`), so the switch
needs no notification at the time. Private keys are sealed with the master key
(`gateway.crypto.aead`), bound to their kid.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from joserfc.jwk import ECKey

from gateway.audit import Actor, AuditEvent, record
from gateway.crypto.aead import open_text, seal_text
from gateway.settings import MasterKey

ALG = "ES256"
# Verifiers may accept a token a little past `exp` (clock skew): publish a while longer.
PUBLISH_GRACE = timedelta(minutes=5)
# How long resource servers may cache /.well-known/jwks.json (its Cache-Control max-age).
JWKS_MAX_AGE = timedelta(minutes=5)
# A rotated key starts signing this long after it is first published: the cache lifetime and
# a little for the change feed to reach every worker and for clocks to differ.
ACTIVATION_DELAY = JWKS_MAX_AGE + timedelta(seconds=30)

_LOAD = """
SELECT kid, alg, public_jwk, private_key_enc, activates_at, retired_at, publish_until
  FROM signing_keys
 WHERE retired_at IS NULL OR publish_until > now()
 ORDER BY created_at DESC
"""


def _aad(kid: str) -> str:
    return f"signing_keys.private_key:{kid}"


def new_kid(now: datetime) -> str:
    return f"{now:%Y%m%d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class NewKey:
    kid: str
    public_jwk: dict[str, Any]
    private_key_enc: bytes
    master_kid: str


def generate(master_keys: tuple[MasterKey, ...], now: datetime) -> NewKey:
    kid = new_kid(now)
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": ALG})
    private = json.dumps(key.as_dict(private=True))
    public = key.as_dict(private=False)
    return NewKey(kid, public, seal_text(master_keys, private, _aad(kid)), master_keys[0].kid)


async def _insert(
    conn: asyncpg.Connection, key: NewKey, *, activates_at: datetime | None = None
) -> None:
    await conn.execute(
        "INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, master_kid,"
        " activates_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6)",
        key.kid,
        ALG,
        json.dumps(key.public_jwk),
        key.private_key_enc,
        key.master_kid,
        activates_at,
    )


@dataclass(frozen=True)
class SigningWindow:
    """A private key and the time during which it signs: [activates_at, retired_at)."""

    key: ECKey
    activates_at: datetime | None
    retired_at: datetime | None

    def signs_at(self, now: datetime) -> bool:
        return (self.activates_at is None or self.activates_at <= now) and (
            self.retired_at is None or now < self.retired_at
        )


def signer_at(windows: tuple[SigningWindow, ...], now: datetime) -> ECKey | None:
    """The key that signs at `now`: of those whose window contains it, the latest activated
    (an `--activate-now` rotation overrides a key still waiting for its turn)."""
    epoch = datetime.min.replace(tzinfo=UTC)
    current = [w for w in windows if w.signs_at(now)]
    if not current:
        return None
    return max(current, key=lambda w: w.activates_at or epoch).key


async def rotate(
    conn: asyncpg.Connection,
    master_keys: tuple[MasterKey, ...],
    token_ttl: timedelta,
    actor: Actor,
    *,
    activate_now: bool = False,
) -> dict[str, Any]:
    """Publish a new key now; it signs from `activates_at` (one JWKS cache lifetime ahead, or
    at once with `activate_now`), when the current key stops signing. The old key stays
    published until the last token it can sign has expired."""
    now = datetime.now(UTC)
    key = generate(master_keys, now)
    async with conn.transaction():
        switch = await conn.fetchval(
            "SELECT now() + $1::interval", timedelta(0) if activate_now else ACTIVATION_DELAY
        )
        retired = await conn.fetchval(
            "UPDATE signing_keys SET retired_at = $1::timestamptz,"
            " publish_until = $1::timestamptz + $2::interval"
            " WHERE retired_at IS NULL RETURNING kid",
            switch,
            token_ttl + PUBLISH_GRACE,
        )
        await _insert(conn, key, activates_at=switch)
        await record(
            conn,
            AuditEvent(
                actor,
                "keys.rotate",
                target=key.kid,
                detail={"retired": retired, "activates_at": switch.isoformat()},
            ),
        )
    return {
        "kid": key.kid,
        "activates_at": switch,
        "retired": retired,
        "retired_published_until": switch + token_ttl + PUBLISH_GRACE,
    }


async def list_keys(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT kid, alg, master_kid, created_at, activates_at, retired_at, publish_until"
        " FROM signing_keys ORDER BY created_at DESC"
    )
    return [dict(r) for r in rows]


class SigningKeys:
    """The active signing key and every key still published, for one worker."""

    def __init__(self, pool: asyncpg.Pool, master_keys: tuple[MasterKey, ...]) -> None:
        self._pool = pool
        self._master_keys = master_keys
        self._windows: tuple[SigningWindow, ...] = ()
        self._public: dict[str, ECKey] = {}
        self._jwks: dict[str, Any] = {"keys": []}
        # Bumped on every load, so that whoever caches verification results can tell.
        self.generation = 0

    async def load(self) -> None:
        rows = await self._pool.fetch(_LOAD)
        windows: list[SigningWindow] = []
        public: dict[str, ECKey] = {}
        for row in rows:
            jwk = (
                json.loads(row["public_jwk"])
                if isinstance(row["public_jwk"], str)
                else row["public_jwk"]
            )
            public[row["kid"]] = ECKey.import_key(jwk)
            if row["retired_at"] is None or row["retired_at"] > datetime.now(UTC):
                private = open_text(self._master_keys, row["private_key_enc"], _aad(row["kid"]))
                windows.append(
                    SigningWindow(
                        ECKey.import_key(json.loads(private)),
                        row["activates_at"],
                        row["retired_at"],
                    )
                )
        self._windows = tuple(windows)
        self._public = public
        self._jwks = {"keys": [k.as_dict(private=False) for k in public.values()]}
        self.generation += 1

    async def ensure_active(self) -> None:
        """Create the first key if there is none (two workers racing: one insert wins)."""
        await self.load()
        if any(w.retired_at is None for w in self._windows):
            return
        try:
            async with self._pool.acquire() as conn:
                await _insert(conn, generate(self._master_keys, datetime.now(UTC)))
        except asyncpg.UniqueViolationError:
            pass
        await self.load()

    @property
    def signer(self) -> ECKey:
        return self.signer_at(datetime.now(UTC))

    def signer_at(self, now: datetime) -> ECKey:
        key = signer_at(self._windows, now)
        if key is None:
            raise RuntimeError("no active signing key loaded")
        return key

    def public_key(self, kid: str) -> ECKey | None:
        return self._public.get(kid)

    @property
    def jwks(self) -> dict[str, Any]:
        return self._jwks


# The id of the master key a blob was sealed with (gateway.crypto.aead's layout: b"v1",
# one length byte, the kid), read in SQL so that only rows still under another key are visited.
_RESEAL_PENDING = (
    "SELECT kid FROM signing_keys"
    " WHERE convert_from(substring(private_key_enc FROM 4 FOR get_byte(private_key_enc, 2)), 'UTF8') <> $1"
    " ORDER BY kid"
)
_RESEAL_ONE = (
    "SELECT kid, private_key_enc FROM signing_keys WHERE kid = $1"
    " AND convert_from(substring(private_key_enc FROM 4 FOR get_byte(private_key_enc, 2)), 'UTF8') <> $2"
    " FOR UPDATE"
)
_SEALED_UNDER = (
    "SELECT convert_from(substring(private_key_enc FROM 4 FOR get_byte(private_key_enc, 2)), 'UTF8')"
    " AS master, count(*) AS n FROM signing_keys GROUP BY 1"
)


async def reseal(conn: asyncpg.Connection, master_keys: tuple[MasterKey, ...]) -> int:
    """Re-seal every signing key not yet under the first master key, one row per
    transaction (online: a worker reloading keys meanwhile sees either blob, and both open;
    resumable: a second run finds only what the first did not reach). Returns how many."""
    target = master_keys[0].kid
    done = 0
    for pending in await conn.fetch(_RESEAL_PENDING, target):
        async with conn.transaction():
            row = await conn.fetchrow(_RESEAL_ONE, pending["kid"], target)
            if row is None:
                continue  # re-sealed meanwhile by another run
            aad = _aad(row["kid"])
            sealed = seal_text(
                master_keys, open_text(master_keys, row["private_key_enc"], aad), aad
            )
            await conn.execute(
                "UPDATE signing_keys SET private_key_enc = $2, master_kid = $3 WHERE kid = $1",
                row["kid"],
                sealed,
                target,
            )
            done += 1
    return done


async def sealed_under(conn: asyncpg.Connection) -> dict[str, int]:
    """How many signing keys each master key seals."""
    rows = await conn.fetch(_SEALED_UNDER)
    return {r["master"]: r["n"] for r in rows}
