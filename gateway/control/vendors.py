"""Outgoing connections to transcript vendors (Parchment, the National Student Clearinghouse, ...).

Ten fields, all required: name, auth server and path, upload server, port and path, consumer
key and secret, user name and password. The consumer secret and the password must be sent on,
so they are encrypted (AES-256-GCM under the master key, bound to their row and column), never
returned by any listing, and decrypted only by `secrets_for_use` at the moment of use.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.crypto.aead import open_text, seal_text
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.settings import MasterKey

GRANT_TYPES = ("password", "client_credentials")
MASK = "••••••••"
_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_LOOPBACK_NAMES = {"localhost"}
# A connection test lasts about 20 s at most (probe timeouts); a claim older than 60 s (in
# the SQL below) was left by a worker that died mid-test and may be taken over.

_SELECT = (
    "SELECT c.connection_id, c.district_id, d.lea_code, c.name, c.auth_server, c.auth_path,"
    " c.upload_server, c.upload_port, c.upload_path, c.consumer_key, c.username, c.grant_type,"
    " c.last_test_at, c.last_test_ok, c.last_test_message, c.created_at, c.updated_at,"
    " c.retired_at, c.retired_by,"
    " (SELECT count(*) FROM release_batches b WHERE b.connection_id = c.connection_id) AS batches,"
    " (c.test_started_at > now() - interval '60 seconds') IS TRUE AS test_running"
    " FROM outgoing_connections c JOIN districts d USING (district_id)"
)


@dataclass(frozen=True)
class ConnectionInput:
    """What an operator submits. Blank secret or password on update means unchanged."""

    name: str
    auth_server: str
    auth_path: str
    upload_server: str
    upload_port: int | str
    upload_path: str
    consumer_key: str
    consumer_secret: str
    username: str
    password: str
    grant_type: str = "password"


@dataclass(frozen=True)
class VendorSecrets:
    consumer_secret: str
    password: str


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# One example per field, in the messages and the console's hints, so that a refused value is
# answered with what that field looks like (not another field's example).
EXAMPLES: dict[str, str] = {
    "auth_server": "https://auth.vendor.example",
    "auth_path": "/oauth/token",
    "upload_server": "https://upload.vendor.example",
    "upload_port": "443 for https, 80 for http",
    "upload_path": "/v1/transcripts or send-library-api/v1/pesc/highschool/transcript/1/3/0",
}
_DEFAULT_PORTS = {"https": 443, "http": 80}
# What `validate` accepts as typed, before it strips and normalises (for the API's schema):
# an http(s) URL of a host and no more (it says https-only where that applies), and a path.
SERVER_AS_TYPED = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\s]+/*\s*$"
PATH_AS_TYPED = r"^\s*[A-Za-z0-9._~!$&'()*+,;=:@%/-]+\s*$"


def _check_server(field: str, value: str, allow_insecure: bool) -> str | None:
    example = EXAMPLES[field]
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"The port is not a number; a URL with scheme and host, e.g. {example}"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"A URL with scheme and host, e.g. {example}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        other = "Auth Path" if field == "auth_server" else "Upload Path"
        return f"Only scheme and host here, e.g. {example}; the path goes in {other}"
    if parts.username or parts.password:
        return f"No user name or password in the URL, e.g. {example}"
    if parts.scheme == "http" and not (allow_insecure or _loopback(parts.hostname)):
        return (
            f"Use https in production, e.g. {example}: plain http would send students' "
            "records and the vendor's token unencrypted"
        )
    return None


def normalise_path(value: str) -> str:
    """A vendor's path as its documentation gives it, with or without the leading slash:
    `send-library-api/v1/...` is the path `/send-library-api/v1/...` (RFC 3986 §3.3)."""
    value = value.strip()
    return value if value.startswith("/") else "/" + value


def _upload_port(data: ConnectionInput, clean: dict[str, Any], errors: dict[str, str]) -> None:
    """Upload Port as typed; left blank, the port written in Upload Server
    (`http://vendor.example:8080`), else the scheme's own (80 for http, 443 for https)."""
    raw = str(data.upload_port).strip()
    if not raw and "upload_server" not in errors:
        parts = urlsplit(clean["upload_server"])
        raw = str(parts.port or _DEFAULT_PORTS[parts.scheme])
    try:
        port = int(raw)
        if not 1 <= port <= 65535:
            raise ValueError
        clean["upload_port"] = port
    except ValueError:
        errors["upload_port"] = f"A port number from 1 to 65535, e.g. {EXAMPLES['upload_port']}"


