"""The district-store side of a load: staging tables, the set-based replace, and what it left.

Everything here runs inside ONE tenant transaction (`tenants.transaction`), as the
`gateway_ingest` role (`SET LOCAL ROLE`): row-level security applies to every row written,
so a row naming another district is refused by the database, not only by the validator.
The district's readers see the old data until COMMIT and the new data after it, never a mix;
a load broken off (error, killed backend, lost connection) leaves nothing behind.

COPY is refused into a table with row-level security for a role subject to it, so the spool
files are COPYed into temporary staging tables (`ON COMMIT DROP`, no policies: they are this
session's own), and moved with one INSERT ... SELECT per table, which the policies check.

The replace, for the students the load lists ($2), writes only what changed:
* schools, sessions and students are upserted (an unchanged row is not rewritten);
* of their course records, GPA summaries, test scores and holds, the rows whose key the load
  no longer has are deleted, and the staged rows are upserted on their key: a new row is
  inserted, a changed one updated in place, an unchanged one left alone. A re-load of a
  snapshot that changed a little so writes a little: no dead tuples, no index churn, and no
  foreign-key checks for the rows it leaves (PostgreSQL's RI trigger runs per inserted row,
  and on UPDATE only when the key columns changed). The foreign keys stay: every row written
  is still checked by the database;
* a snapshot marks every other student of the district not current (`unlisted_students`) and
  leaves their rows as they were: disclosures recorded for them keep their student;
* `district_refreshes` records the load, its source digest and mode.

The commit is durable (the server's `synchronous_commit`, on). `SET LOCAL synchronous_commit
= off` for the load would spare one WAL flush per district, a few hundredths of a second of a
district's second or so, and could never tear a load (a crash loses the transaction whole);
but in the window it opens, a crash would lose a load that the control plane has already
recorded as succeeded and audited, and that record, and the refresh time districts see, would
then be false. A re-run would repair the data, but nothing would say that one is needed.

Every statement filters `district_id = $1` and lists students with `= ANY($2)`, the shapes a
sharded (Citus) store routes to one shard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tenants.loading.columns import BY_NAME, DISTRICT_COLUMN, STUDENT_TABLES, TABLES
from tenants.loading.sessions import renumbering
from tenants.loading.staging import Staged, copy_columns
from tenants.transaction import TenantConnection

Observer = Callable[[str, int], Awaitable[None]]
"""Awaited with (step, backend pid) before each step of the apply: for progress (and tests)."""

INGEST_ROLE = "gateway_ingest"
# The keys each upserted table is matched on (sql/district/0001_district_data.sql).
_KEYS = {
    "schools": ("district_id", "school_id"),
    "academic_sessions": ("district_id", "session_id"),
    "students": ("district_id", "student_id"),
}
# Unconstrained numeric columns of the student tables: their scale is part of the value.
_SCALED = frozenset({"gpa_weighted", "gpa_unweighted"})
# Arbitrary but fixed: with the district id, the key of the lock that serialises its loads.
_LOCK_CLASS = 72_460_2028


@dataclass(frozen=True)
class Refresh:
    load_id: UUID
    source_sha256: str
    mode: str
    refreshed_at: datetime
    students: int  # current students after that load


@dataclass(frozen=True)
class Applied:
    rows: dict[str, int]
    rows_written: dict[str, int]  # per table: rows inserted or changed
    rows_deleted: dict[str, int]  # per student table: rows the load no longer has
    students_listed: int
    students_new: int
    students_unlisted: int  # students of the district the load did not list (snapshot)
    sessions_renumbered: int  # sessions the files number otherwise than the store
    refresh: Refresh


def _student_keys(table: str) -> tuple[str, ...]:
    """A student table's primary key: the district, the student and its numbered column."""
    numbered = [c.name for c in BY_NAME[table].columns if c.numbered]
    return (DISTRICT_COLUMN, "student_id", *numbered)


def _staged(table: str) -> str:
    """The staged rows as a CTE of the statement that compares them with the stored ones.

    On a Citus coordinator a statement may not join a distributed table with a local one
    (the staging tables are this session's own); read through a MATERIALIZED CTE, the staged
    rows become an intermediate result that the district's shard joins with its rows, in
    one statement still. On PostgreSQL the CTE is the same scan of the staging table."""
    return f"staged AS MATERIALIZED (SELECT * FROM stage_{table})"  # noqa: S608


