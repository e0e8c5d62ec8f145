"""Foreign keys checked once per district, set-based, instead of once per row.

A COPY into `course_records` runs a foreign-key check (an SPI query and a row lock) for every
row it writes, two per row: much of PostgreSQL's share of a seed (skipping them saved 13% of a seed's
wall time, measured; the generating in Python is most of it). Where the owner role may set
`session_replication_role` (a superuser, or PostgreSQL 15+ with `GRANT SET ON PARAMETER
session_replication_role TO gateway_owner`, which the embedded and test servers' bootstrap
gives), the seed sets it to `replica` for its own transaction only, so those per-row triggers
do not fire, and before COMMIT asks one question per foreign key of the seeded tables: is there
a row of this district whose parent row is missing? One anti-join each, read from the catalog
(so a key added by a migration is checked too). Any answer but none aborts the district's
transaction: the database holds exactly what the constraints allow, as with the triggers.

This is for synthetic data only (`gateway seed`, refused in production). Real records load
through `tenants.loading`, as the ingest role, with every trigger and policy in force.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from gateway.errors import GatewayError

SKIP_ROW_TRIGGERS = "SET LOCAL session_replication_role = replica"

# Every foreign key of the given tables: its name, child and parent (quoted as identifiers),
# and the column pairs. The tables and columns come from the catalog, never from input.
_FOREIGN_KEYS = """
SELECT c.conname,
       c.conrelid::regclass::text AS child,
       c.confrelid::regclass::text AS parent,
       array(SELECT quote_ident(a.attname)
               FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
              ORDER BY k.i) AS columns,
       array(SELECT quote_ident(a.attname)
               FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
              ORDER BY k.i) AS parent_columns
  FROM pg_constraint c
 WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[])
 ORDER BY c.conname
"""


class IntegrityViolation(GatewayError):
    """A bulk load wrote rows whose foreign keys have no parent (the load is rolled back)."""


async def may_skip_row_triggers(conn: asyncpg.Connection) -> bool:
    """Whether this connection's role may set session_replication_role."""
    if conn.get_server_version() < (15, 0):
        return bool(
            await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )
    return bool(
        await conn.fetchval("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    )


async def orphan_query(conn: asyncpg.Connection, tables: Sequence[str]) -> str | None:
    """One statement naming each foreign key of `tables` with a row of district $1 whose
    parent is missing (none: no rows). None when the tables have no foreign keys."""
    checks = []
    for fk in await conn.fetch(_FOREIGN_KEYS, list(tables)):
        pairs = list(zip(fk["columns"], fk["parent_columns"], strict=True))
        # MATCH SIMPLE: a key with a NULL column references nothing and is not checked.
        present = " AND ".join(f"c.{col} IS NOT NULL" for col, _ in pairs)
        joined = " AND ".join(f"p.{parent} = c.{col}" for col, parent in pairs)
        name = fk["conname"].replace("'", "''")
        checks.append(
            f"SELECT '{name}'::text WHERE EXISTS (SELECT 1 FROM {fk['child']} c"  # noqa: S608
            f" WHERE c.district_id = $1 AND {present}"
            f" AND NOT EXISTS (SELECT 1 FROM {fk['parent']} p WHERE {joined}))"
        )
    return " UNION ALL ".join(checks) if checks else None


async def verify(conn: asyncpg.Connection, query: str | None, district_id: int) -> None:
    """Raise IntegrityViolation naming the foreign keys district `district_id` breaks."""
    if query is None:
        return
    broken = [r[0] for r in await conn.fetch(query, district_id)]
    if broken:
        raise IntegrityViolation(
            f"district {district_id}: rows without their parent row ({', '.join(broken)})"
        )