def validate(data: ConnectionInput, *, updating: bool, allow_insecure: bool) -> dict[str, Any]:
    """Normalised fields, or ValidationFailed naming every problem at once.

    Values are taken as a vendor's documentation writes them: a path without its leading
    slash gets one; a server's trailing slash is dropped; a blank port follows the server.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, limit in (("name", 200), ("consumer_key", 500), ("username", 100)):
        value = str(getattr(data, field)).strip()
        if not value:
            errors[field] = "Required"
        elif len(value) > limit:
            errors[field] = f"At most {limit} characters"
        clean[field] = value
    for field in ("auth_server", "upload_server"):
        value = str(getattr(data, field)).strip().rstrip("/")
        problem = _check_server(field, value, allow_insecure) if value else "Required"
        if problem:
            errors[field] = problem
        clean[field] = value
    for field in ("auth_path", "upload_path"):
        value = str(getattr(data, field)).strip()
        if not value:
            errors[field] = "Required"
        else:
            value = normalise_path(value)
            if not _PATH.match(value) or len(value) > 500:
                errors[field] = f"A path, e.g. {EXAMPLES[field]}"
        clean[field] = value
    _upload_port(data, clean, errors)
    for field in ("consumer_secret", "password"):
        value = str(getattr(data, field))
        if not value and not updating:
            errors[field] = "Required"
        elif len(value) > 1000:
            errors[field] = "At most 1000 characters"
        clean[field] = value
    if data.grant_type not in GRANT_TYPES:
        errors["grant_type"] = "password or client_credentials"
    clean["grant_type"] = data.grant_type
    if errors:
        raise ValidationFailed(errors)
    return clean


def _aad(connection_id: UUID, column: str) -> str:
    return f"outgoing_connections.{column}:{connection_id}"


def public(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A connection as shown anywhere: secrets masked, never decrypted."""
    shown = dict(row)
    shown["consumer_secret"] = MASK
    shown["password"] = MASK
    shown["auth_url"] = f"{shown['auth_server']}{shown['auth_path']}"
    shown["upload_url"] = upload_url(
        shown["upload_server"], shown["upload_port"], shown["upload_path"]
    )
    shown["status"] = "retired" if shown.get("retired_at") else "active"
    shown["batch_refusal"] = batch_refusal(shown)
    return shown


def upload_url(server: str, port: int, path: str) -> str:
    parts = urlsplit(server)
    return f"{parts.scheme}://{parts.hostname}:{port}{path}"


async def add(
    conn: asyncpg.Connection,
    keys: tuple[MasterKey, ...],
    lea_code: str,
    data: ConnectionInput,
    actor: Actor,
    *,
    allow_insecure: bool,
) -> dict[str, Any]:
    clean = validate(data, updating=False, allow_insecure=allow_insecure)
    connection_id = uuid.uuid4()
    async with conn.transaction():
        district_id = await conn.fetchval(
            "SELECT district_id FROM districts WHERE lea_code = $1", lea_code.upper()
        )
        if district_id is None:
            raise NotFound(f"no district {lea_code}")
        try:
            await conn.execute(
                "INSERT INTO outgoing_connections (connection_id, district_id, name, auth_server,"
                " auth_path, upload_server, upload_port, upload_path, consumer_key,"
                " consumer_secret_enc, username, password_enc, grant_type)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                connection_id,
                district_id,
                clean["name"],
                clean["auth_server"],
                clean["auth_path"],
                clean["upload_server"],
                clean["upload_port"],
                clean["upload_path"],
                clean["consumer_key"],
                seal_text(keys, clean["consumer_secret"], _aad(connection_id, "consumer_secret")),
                clean["username"],
                seal_text(keys, clean["password"], _aad(connection_id, "password")),
                clean["grant_type"],
            )
        except asyncpg.UniqueViolationError:
            raise ValidationFailed(
                {"name": "This district already has a connection of that name"}
            ) from None
        await record(
            conn,
            AuditEvent(
                actor,
                "outgoing.add",
                district_id=district_id,
                target=str(connection_id),
                detail={"name": clean["name"], "upload_server": clean["upload_server"]},
            ),
        )
    return await get(conn, connection_id)


