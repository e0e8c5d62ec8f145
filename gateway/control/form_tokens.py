"""One-time form tokens: a form's action happens once, however often the browser posts it.

A console form that answers with something shown once (a secret, an invite link) cannot use
POST-redirect-GET: the answer must not be reachable by a URL. Instead the form carries a random
token (`new_token`, rendered into the page), and the handler calls `claim` in the transaction
of its action: the first post claims it and acts; a reload posts the same token, `claim`
answers False, and the handler redirects to where the result is listed instead of acting again.

Only SHA-256(session CSRF secret, token) is stored, so a token means nothing in another session
and the table holds nothing an attacker could replay; rows older than a day are removed as new
ones arrive (a form left open longer is simply claimed afresh).
"""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

FIELD = "form_token"
_KEEP = "1 day"


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _digest(session_secret: str, token: str) -> bytes:
    return hashlib.sha256(f"{session_secret}\x00{token}".encode()).digest()


async def claim(conn: asyncpg.Connection, session_secret: str, token: str) -> bool:
    """True the first time this session posts `token`; False on every later post. Call it in
    the action's transaction: if the action fails, the claim is rolled back with it."""
    await conn.execute(
        f"DELETE FROM web_form_tokens WHERE used_at < now() - interval '{_KEEP}'"  # noqa: S608 - a constant
    )
    status = await conn.execute(
        "INSERT INTO web_form_tokens (token_hash) VALUES ($1) ON CONFLICT DO NOTHING",
        _digest(session_secret, token),
    )
    return bool(status == "INSERT 0 1")
