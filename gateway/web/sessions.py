"""Server-side sessions in Postgres. The cookie holds 256 random bits; the table holds only
their SHA-256. Logging out ends every session of the user, everywhere."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from gateway.control.users import WebUser

# Touch last_seen at most this often, so that browsing is not a write per page.
_TOUCH_EVERY = timedelta(minutes=5)

_LOAD = """
SELECT s.csrf_token, s.last_seen_at, u.oidc_issuer, u.oidc_subject, u.user_id, u.email, u.role, u.district_id, d.lea_code AS district
  FROM web_sessions s
  JOIN web_users u USING (user_id)
  LEFT JOIN districts d ON d.district_id = u.district_id
 WHERE s.session_hash = $1 AND s.expires_at > now() AND u.status = 'active'
"""


@dataclass(frozen=True)
class Session:
    user: WebUser
    csrf_token: str
    session_hash: bytes
    # Set when the account signs in through the state's provider (who it is there).
    oidc_issuer: str | None = None
    oidc_subject: str | None = None


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create(
    conn: asyncpg.Connection,
    user: WebUser,
    ttl_seconds: int,
    source_addr: str | None,
    *,
    oidc_sid: str | None = None,
) -> str:
    """A new session; returns the cookie value (shown to nobody else). `oidc_sid` is the
    provider's session id, which a back-channel logout may name."""
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO web_sessions (session_hash, user_id, csrf_token, expires_at, source_addr,"
            " oidc_sid) VALUES ($1, $2, $3, $4, $5::inet, $6)",
            digest(token),
            user.user_id,
            secrets.token_urlsafe(32),
            datetime.now(UTC) + timedelta(seconds=ttl_seconds),
            source_addr,
            oidc_sid,
        )
        await conn.execute(
            "UPDATE web_users SET last_login_at = now() WHERE user_id = $1", user.user_id
        )
        # Old sessions of this user past their expiry are cleared on each sign-in.
        await conn.execute(
            "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at < now()", user.user_id
        )
    return token


async def load(conn: asyncpg.Connection, token: str) -> Session | None:
    if not token or len(token) > 100:
        return None
    key = digest(token)
    row = await conn.fetchrow(_LOAD, key)
    if row is None:
        return None
    if datetime.now(UTC) - row["last_seen_at"] > _TOUCH_EVERY:
        await conn.execute(
            "UPDATE web_sessions SET last_seen_at = now() WHERE session_hash = $1", key
        )
    return Session(
        WebUser.from_row(row), row["csrf_token"], key, row["oidc_issuer"], row["oidc_subject"]
    )


async def purge(pool: asyncpg.Pool) -> int:
    """Delete every session past its expiry; how many went."""
    return int(
        (await pool.execute("DELETE FROM web_sessions WHERE expires_at < now()")).split()[-1]
    )


async def end_everywhere(conn: asyncpg.Connection, user: WebUser) -> int:
    result = await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user.user_id)
    return int(result.split()[-1])


async def end_for_provider(
    conn: asyncpg.Connection, issuer: str, subject: str | None, sid: str | None
) -> int:
    """Back-Channel Logout 1.0 §2.7: end the sessions the provider's logout names: the one
    with its `sid` (of that subject, if named too), else every session of the subject.

    Sessions live here, not in a worker: once deleted, no worker finds them again."""
    result = await conn.execute(
        "DELETE FROM web_sessions s USING web_users u WHERE s.user_id = u.user_id"
        " AND u.oidc_issuer = $1 AND ($2::text IS NULL OR u.oidc_subject = $2)"
        " AND ($3::text IS NULL OR s.oidc_sid = $3)",
        issuer,
        subject,
        sid,
    )
    return int(result.split()[-1])