async def update(
    conn: asyncpg.Connection,
    keys: tuple[MasterKey, ...],
    connection_id: UUID,
    data: ConnectionInput,
    actor: Actor,
    *,
    allow_insecure: bool,
) -> dict[str, Any]:
    """Change a connection; a blank consumer secret or password keeps the stored one."""
    clean = validate(data, updating=True, allow_insecure=allow_insecure)
    async with conn.transaction():
        current = await get(conn, connection_id)
        secret_enc = (
            seal_text(keys, clean["consumer_secret"], _aad(connection_id, "consumer_secret"))
            if clean["consumer_secret"]
            else None
        )
        password_enc = (
            seal_text(keys, clean["password"], _aad(connection_id, "password"))
            if clean["password"]
            else None
        )
        try:
            await conn.execute(
                "UPDATE outgoing_connections SET name = $2, auth_server = $3, auth_path = $4,"
                " upload_server = $5, upload_port = $6, upload_path = $7, consumer_key = $8,"
                " consumer_secret_enc = COALESCE($9, consumer_secret_enc), username = $10,"
                " password_enc = COALESCE($11, password_enc), grant_type = $12, updated_at = now(),"
                " last_test_at = NULL, last_test_ok = NULL, last_test_message = NULL"
                " WHERE connection_id = $1",
                connection_id,
                clean["name"],
                clean["auth_server"],
                clean["auth_path"],
                clean["upload_server"],
                clean["upload_port"],
                clean["upload_path"],
                clean["consumer_key"],
                secret_enc,
                clean["username"],
                password_enc,
                clean["grant_type"],
            )
        except asyncpg.UniqueViolationError:
            raise ValidationFailed(
                {"name": "This district already has a connection of that name"}
            ) from None
        changed = sorted(
            k
            for k in (
                "name",
                "auth_server",
                "auth_path",
                "upload_server",
                "upload_port",
                "upload_path",
                "consumer_key",
                "username",
                "grant_type",
            )
            if current[k] != clean[k]
        )
        changed += [k for k in ("consumer_secret", "password") if clean[k]]
        await record(
            conn,
            AuditEvent(
                actor,
                "outgoing.update",
                district_id=current["district_id"],
                target=str(connection_id),
                detail={"changed": changed},
            ),
        )
    return await get(conn, connection_id)


async def remove(conn: asyncpg.Connection, connection_id: UUID, actor: Actor) -> dict[str, Any]:
    """Delete a connection nothing refers to. One that batches used is kept for their reports:
    Conflict, whose message says to retire it instead."""
    async with conn.transaction():
        current = await get(conn, connection_id)
        if current["batches"]:
            raise Conflict(in_use(current))
        try:
            await conn.execute(
                "DELETE FROM outgoing_connections WHERE connection_id = $1", connection_id
            )
        except asyncpg.ForeignKeyViolationError:  # a batch queued since the check above
            raise Conflict(in_use(current)) from None
        await record(
            conn,
            AuditEvent(
                actor,
                "outgoing.remove",
                district_id=current["district_id"],
                target=str(connection_id),
                detail={"name": current["name"]},
            ),
        )
    return current


def in_use(row: dict[str, Any]) -> str:
    count = row["batches"] or "Some"
    plural = "batch was" if row["batches"] == 1 else "batches were"
    return (
        f"{count} {plural} released through {row['name']!r}, so it is kept for their reports. "
        "Retire it instead: it stays listed with its history, and no new batch can use it "
        f"(`gateway vendor retire {row['connection_id']}`, the Retire button, or "
        f"POST /admin/api/v1/outgoing/{row['connection_id']}/retire)."
    )


async def retire(conn: asyncpg.Connection, connection_id: UUID, actor: Actor) -> dict[str, Any]:
    """Retire a connection: kept with its batches and reports, refused for new batches.
    Retiring a retired connection changes nothing (and is not audited twice)."""
    async with conn.transaction():
        current = await get(conn, connection_id)
        if current["retired_at"] is None:
            await conn.execute(
                "UPDATE outgoing_connections SET retired_at = now(), retired_by = $2"
                " WHERE connection_id = $1",
                connection_id,
                actor.name[:200],
            )
            await record(
                conn,
                AuditEvent(
                    actor,
                    "outgoing.retire",
                    district_id=current["district_id"],
                    target=str(connection_id),
                    detail={"name": current["name"], "batches": current["batches"]},
                ),
            )
    return await get(conn, connection_id)


