"""Create the gateway's roles and databases on a server where we hold a superuser.

Used for the embedded server and for test servers. In production a DBA runs
`sql/bootstrap.sql` once instead (the gateway never holds a superuser there).

Roles (cluster-wide):
* `gateway_owner`: owns the schema, runs migrations, bulk-loads data (BYPASSRLS, because
  COPY into a table with row-level security is refused for roles subject to it);
* `gateway_app`: what the running gateway connects as. Owns nothing, NOBYPASSRLS, and has only
  the grants the migrations give it.
* `gateway_ingest`: NOLOGIN, NOBYPASSRLS. `gateway_app` is a member and takes it with
  `SET LOCAL ROLE` only inside the transaction that loads a district's records
  (`tenants.loading`), so real records are written through row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

OWNER_ROLE = "gateway_owner"
APP_ROLE = "gateway_app"
INGEST_ROLE = "gateway_ingest"


@dataclass(frozen=True)
class Bootstrapped:
    owner_url: str
    app_url: str


def role_url(superuser_url: str, role: str, database: str, password: str | None) -> str:
    """The superuser URL with another user, password and database (socket host kept)."""
    parts = urlsplit(superuser_url)
    host = parts.hostname or ""
    netloc = quote(role)
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + (f"[{host}]" if ":" in host else host)
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, "/" + database, parts.query, ""))


async def ensure_roles(conn: asyncpg.Connection, password: str | None) -> None:
    """Create or correct the three roles. A password is set only where the server needs one."""
    for role, attrs in (
        (OWNER_ROLE, "LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB"),
        (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT"),
    ):
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        verb = "ALTER" if exists else "CREATE"
        # Role names are our constants, never input; DDL cannot take bind parameters.
        await conn.execute(f"{verb} ROLE {role} {attrs}")
        if password is not None:
            await conn.execute(f"ALTER ROLE {role} PASSWORD {quote_literal(password)}")
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", INGEST_ROLE)
    verb = "ALTER" if exists else "CREATE"
    await conn.execute(f"{verb} ROLE {INGEST_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE")
    await conn.execute(f"GRANT {INGEST_ROLE} TO {APP_ROLE}")


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def ensure_database(conn: asyncpg.Connection, name: str, *, fresh: bool = False) -> None:
    """Create database `name` owned by the owner role (dropping it first when `fresh`)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    if fresh:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    if not exists:
        await conn.execute(
            f"CREATE DATABASE {name} OWNER {OWNER_ROLE} ENCODING 'UTF8' TEMPLATE template0"
        )
    # Only the owner may create objects; the app role may only connect.
    await conn.execute(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")
    await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {APP_ROLE}")
    # Loads stage rows in temporary tables, as the ingest role.
    await conn.execute(f"GRANT TEMPORARY ON DATABASE {name} TO {INGEST_ROLE}")


async def bootstrap(
    superuser_url: str,
    databases: list[str],
    *,
    password: str | None = None,
    fresh: bool = False,
) -> dict[str, Bootstrapped]:
    """Ensure roles and each database; returns owner/app URLs per database."""
    conn = await asyncpg.connect(superuser_url)
    try:
        await ensure_roles(conn, password)
        for name in databases:
            await ensure_database(conn, name, fresh=fresh)
    finally:
        await conn.close()
    for name in databases:
        # The public schema belongs to the database owner (PG15+: pg_database_owner);
        # make sure nobody else can create in it on older servers.
        conn = await asyncpg.connect(_with_db(superuser_url, name))
        try:
            await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await conn.execute(f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}")
        finally:
            await conn.close()
    return {
        name: Bootstrapped(
            owner_url=role_url(superuser_url, OWNER_ROLE, name, password),
            app_url=role_url(superuser_url, APP_ROLE, name, password),
        )
        for name in databases
    }


def _with_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
