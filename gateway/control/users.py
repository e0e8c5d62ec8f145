"""Web users: state operators and district staff. Passwords hashed with argon2id.

A district user belongs to one district and sees only it, read-only. An operator sees every
district and maintains them. Accounts are created by operators (`gateway user add`, or the
console); a new user either gets a password now or a one-time set-password link (`--invite`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.audit import Actor, AuditEvent, record
from gateway.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gateway.offload import OffLoop, in_thread

ROLES = ("operator", "district")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")  # as an identity provider may send it
# A new account's address, as the HTML standard defines a valid one (what a browser's
# type=email field accepts) with a dot in the domain: ASCII, no spaces or control characters.
# The looser EMAIL admitted "¢@v\x87", which the API then answered as an email (schemathesis).
_ADDRESS = (
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=[^\s]{1,255}\s*$)"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
ADDRESS = re.compile(f"^{_ADDRESS}$")
# What `add` accepts as typed, before it strips and lower-cases it (for the API's schema).
EMAIL_AS_TYPED = rf"^\s*{_ADDRESS}\s*$"
MIN_PASSWORD = 12
MAX_PASSWORD = 256
INVITE_LIFETIME = timedelta(days=3)
# OWASP's argon2id baseline (19 MiB, 2 passes) would do; a little more costs little for logins.
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


# A real hash of nothing: verifying against it costs what a real check costs, so that timing
# does not tell whether an email has an account. Made on first use, not at import (it costs
# ~0.3 s, which every `gateway` command would otherwise pay).
@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


_COLUMNS = (
    "u.user_id, u.email, u.role, u.status, u.created_at, u.last_login_at, u.district_id,"
    " d.lea_code AS district, (u.password_hash IS NOT NULL) AS has_password,"
    " u.oidc_issuer, u.display_name"
)
_SELECT = "SELECT " + _COLUMNS + " FROM web_users u LEFT JOIN districts d USING (district_id)"  # noqa: S608


@dataclass(frozen=True)
class WebUser:
    user_id: UUID
    email: str
    role: str
    district_id: int | None
    district: str | None  # LEA code for district users

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def may_see(self, lea_code: str) -> bool:
        return self.is_operator or self.district == lea_code

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> WebUser:
        return cls(row["user_id"], row["email"], row["role"], row["district_id"], row["district"])


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"At least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"At most {MAX_PASSWORD} characters"
    if len(set(password)) < 5:
        return "Too repetitive"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password: str, stored: str | None) -> bool:
    """Constant work whether or not there is a stored hash."""
    try:
        return (
            _HASHER.verify(stored or _dummy_hash(), password[:MAX_PASSWORD]) and stored is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def add(
    conn: asyncpg.Connection,
    *,
    email: str,
    role: str,
    lea_code: str | None,
    password: str | None,
    actor: Actor,
    off_loop: OffLoop = in_thread,
) -> dict[str, Any]:
    """A new user; a password, when given, is hashed by `off_loop` before the transaction
    (argon2id: tens of milliseconds and 64 MiB, never on the server's event loop)."""
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not ADDRESS.match(email):
        errors["email"] = "An email address"
    if role not in ROLES:
        errors["role"] = "operator or district"
    if role == "district" and not lea_code:
        errors["district"] = "A district user needs a district"
    if role == "operator" and lea_code:
        errors["district"] = "Operators belong to no district"
    if password is not None and (problem := password_problem(password)):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    password_hash = await off_loop(hash_password, password) if password is not None else None
    async with conn.transaction():
        district_id = None
        if lea_code:
            district_id = await conn.fetchval(
                "SELECT district_id FROM districts WHERE lea_code = $1", lea_code.upper()
            )
            if district_id is None:
                raise NotFound(f"no district {lea_code}")
        try:
            await conn.execute(
                "INSERT INTO web_users (email, role, district_id, password_hash) VALUES ($1, $2, $3, $4)"
                " RETURNING user_id",
                email,
                role,
                district_id,
                password_hash,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"a user {email} already exists") from None
        await record(
            conn,
            AuditEvent(
                actor, "user.add", district_id=district_id, target=email, detail={"role": role}
            ),
        )
    return await get(conn, email)


async def get(conn: asyncpg.Connection, email: str) -> dict[str, Any]:
    row = await conn.fetchrow(_SELECT + " WHERE u.email = $1", email.strip().lower())
    if row is None:
        raise NotFound(f"no user {email}")
    return dict(row)


async def list_users(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in await conn.fetch(
            _SELECT + " ORDER BY u.role DESC, d.lea_code NULLS FIRST, u.email"
        )
    ]


async def set_status(
    conn: asyncpg.Connection, email: str, status: str, actor: Actor
) -> dict[str, Any]:
    """Disable (or enable) a user; disabling ends their sessions everywhere at once."""
    assert status in ("active", "disabled")
    async with conn.transaction():
        user = await get(conn, email)
        await conn.execute(
            "UPDATE web_users SET status = $2 WHERE user_id = $1", user["user_id"], status
        )
        if status == "disabled":
            await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user["user_id"])
        await record(
            conn,
            AuditEvent(
                actor,
                f"user.{'disable' if status == 'disabled' else 'enable'}",
                district_id=user["district_id"],
                target=user["email"],
            ),
        )
    return await get(conn, email)