async def reinstate(conn: asyncpg.Connection, connection_id: UUID, actor: Actor) -> dict[str, Any]:
    """Bring a retired connection back; it must pass a new test before a batch uses it."""
    async with conn.transaction():
        current = await get(conn, connection_id)
        if current["retired_at"] is not None:
            await conn.execute(
                "UPDATE outgoing_connections SET retired_at = NULL, retired_by = NULL,"
                " last_test_at = NULL, last_test_ok = NULL, last_test_message = NULL,"
                " updated_at = now() WHERE connection_id = $1",
                connection_id,
            )
            await record(
                conn,
                AuditEvent(
                    actor,
                    "outgoing.reinstate",
                    district_id=current["district_id"],
                    target=str(connection_id),
                    detail={"name": current["name"]},
                ),
            )
    return await get(conn, connection_id)


def batch_refusal(row: Mapping[str, Any]) -> str | None:
    """Why no batch may be queued through this connection now, and how to fix it; None when
    it may. A batch follows a valid test: the latest test passed, and nothing changed since
    (an edit clears the result, and a result is stored only for the values it tested)."""
    name, connection_id = row["name"], row["connection_id"]
    if row["retired_at"] is not None:
        return (
            f"The connection {name!r} is retired: no new batch can use it. Queue through "
            f"another connection, or reinstate it (`gateway vendor reinstate {connection_id}`)."
        )
    if row["last_test_ok"] is True:
        return None
    if row["last_test_at"] is not None:
        why = f"its latest test failed ({row['last_test_message'] or 'no reason recorded'})"
        fix = "Correct the connection, test it again"
    elif row["updated_at"] > row["created_at"]:
        why = "it was changed after its last test"
        fix = "Test it again"
    else:
        why = "it has never been tested"
        fix = "Test it"
    return (
        f"Batches are sent only through a connection whose latest test is valid, and {name!r} "
        f"cannot be used: {why}. {fix} (the Test button on its page, `gateway vendor test "
        f"{connection_id}`, or POST /admin/api/v1/outgoing/{connection_id}/test), then queue "
        "the batch once the test says “Your connection is valid”."
    )


async def for_batch(conn: asyncpg.Connection, connection_id: UUID) -> dict[str, Any]:
    """The connection, locked (FOR SHARE) until the caller's transaction ends, so that no edit
    or retirement slips between the readiness check and the batch's insert."""
    row = await conn.fetchrow(_SELECT + " WHERE c.connection_id = $1 FOR SHARE OF c", connection_id)
    if row is None:
        raise NotFound("no such outgoing connection")
    return public(row)


