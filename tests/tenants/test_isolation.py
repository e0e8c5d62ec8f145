"""Row-level security, as the application role: the database itself keeps districts apart."""

from __future__ import annotations

import contextlib

import asyncpg
import pytest

from tenants import District, StoreRegistry, tenant_transaction
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district, add_student

DISTRICT_TABLES = [
    "schools",
    "students",
    "academic_sessions",
    "course_records",
    "gpa_summaries",
    "test_scores",
    "transcript_holds",
    "disclosures",
]


@pytest.fixture
async def two_districts(owner_conn: asyncpg.Connection) -> tuple[int, int]:
    a = await add_district(owner_conn, unique_lea())
    b = await add_district(owner_conn, unique_lea())
    await add_student(owner_conn, a.id, "1000000001", last_name="Alpha")
    await add_student(owner_conn, b.id, "2000000002", last_name="Beta")
    return a.id, b.id


async def set_district(conn: asyncpg.Connection, district_id: int | None) -> None:
    """Name the district the way tenant transactions do (SET LOCAL, which Citus carries to
    the workers); `None` sets it empty, which must read as no district at all."""
    value = "" if district_id is None else f"{int(district_id):d}"
    await conn.execute(f"SET LOCAL app.district_id = '{value}'")


async def test_no_district_set_reads_zero_rows(
    app_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    for table in DISTRICT_TABLES:
        # Table names come from the list above, not from input.
        assert await app_conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    async with app_conn.transaction():
        await set_district(app_conn, None)  # an empty setting is "no district", not "all"
        assert await app_conn.fetchval("SELECT count(*) FROM students") == 0


async def test_district_reads_only_its_own_rows(
    app_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    a, b = two_districts
    async with app_conn.transaction():
        await set_district(app_conn, a)
        rows = await app_conn.fetch("SELECT district_id, last_name FROM students")
        assert [(r["district_id"], r["last_name"]) for r in rows] == [(a, "Alpha")]
        # Even asking for B's rows by key returns nothing.
        assert (
            await app_conn.fetchval("SELECT count(*) FROM students WHERE district_id = $1", b) == 0
        )


async def test_district_cannot_write_rows_for_another(
    app_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    a, b = two_districts
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await set_district(app_conn, a)
            await app_conn.execute(
                "INSERT INTO disclosures (district_id, student_id, event, channel, consumer_name,"
                " recipient, purpose, legal_basis, document_sha256)"
                " VALUES ($1, '2000000002', 'disclosed', 'api', 'x', 'x', 'x', 'x', repeat('0', 64))",
                b,
            )


async def test_app_role_cannot_write_student_data(
    app_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    a, _ = two_districts
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with app_conn.transaction():
            await set_district(app_conn, a)
            await app_conn.execute(
                "UPDATE students SET last_name = 'Changed' WHERE district_id = $1", a
            )


async def test_disclosure_log_is_append_only_for_the_app(
    app_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    a, _ = two_districts
    async with app_conn.transaction():
        await set_district(app_conn, a)
        await app_conn.execute(
            "INSERT INTO disclosures (district_id, student_id, event, channel, consumer_name,"
            " recipient, purpose, legal_basis, document_sha256)"
            " VALUES ($1, '1000000001', 'disclosed', 'api', 'CFNC', 'CFNC', 'enrollment',"
            " '34 CFR 99.31(a)(2)', repeat('a', 64))",
            a,
        )
    for statement in (
        "UPDATE disclosures SET recipient = 'someone else' WHERE district_id = $1",
        "DELETE FROM disclosures WHERE district_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with app_conn.transaction():
                await set_district(app_conn, a)
                await app_conn.execute(statement, a)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("TRUNCATE disclosures")
    async with app_conn.transaction():
        await set_district(app_conn, a)
        assert (
            await app_conn.fetchval("SELECT count(*) FROM disclosures WHERE district_id = $1", a)
            == 1
        )


async def test_disclosure_log_refuses_update_even_for_the_owner(
    owner_conn: asyncpg.Connection, two_districts: tuple[int, int]
) -> None:
    a, _ = two_districts
    await owner_conn.execute(
        "INSERT INTO disclosures (district_id, student_id, event, channel, consumer_name,"
        " recipient, purpose, legal_basis, document_sha256) VALUES ($1, '1000000001', 'disclosed',"
        " 'api', 'CFNC', 'CFNC', 'enrollment', '99.31(a)(2)', repeat('b', 64))",
        a,
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await owner_conn.execute("DELETE FROM disclosures WHERE district_id = $1", a)


async def test_pooled_connection_carries_no_district_into_next_transaction(
    database: PgDatabase, two_districts: tuple[int, int], owner_conn: asyncpg.Connection
) -> None:
    a, _ = two_districts
    stores = StoreRegistry({"main": database.app_url}, min_size=1, max_size=1)
    await stores.open()
    try:
        row = await owner_conn.fetchrow(
            "SELECT district_id, lea_code, name, kind, status, store FROM districts WHERE district_id = $1",
            a,
        )
        district = District.from_row(row)
        async with tenant_transaction(stores, district) as tx:
            assert await tx.fetchval("SELECT count(*) FROM students") == 1
        # The pool has one connection: the next use gets the very same one.
        async with stores.control.acquire() as conn:
            assert await conn.fetchval("SELECT current_setting('app.district_id', true)") in (
                "",
                None,
            )
            assert await conn.fetchval("SELECT count(*) FROM students") == 0
    finally:
        await stores.close()


async def test_app_role_owns_nothing_and_cannot_bypass_rls(app_conn: asyncpg.Connection) -> None:
    role = await app_conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert role is not None and not any(role.values())
    owned = await app_conn.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
        " WHERE r.rolname = current_user"
    )
    assert owned == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("CREATE TABLE sneaky (x int)")


async def test_catalog_every_district_table_has_forced_rls_and_leading_district_id(
    app_conn: asyncpg.Connection,
) -> None:
    rows = await app_conn.fetch(
        """
        SELECT c.relname,
               c.relrowsecurity AS enabled,
               c.relforcerowsecurity AS forced,
               (SELECT a.attname FROM pg_index i
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE i.indrelid = c.oid AND i.indisprimary) AS first_pk_column,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
           AND EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'district_id' AND NOT a.attisdropped)
           AND c.relname NOT IN (SELECT unnest($1::text[]))
        """,
        CONTROL_TABLES_WITH_DISTRICT_ID,
    )
    names = {r["relname"] for r in rows}
    assert set(DISTRICT_TABLES) <= names
    for r in rows:
        assert r["enabled"] and r["forced"], f"{r['relname']}: RLS must be enabled and forced"
        assert r["first_pk_column"] == "district_id", (
            f"{r['relname']}: district_id must lead the PK"
        )
        assert r["policies"] >= 1, f"{r['relname']}: no policy"
    # Every foreign key among district tables leads with district_id too.
    fks = await app_conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, a.attname AS first_col
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1::text[])
        """,
        DISTRICT_TABLES,
    )
    assert fks, "district tables have foreign keys"
    assert {f["first_col"] for f in fks} == {"district_id"}


# Control-plane tables that name a district but are not district data: they hold no student
# records and are read across districts by operators (the control database is not a store).
CONTROL_TABLES_WITH_DISTRICT_ID = [
    "districts",
    "credentials",
    "outgoing_connections",
    "web_users",
    "audit_log",
    # The release queue: shared by workers of every district; ids and statuses, no records.
    "release_batches",
    "release_items",
    # The record of district data loads: who, when, digest, counts; errors may quote values,
    # and only operators read it.
    "district_loads",
]


async def test_a_swallowed_error_is_not_reported_as_a_commit(
    database: PgDatabase, two_districts: tuple[int, int], owner_conn: asyncpg.Connection
) -> None:
    a, _ = two_districts
    row = await owner_conn.fetchrow(
        "SELECT district_id, lea_code, name, kind, status, store FROM districts WHERE district_id = $1",
        a,
    )
    stores = StoreRegistry({"main": database.app_url}, min_size=1, max_size=1)
    await stores.open()
    try:
        with pytest.raises(asyncpg.InFailedSQLTransactionError):
            async with tenant_transaction(stores, District.from_row(row)) as tx:
                await tx.execute(
                    "INSERT INTO disclosures (district_id, student_id, event, channel, consumer_name,"
                    " recipient, purpose, legal_basis, document_sha256) VALUES ($1, '1000000001',"
                    " 'disclosed', 'api', 'x', 'x', 'x', 'x', repeat('c', 64))",
                    a,
                )
                with contextlib.suppress(asyncpg.PostgresError):
                    await tx.execute("SELECT 1 / 0")
        # Nothing was written, and the pooled connection is usable again.
        async with tenant_transaction(stores, District.from_row(row), readonly=True) as tx:
            assert (
                await tx.fetchval(
                    "SELECT count(*) FROM disclosures WHERE district_id = $1 AND document_sha256 = repeat('c', 64)",
                    a,
                )
                == 0
            )
    finally:
        await stores.close()