def _local(user: dict[str, Any]) -> dict[str, Any]:
    """Only local accounts have passwords: a provider's account signs in there."""
    if user["oidc_issuer"] is not None:
        raise Conflict(
            f"{user['email']} signs in through the state's identity provider; it has no password here"
        )
    return user


async def create_invite(conn: asyncpg.Connection, email: str, actor: Actor) -> str:
    """A one-time set-password token (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        user = _local(await get(conn, email))
        await conn.execute(
            "INSERT INTO user_invites (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            _token_hash(token),
            user["user_id"],
            datetime.now(UTC) + INVITE_LIFETIME,
        )
        await record(
            conn,
            AuditEvent(actor, "user.invite", district_id=user["district_id"], target=user["email"]),
        )
    return token


async def invite_email(conn: asyncpg.Connection, token: str) -> str | None:
    """The email an unused, unexpired invite is for (None otherwise)."""
    email: str | None = await conn.fetchval(
        "SELECT u.email FROM user_invites i JOIN web_users u USING (user_id)"
        " WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > now() AND u.status = 'active'",
        _token_hash(token),
    )
    return email


async def new_password_hash(password: str, off_loop: OffLoop = in_thread) -> str:
    """The argon2id hash of a password a user chose, after the rules (ValidationFailed), by
    `off_loop` (the web passes its bounded pool). Taken before any pooled connection is: the
    hash takes tens of milliseconds, and a connection held meanwhile serves nobody."""
    if problem := password_problem(password):
        raise ValidationFailed({"password": problem})
    return await off_loop(hash_password, password)


async def accept_invite(
    conn: asyncpg.Connection, token: str, password_hash: str, source_addr: str | None
) -> str:
    """Set the password (hashed by `new_password_hash`) through an invite; the invite is used
    up in the same transaction."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE user_invites SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL"
            " AND expires_at > now() RETURNING user_id",
            _token_hash(token),
        )
        if row is None:
            raise NotFound("This link is no longer valid; ask an operator for a new one.")
        email = await conn.fetchval(
            "UPDATE web_users SET password_hash = $2 WHERE user_id = $1 AND status = 'active' RETURNING email",
            row["user_id"],
            password_hash,
        )
        if email is None:
            raise NotFound("This account is disabled.")
        await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", row["user_id"])
        await record(
            conn,
            AuditEvent(Actor("anonymous", email, source_addr), "user.set_password", target=email),
        )
    return str(email)


async def set_password(
    conn: asyncpg.Connection,
    email: str,
    password: str,
    actor: Actor,
    off_loop: OffLoop = in_thread,
) -> None:
    if problem := password_problem(password):
        raise ValidationFailed({"password": problem})
    password_hash = await off_loop(hash_password, password)
    async with conn.transaction():
        user = _local(await get(conn, email))
        await conn.execute(
            "UPDATE web_users SET password_hash = $2 WHERE user_id = $1",
            user["user_id"],
            password_hash,
        )
        await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user["user_id"])
        await record(
            conn,
            AuditEvent(
                actor, "user.set_password", district_id=user["district_id"], target=user["email"]
            ),
        )