def _merge(table: str, keys: tuple[str, ...]) -> str:
    """Insert the staged rows that are new (by `keys`), update the changed ones, leave the
    rest; the statement answers how many it wrote."""
    columns = copy_columns(BY_NAME[table])
    others = [c for c in columns if c not in keys]
    names = ", ".join(columns)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
    # The anti-join leaves out unchanged rows before they reach ON CONFLICT, which would
    # lock (and so write) each row it then leaves alone. A row is unchanged when its values
    # are not distinct; an unconstrained numeric is compared as text as well, since numeric
    # equality ignores scale (4.0 = 4.00) and a GPA keeps the scale it was sent with
    # (sql/district/0002). Every row left after the anti-join has changed: it is updated.
    same = [
        f"t.{k} = s.{k}" for k in keys
    ] + [
        "(" + ", ".join(f"t.{c}" for c in others) + ") IS NOT DISTINCT FROM ("
        + ", ".join(f"s.{c}" for c in others) + ")"
    ] + [f"t.{c}::text = s.{c}::text" for c in others if c in _SCALED]  # fmt: skip
    # RETURNING (counted here, so no rows travel): on a Citus coordinator an INSERT ... SELECT
    # from a local table without RETURNING or ON CONFLICT is sent to the shards as COPY, which
    # row-level security refuses; with it, Citus inserts from intermediate results with
    # INSERT ... SELECT on the district's shard. On PostgreSQL the two are the same insert.
    return (
        f"WITH {_staged(table)}, moved AS (INSERT INTO {table} ({names})"  # noqa: S608
        f" SELECT {', '.join(f's.{c}' for c in columns)} FROM staged s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.district_id = $1"
        f" AND {' AND '.join(same)})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        " RETURNING 1) SELECT count(*) FROM moved"
    )


def _vanished(table: str) -> str:
    """Delete the listed students' rows whose key the load no longer has."""
    keys = _student_keys(table)
    same = " AND ".join(f"s.{k} = {table}.{k}" for k in keys)
    return (
        f"WITH {_staged(table)} DELETE FROM {table}"  # noqa: S608
        " WHERE district_id = $1 AND student_id = ANY($2::text[])"
        f" AND NOT EXISTS (SELECT 1 FROM staged s WHERE {same})"
    )


_UPSERTS = {t: _merge(t, keys) for t, keys in _KEYS.items()}
_MERGES = {t: _merge(t, _student_keys(t)) for t in STUDENT_TABLES}
_DELETES = {t: _vanished(t) for t in STUDENT_TABLES}
_STAGE = {
    t.name: f"CREATE TEMP TABLE stage_{t.name} (LIKE {t.name}) ON COMMIT DROP" for t in TABLES
}
_STORED_SESSIONS = (
    "SELECT session_id, school_id, school_year, term FROM academic_sessions WHERE district_id = $1"
)
_STAGED_SESSIONS = "SELECT session_id, school_id, school_year, term FROM stage_academic_sessions"
# Staging tables only (this session's own, local on Citus too); one statement per table, so
# every number is renamed at once (a swap of two numbers is one rename, not two collisions).
_RENUMBER = {
    t: f"UPDATE stage_{t} SET session_id = m.new"  # noqa: S608 - constant names
    " FROM unnest($1::integer[], $2::integer[]) AS m(old, new) WHERE session_id = m.old"
    for t in ("academic_sessions", "course_records")
}
_EXISTING = "SELECT count(*) FROM students WHERE district_id = $1 AND student_id = ANY($2::text[])"
_RELIST = "DELETE FROM unlisted_students WHERE district_id = $1 AND student_id = ANY($2::text[])"
_UNLIST = """
INSERT INTO unlisted_students (district_id, student_id, since, load_id)
SELECT district_id, student_id, now(), $3 FROM students
 WHERE district_id = $1 AND student_id <> ALL($2::text[])
ON CONFLICT (district_id, student_id) DO NOTHING
"""
_CURRENT = """
SELECT (SELECT count(*) FROM students WHERE district_id = $1)
     - (SELECT count(*) FROM unlisted_students WHERE district_id = $1)
"""
_UNLISTED_COUNT = "SELECT count(*) FROM unlisted_students WHERE district_id = $1"
_RECORD = """
INSERT INTO district_refreshes (district_id, load_id, source_sha256, mode, refreshed_at, students)
VALUES ($1, $2, $3, $4, now(), $5)
ON CONFLICT (district_id) DO UPDATE SET load_id = EXCLUDED.load_id,
    source_sha256 = EXCLUDED.source_sha256, mode = EXCLUDED.mode,
    refreshed_at = EXCLUDED.refreshed_at, students = EXCLUDED.students
RETURNING load_id, source_sha256, mode, refreshed_at, students
"""
_REFRESH = (
    "SELECT load_id, source_sha256, mode, refreshed_at, students FROM district_refreshes"
    " WHERE district_id = $1"
)


async def take_ingest_role(tx: TenantConnection) -> None:
    """Become gateway_ingest until the transaction ends, and lock out other loads of the
    district (a second load waits, then sees this one's result). Loads may take longer
    than the pool's statement timeout meant for requests."""
    await tx.execute(f"SET LOCAL ROLE {INGEST_ROLE}")
    await tx.execute("SET LOCAL statement_timeout = '30min'")
    await tx.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, tx.district_id)


async def last_refresh(tx: TenantConnection) -> Refresh | None:
    row = await tx.fetchrow(_REFRESH, tx.district_id)
    return Refresh(**dict(row)) if row is not None else None


