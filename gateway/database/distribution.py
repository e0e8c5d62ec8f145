"""District tables: which they are, and (on Citus) their distribution by `district_id`.

The registry `gateway_district_tables` lists every table the district stream created. The
migration runner fills it: each table a `sql/district/` file creates is registered in that
file's own transaction, so a district table added by a later migration is known without
anyone remembering to list it. Control tables never enter it.

On plain PostgreSQL the registry is only a record. On a Citus coordinator (the `citus`
extension is installed in the database) each registered table that is not yet distributed is
distributed by `district_id`, co-located with the others, right after the file that created
it and in the same transaction, in foreign-key order (a table after the tables it references).
Control tables stay local on the coordinator: their LISTEN/NOTIFY triggers cannot run inside
the two-phase commit that reference tables would need.

Citus refuses to distribute a table with triggers. The one trigger the district schema has,
the append-only guard on `disclosures` (`gateway_district_append_only()`), is dropped on Citus
before distribution; there the guarantee rests on privileges and policies instead, as it does
for the application on plain PostgreSQL too: the application role holds SELECT and INSERT
only, and the disclosures table has policies for SELECT and INSERT only, so no role subject to
row-level security can see a row to UPDATE or DELETE even if one were granted
(`sql/district/0003_district_table_registry.sql`). Any other trigger stops the migration with
a clear error rather than being dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from gateway.errors import MigrationError

DISTRIBUTION_COLUMN = "district_id"
# The function behind the append-only guard; a trigger calling it is the only kind dropped.
APPEND_ONLY_FUNCTION = "gateway_district_append_only"

REGISTRY = """
CREATE TABLE IF NOT EXISTS gateway_district_tables (
    table_name     text        PRIMARY KEY,
    -- The district migration that created it (0: registered by hand or by a backfill).
    created_by     integer     NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
)
"""

_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""


async def schema_tables(conn: asyncpg.Connection) -> set[str]:
    """The ordinary and partitioned tables of the current schema (no partitions)."""
    return {r["relname"] for r in await conn.fetch(_TABLES)}


async def register(conn: asyncpg.Connection, tables: Iterable[str], created_by: int) -> None:
    await conn.execute(
        "INSERT INTO gateway_district_tables (table_name, created_by)"
        " SELECT unnest($1::text[]), $2 ON CONFLICT (table_name) DO NOTHING",
        sorted(tables),
        created_by,
    )


async def registered(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT table_name FROM gateway_district_tables ORDER BY table_name")
    return [r["table_name"] for r in rows]


async def has_citus(conn: asyncpg.Connection) -> bool:
    """Whether this database is a Citus coordinator (or any node with the extension)."""
    return bool(await conn.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))


_UNDISTRIBUTED = """
SELECT t.table_name FROM gateway_district_tables t
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition p
                    WHERE p.logicalrelid = to_regclass(quote_ident(t.table_name)))
"""

# Foreign keys among the given tables: (referencing, referenced).
_REFERENCES = """
SELECT c.conrelid::regclass::text AS referencing, c.confrelid::regclass::text AS referenced
  FROM pg_constraint c
 WHERE c.contype = 'f' AND c.conrelid <> c.confrelid
   AND c.conrelid::regclass::text = ANY($1::text[])
"""

_TRIGGERS = """
SELECT t.tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE t.tgrelid = to_regclass(quote_ident($1)) AND NOT t.tgisinternal
"""

_HAS_COLUMN = """
SELECT 1 FROM pg_attribute
 WHERE attrelid = to_regclass(quote_ident($1)) AND attname = $2 AND NOT attisdropped
"""

# Any table already distributed by district_id: new ones join its co-location group.
_ANCHOR = """
SELECT t.table_name FROM gateway_district_tables t
  JOIN pg_dist_partition p ON p.logicalrelid = to_regclass(quote_ident(t.table_name))
 ORDER BY t.created_by, t.table_name LIMIT 1
"""


def in_reference_order(tables: list[str], references: Iterable[tuple[str, str]]) -> list[str]:
    """`tables` ordered so that each comes after the tables (of the list) it references
    (pure). References to tables outside the list are already satisfied. A cycle cannot be
    distributed one table at a time, so it is an error."""
    pending = sorted(tables)
    needs: dict[str, set[str]] = {t: set() for t in pending}
    for referencing, referenced in references:
        if referencing in needs and referenced in needs:
            needs[referencing].add(referenced)
    ordered: list[str] = []
    while pending:
        ready = [t for t in pending if not needs[t] - set(ordered)]
        if not ready:
            raise MigrationError(f"district tables reference each other in a cycle: {pending}")
        ordered.extend(ready)
        pending = [t for t in pending if t not in ready]
    return ordered


async def distribute_pending(conn: asyncpg.Connection) -> list[str]:
    """On Citus, distribute every registered table not yet distributed; returns their names
    in the order distributed. Runs in the caller's transaction."""
    tables = [r["table_name"] for r in await conn.fetch(_UNDISTRIBUTED)]
    if not tables:
        return []
    references = [
        (r["referencing"], r["referenced"]) for r in await conn.fetch(_REFERENCES, tables)
    ]
    anchor: str | None = await conn.fetchval(_ANCHOR)
    done: list[str] = []
    for table in in_reference_order(tables, references):
        await _prepare(conn, table)
        # Names come from the registry, which only the migration runner writes, and go in
        # as bind parameters (regclass), never into the SQL text.
        await conn.execute(
            "SELECT create_distributed_table($1::text::regclass, $2, colocate_with => $3)",
            table,
            DISTRIBUTION_COLUMN,
            anchor or "default",
        )
        anchor = anchor or table
        done.append(table)
    return done


async def _prepare(conn: asyncpg.Connection, table: str) -> None:
    if not await conn.fetchval(_HAS_COLUMN, table, DISTRIBUTION_COLUMN):
        raise MigrationError(
            f"district table {table!r} has no {DISTRIBUTION_COLUMN} column: every district "
            "table is distributed by it"
        )
    for trigger in await conn.fetch(_TRIGGERS, table):
        if trigger["proname"] != APPEND_ONLY_FUNCTION:
            raise MigrationError(
                f"Citus cannot distribute {table!r}: trigger {trigger['tgname']!r} "
                f"(function {trigger['proname']}) must be replaced by a policy or a privilege"
            )
        # The identifiers come from the catalog, quoted by the server's own quote_ident.
        drop = await conn.fetchval(
            "SELECT format('DROP TRIGGER %I ON %I', $1::text, $2::text)", trigger["tgname"], table
        )
        await conn.execute(drop)


_DISTRIBUTED = """
SELECT t.table_name FROM gateway_district_tables t
  JOIN pg_dist_partition p ON p.logicalrelid = to_regclass(quote_ident(t.table_name))
 ORDER BY t.table_name
"""


async def distributed_tables(url: str) -> list[str] | None:
    """The district tables distributed on the database at `url`, or None without Citus."""
    conn = await asyncpg.connect(url)
    try:
        if not await has_citus(conn):
            return None
        if not await conn.fetchval("SELECT to_regclass('gateway_district_tables') IS NOT NULL"):
            return []
        return [r["table_name"] for r in await conn.fetch(_DISTRIBUTED)]
    finally:
        await conn.close()
