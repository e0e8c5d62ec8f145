"""Create the gateway's roles and databases on a server where we hold a superuser.

Used for the embedded server and for test servers. In production a DBA runs
`sql/bootstrap.sql` once instead (the gateway never holds a superuser there).

On a Citus coordinator (the database has the `citus` extension, its workers added) the same
step also sets up what does not propagate by itself: each worker's schema privileges and
owner, the database ACLs (which propagate only when run in a database with the extension),
and `citus.propagate_set_commands = 'local'` for the application role, so that the
`SET LOCAL` naming a tenant transaction's district reaches the workers (docs/scale-out.md).

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

from gateway.database.distribution import has_citus
from gateway.errors import ConfigurationError

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
    if conn.get_server_version() >= (15, 0):
        # `gateway seed` may then skip the per-row foreign-key triggers of its own bulk COPY
        # and check every key set-based instead (tenants.synthetic.integrity).
        await conn.execute(f"GRANT SET ON PARAMETER session_replication_role TO {OWNER_ROLE}")


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
    # A database made before the roles existed (a Citus cluster's) is handed to the owner.
    await conn.execute(f"ALTER DATABASE {name} OWNER TO {OWNER_ROLE}")
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
            if await has_citus(conn):
                await prepare_citus(conn, name, password)
        finally:
            await conn.close()
    return {
        name: Bootstrapped(
            owner_url=role_url(superuser_url, OWNER_ROLE, name, password),
            app_url=role_url(superuser_url, APP_ROLE, name, password),
        )
        for name in databases
    }


# The roles the coordinator opens worker connections as: whoever runs a query, the ingest role
# included (the loader takes it with SET LOCAL ROLE, and Citus connects as the current role).
NODE_ROLES = (OWNER_ROLE, APP_ROLE, INGEST_ROLE)
# The role names are constants of this module, not input.
_ROLES_ON_WORKER = (
    "SELECT count(*) FROM pg_roles WHERE rolname IN ('"  # noqa: S608
    + "', '".join(NODE_ROLES)
    + "')"
)


_COPY_VERIFIER = """
SELECT w.success, w.result
  FROM pg_authid r, run_command_on_workers(format(
       'SELECT worker_create_or_alter_role(%L, NULL, %L)', r.rolname,
       format('ALTER ROLE %I PASSWORD %L', r.rolname, r.rolpassword))) w
 WHERE r.rolname = $1 AND r.rolpassword IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_authid'::regclass AND o.objid = r.oid)
"""


def citus_worker_commands() -> list[str]:
    """What each worker needs that Citus does not carry there: the schema's privileges and
    owner (the owner role creates the shards), as sql/bootstrap.sql sets them up."""
    return [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}",
    ]


async def prepare_citus(conn: asyncpg.Connection, database: str, password: str | None) -> None:
    """Set up database `database` (connected as a superuser) on a Citus coordinator, as
    sql/bootstrap-citus.sql does for a DBA."""
    # A tenant transaction's SET LOCAL goes on to the workers it touches (Citus docs,
    # citus.propagate_set_commands); without it the shards' policies see no district.
    await conn.execute(
        f"ALTER ROLE {APP_ROLE} IN DATABASE {database} SET citus.propagate_set_commands = 'local'"
    )
    missing = await conn.fetch(
        "SELECT nodename, nodeport FROM run_command_on_workers($1) WHERE result <> $2",
        _ROLES_ON_WORKER,
        str(len(NODE_ROLES)),
    )
    if missing:
        where = ", ".join(f"{r['nodename']}:{r['nodeport']}" for r in missing)
        raise ConfigurationError(
            f"the roles {', '.join(NODE_ROLES)} are not all on worker {where}: create them on"
            " the coordinator in a database with the citus extension (Citus copies them),"
            " or add the workers after creating them"
        )
    # Citus opens the loader's worker connections as gateway_ingest (the role it SETs), so
    # on a cluster that role must be able to log in; clients never should, which the
    # coordinator's pg_hba.conf refuses (docs/scale-out.md).
    login = f"ALTER ROLE {INGEST_ROLE} LOGIN"
    await conn.execute(login + (f" PASSWORD {quote_literal(password)}" if password else ""))
    for role in NODE_ROLES:
        # Citus copies ALTER ROLE only for roles it tracks; copy the password's verifier to
        # the workers for one it does not, one role at a time (in one statement the two
        # calls can deadlock on the workers' propagation back to this node).
        await conn.fetch(_COPY_VERIFIER, role)
    if password is not None:
        # The coordinator opens its connections to the workers as the querying role.
        await conn.execute(
            "DELETE FROM pg_dist_authinfo WHERE nodeid = 0 AND rolename = ANY($1::text[])",
            list(NODE_ROLES),
        )
        await conn.execute(
            "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo)"
            " SELECT 0, unnest($1::text[]), 'password=' || $2",
            list(NODE_ROLES),
            password,
        )
    # Run here, in a database with the extension, database ACLs propagate to the workers
    # (run from another database they would not).
    await conn.execute(f"ALTER DATABASE {database} OWNER TO {OWNER_ROLE}")
    await conn.execute(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
    await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {APP_ROLE}")
    await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {INGEST_ROLE}")
    for command in citus_worker_commands():
        failed = await conn.fetch(
            "SELECT nodename, nodeport, result FROM run_command_on_workers($1) WHERE NOT success",
            command,
        )
        if failed:
            detail = "; ".join(f"{r['nodename']}:{r['nodeport']}: {r['result']}" for r in failed)
            raise ConfigurationError(f"{command} failed on a worker: {detail}")


def _with_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