async def credentials_for_login(
    conn: asyncpg.Connection, email: str
) -> tuple[WebUser | None, str | None]:
    """The active user with this email and their password hash (None, None if none)."""
    row = await conn.fetchrow(
        _SELECT.replace("SELECT ", "SELECT u.password_hash, ", 1)
        + " WHERE u.email = $1 AND u.status = 'active'",
        email.strip().lower(),
    )
    if row is None:
        return None, None
    return WebUser.from_row(row), row["password_hash"]


# --- accounts of the state's OpenID provider --------------------------------------------------


async def any_local(conn: asyncpg.Connection) -> bool:
    """Is there an active account that signs in with a password (a break-glass way in)?"""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM web_users WHERE status = 'active'"
            " AND password_hash IS NOT NULL)"
        )
    )


async def sign_in_oidc(
    conn: asyncpg.Connection,
    *,
    issuer: str,
    subject: str,
    email: str,
    name: str | None,
    role: str,
    lea_code: str | None,
    actor: Actor,
) -> WebUser:
    """The account of (issuer, subject), created now if it is new (just in time), with role,
    district, email and name as the provider says today.

    Raises Forbidden (with `extra["reason"]`) when the account is disabled (whatever the
    provider says: disabling is the department's word), when the district does not exist, or
    when the email belongs to another account (never merged: a provider's email claim must
    not take over a local break-glass account).
    """
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise Forbidden("Your sign-in gave no usable email address.", extra={"reason": "no_email"})
    async with conn.transaction():
        district_id = None
        if lea_code is not None:
            district_id = await conn.fetchval(
                "SELECT district_id FROM districts WHERE lea_code = $1", lea_code.upper()
            )
            if district_id is None:
                raise Forbidden(
                    f"Your group names district {lea_code}, which this gateway does not serve.",
                    extra={"reason": "unknown_district"},
                )
        row = await conn.fetchrow(
            "SELECT user_id, email, role, district_id, display_name, status FROM web_users"
            " WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE",
            issuer,
            subject,
        )
        if row is not None and row["status"] != "active":
            raise Forbidden(
                "Your account here is disabled; ask the department.", extra={"reason": "disabled"}
            )
        try:
            async with conn.transaction():
                if row is None:
                    user_id = await conn.fetchval(
                        "INSERT INTO web_users (email, role, district_id, oidc_issuer,"
                        " oidc_subject, display_name) VALUES ($1, $2, $3, $4, $5, $6)"
                        " RETURNING user_id",
                        email,
                        role,
                        district_id,
                        issuer,
                        subject,
                        name,
                    )
                else:
                    user_id = row["user_id"]
                    await conn.execute(
                        "UPDATE web_users SET email = $2, role = $3, district_id = $4,"
                        " display_name = $5 WHERE user_id = $1",
                        user_id,
                        email,
                        role,
                        district_id,
                        name,
                    )
        except asyncpg.UniqueViolationError:
            raise Forbidden(
                "Another account here already uses your email address; ask the department.",
                extra={"reason": "email_in_use"},
            ) from None
        changed = (
            {"created": True}
            if row is None
            else {
                k: True
                for k, new in (
                    ("email", email),
                    ("role", role),
                    ("district", district_id),
                    ("name", name),
                )
                if row[{"district": "district_id", "name": "display_name"}.get(k, k)] != new
            }
        )
        if changed:
            await record(
                conn,
                AuditEvent(
                    actor,
                    "user.add" if row is None else "user.update",
                    district_id=district_id,
                    target=email,
                    detail={"role": role, "via": "oidc", "issuer": issuer, "subject": subject}
                    | ({"changed": sorted(changed)} if row is not None else {}),
                ),
            )
    return WebUser(user_id, email, role, district_id, lea_code.upper() if lea_code else None)