async def get(conn: asyncpg.Connection, connection_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(_SELECT + " WHERE c.connection_id = $1", connection_id)
    if row is None:
        raise NotFound("no such outgoing connection")
    return public(row)


async def list_connections(
    conn: asyncpg.Connection, lea_code: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        _SELECT + " WHERE ($1::text IS NULL OR d.lea_code = $1) ORDER BY d.lea_code, c.name",
        lea_code.upper() if lea_code else None,
    )
    return [public(r) for r in rows]


async def secrets_for_use(
    conn: asyncpg.Connection, keys: tuple[MasterKey, ...], connection_id: UUID
) -> VendorSecrets:
    """Decrypt the consumer secret and password, for the one request about to use them.
    Callers keep them in local variables only, and never log them."""
    row = await conn.fetchrow(
        "SELECT consumer_secret_enc, password_enc FROM outgoing_connections WHERE connection_id = $1",
        connection_id,
    )
    if row is None:
        raise NotFound("no such outgoing connection")
    return VendorSecrets(
        consumer_secret=open_text(
            keys, row["consumer_secret_enc"], _aad(connection_id, "consumer_secret")
        ),
        password=open_text(keys, row["password_enc"], _aad(connection_id, "password")),
    )


async def record_test(
    conn: asyncpg.Connection,
    connection_id: UUID,
    ok: bool,
    message: str,
    tested_version: datetime | None = None,
) -> bool:
    """Store a test's result. With `tested_version` (the `updated_at` the test read), only if
    the connection was not edited while the test ran: a result belongs to the values it tested.
    True when stored."""
    status = await conn.execute(
        "UPDATE outgoing_connections SET last_test_at = now(), last_test_ok = $2, last_test_message = $3"
        " WHERE connection_id = $1 AND ($4::timestamptz IS NULL OR updated_at = $4)",
        connection_id,
        ok,
        message[:500],
        tested_version,
    )
    return bool(status == "UPDATE 1")


async def claim_test(conn: asyncpg.Connection | asyncpg.Pool, connection_id: UUID) -> bool:
    """Mark a test of this connection as running, for every worker to see; False when one
    is already running (on any worker) and this call should join it instead."""
    claimed = await conn.fetchval(
        "UPDATE outgoing_connections SET test_started_at = now() WHERE connection_id = $1"
        " AND (test_started_at IS NULL"
        " OR test_started_at <= now() - interval '60 seconds')"
        " RETURNING true",
        connection_id,
    )
    return bool(claimed)


async def release_test(conn: asyncpg.Connection | asyncpg.Pool, connection_id: UUID) -> None:
    await conn.execute(
        "UPDATE outgoing_connections SET test_started_at = NULL WHERE connection_id = $1",
        connection_id,
    )


# The id of the master key that sealed a blob (gateway.crypto.aead's layout: b"v1", one
# length byte, the kid), read in SQL so that only rows still under another key are visited.
_RESEAL_PENDING = (
    "SELECT connection_id FROM outgoing_connections"
    " WHERE (convert_from(substring(consumer_secret_enc FROM 4 FOR get_byte(consumer_secret_enc, 2)), 'UTF8') <> $1 OR convert_from(substring(password_enc FROM 4 FOR get_byte(password_enc, 2)), 'UTF8') <> $1) ORDER BY connection_id"
)
_RESEAL_ONE = (
    "SELECT connection_id, consumer_secret_enc, password_enc FROM outgoing_connections"
    " WHERE connection_id = $2 AND (convert_from(substring(consumer_secret_enc FROM 4 FOR get_byte(consumer_secret_enc, 2)), 'UTF8') <> $1 OR convert_from(substring(password_enc FROM 4 FOR get_byte(password_enc, 2)), 'UTF8') <> $1) FOR UPDATE"
)
_SEALED_UNDER = (
    "SELECT m AS master, count(*) AS n FROM outgoing_connections,"
    " LATERAL (VALUES (convert_from(substring(consumer_secret_enc FROM 4 FOR get_byte(consumer_secret_enc, 2)), 'UTF8')), (convert_from(substring(password_enc FROM 4 FOR get_byte(password_enc, 2)), 'UTF8'))) v(m) GROUP BY m"
)


async def reseal(conn: asyncpg.Connection, keys: tuple[MasterKey, ...]) -> int:
    """Re-seal both secrets of every connection not yet wholly under the first master key,
    one connection per transaction (online and resumable, as `gateway keys reseal` says).
    Returns how many connections were re-sealed."""
    target = keys[0].kid
    done = 0
    pending = await conn.fetch(_RESEAL_PENDING, target)
    for item in pending:
        async with conn.transaction():
            row = await conn.fetchrow(_RESEAL_ONE, target, item["connection_id"])
            if row is None:
                continue
            connection_id = row["connection_id"]
            resealed = [
                seal_text(
                    keys,
                    open_text(keys, row[column], _aad(connection_id, field)),
                    _aad(connection_id, field),
                )
                for column, field in (
                    ("consumer_secret_enc", "consumer_secret"),
                    ("password_enc", "password"),
                )
            ]
            await conn.execute(
                "UPDATE outgoing_connections SET consumer_secret_enc = $2, password_enc = $3"
                " WHERE connection_id = $1",
                connection_id,
                *resealed,
            )
            done += 1
    return done


async def sealed_under(conn: asyncpg.Connection) -> dict[str, int]:
    """How many vendor secrets each master key seals."""
    rows = await conn.fetch(_SEALED_UNDER)
    return {r["master"]: r["n"] for r in rows}