async def known_ids(tx: TenantConnection) -> tuple[set[int], set[int]]:
    """(school ids, session ids) the district already has."""
    schools = await tx.fetch("SELECT school_id FROM schools WHERE district_id = $1", tx.district_id)
    sessions = await tx.fetch(
        "SELECT session_id FROM academic_sessions WHERE district_id = $1", tx.district_id
    )
    return {r["school_id"] for r in schools}, {r["session_id"] for r in sessions}


async def apply(
    tx: TenantConnection,
    staged: Staged,
    *,
    load_id: UUID,
    source_sha256: str,
    merge: bool,
    observe: Observer | None = None,
) -> Applied:
    """Replace the listed students' data with the staged rows (see the module docstring).
    The caller has called `take_ingest_role` in this transaction."""
    district_id = tx.district_id
    pid = tx.conn.get_server_pid()

    async def step(name: str) -> None:
        if observe is not None:
            await observe(name, pid)

    staged.flush()
    for table in TABLES:
        await step(f"stage {table.name}")
        await tx.execute(_STAGE[table.name])
        if staged.counts[table.name]:
            await tx.conn.copy_to_table(
                f"stage_{table.name}",
                source=staged.path(table.name),
                columns=copy_columns(table),
                format="csv",
            )
    await step("sessions")
    renumbered = await _keep_session_numbers(tx)
    listed = staged.student_ids
    new = listed and await tx.fetchval(_EXISTING, district_id, listed)
    written: dict[str, int] = {}
    deleted: dict[str, int] = {}
    for table_name in _UPSERTS:
        await step(f"upsert {table_name}")
        written[table_name] = int(await tx.fetchval(_UPSERTS[table_name], district_id))
    for table_name in STUDENT_TABLES:
        await step(f"replace {table_name}")
        status = await tx.execute(_DELETES[table_name], district_id, listed)
        deleted[table_name] = int(status.rsplit(" ", 1)[-1])
        written[table_name] = int(await tx.fetchval(_MERGES[table_name], district_id))
    await step("students not current")
    await tx.execute(_RELIST, district_id, listed)
    if not merge:
        await tx.execute(_UNLIST, district_id, listed, load_id)
    current = await tx.fetchval(_CURRENT, district_id)
    row = await tx.fetchrow(
        _RECORD, district_id, load_id, source_sha256, "merge" if merge else "snapshot", current
    )
    assert row is not None
    await step("commit")
    return Applied(
        rows=dict(staged.counts),
        rows_written=written,
        rows_deleted=deleted,
        students_listed=len(listed),
        students_new=len(listed) - int(new or 0),
        students_unlisted=int(await tx.fetchval(_UNLISTED_COUNT, district_id)),
        sessions_renumbered=renumbered,
        refresh=Refresh(**dict(row)),
    )


async def _keep_session_numbers(tx: TenantConnection) -> int:
    """Rename the staged sessions to the store's numbers (`tenants.loading.sessions`); how
    many were renamed."""
    stored = {
        (r["school_id"], r["school_year"], r["term"]): r["session_id"]
        for r in await tx.fetch(_STORED_SESSIONS, tx.district_id)
    }
    staged = {
        r["session_id"]: (r["school_id"], r["school_year"], r["term"])
        for r in await tx.fetch(_STAGED_SESSIONS)
    }
    mapping = renumbering(stored, staged)
    if mapping:
        old, new = list(mapping), list(mapping.values())
        for statement in _RENUMBER.values():
            await tx.execute(statement, old, new)
    return len(mapping)


_UNLISTED = """
SELECT u.student_id, s.first_name, s.last_name, u.since
  FROM unlisted_students u
  JOIN students s ON s.district_id = u.district_id AND s.student_id = u.student_id
 WHERE u.district_id = $1 AND s.district_id = $1
 ORDER BY u.since DESC, u.student_id
 LIMIT $2
"""


async def unlisted_students(tx: TenantConnection, limit: int = 100) -> list[dict[str, Any]]:
    """Students the latest snapshot did not list, most recent first."""
    return [dict(r) for r in await tx.fetch(_UNLISTED, tx.district_id, limit)]


async def student_count(tx: TenantConnection) -> int:
    return int(
        await tx.fetchval("SELECT count(*) FROM students WHERE district_id = $1", tx.district_id)
    )


@dataclass(frozen=True)
class DataStatus:
    """What a district is shown about its own data: when it was last refreshed, how many
    students it holds and how many of them the latest snapshot did not list."""

    refreshed_at: datetime | None
    students: int
    not_current: int


async def data_status(tx: TenantConnection) -> DataStatus:
    refresh = await last_refresh(tx)
    return DataStatus(
        refreshed_at=refresh.refreshed_at if refresh else None,
        students=await student_count(tx),
        not_current=int(await tx.fetchval(_UNLISTED_COUNT, tx.district_id)),
    )
