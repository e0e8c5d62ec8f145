"""The seed's set-based foreign-key check: with the per-row triggers off, a row whose parent
is missing still never commits (tenants.synthetic.integrity)."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from tenants.synthetic import integrity
from tenants.synthetic.generator import TABLES
from tests.conftest import PgDatabase


async def test_the_test_servers_owner_may_skip_row_triggers(
    owner_conn: asyncpg.Connection,
) -> None:
    """So the seed tests exercise the set-based path (the bootstrap grants it)."""
    assert await integrity.may_skip_row_triggers(owner_conn)


async def test_the_application_role_may_not(database: PgDatabase) -> None:
    conn = await asyncpg.connect(database.app_url)
    try:
        assert not await integrity.may_skip_row_triggers(conn)
    finally:
        await conn.close()


async def test_every_foreign_key_of_the_seeded_tables_is_checked(
    owner_conn: asyncpg.Connection,
) -> None:
    query = await integrity.orphan_query(owner_conn, list(TABLES))
    assert query is not None
    declared = await owner_conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[])",
        list(TABLES),
    )
    assert declared >= 7  # sql/district/0001: schools, sessions and students are parents
    assert query.count("NOT EXISTS") == declared


async def test_an_orphan_row_is_named_and_its_transaction_never_commits(
    owner_conn: asyncpg.Connection,
) -> None:
    district = await owner_conn.fetchval("SELECT min(district_id) FROM districts") or 1
    query = await integrity.orphan_query(owner_conn, list(TABLES))
    before = await owner_conn.fetchval("SELECT count(*) FROM test_scores")
    with pytest.raises(integrity.IntegrityViolation, match="test_scores"):
        async with owner_conn.transaction():
            await owner_conn.execute(integrity.SKIP_ROW_TRIGGERS)
            # Without the triggers the database takes a score of a student who does not exist.
            await owner_conn.copy_records_to_table(
                "test_scores",
                records=[(district, "no-such-student", 1, "SAT", "Total", 1200, date(2026, 5, 2))],
                columns=[
                    "district_id",
                    "student_id",
                    "score_id",
                    "test_code",
                    "subtest",
                    "score",
                    "test_date",
                ],
            )
            await integrity.verify(owner_conn, query, district)
    assert await owner_conn.fetchval("SELECT count(*) FROM test_scores") == before
    # The setting was the transaction's own: the triggers are back.
    assert await owner_conn.fetchval("SHOW session_replication_role") == "origin"


async def test_valid_rows_pass(owner_conn: asyncpg.Connection) -> None:
    district = await owner_conn.fetchval("SELECT min(district_id) FROM districts") or 1
    query = await integrity.orphan_query(owner_conn, list(TABLES))
    await integrity.verify(owner_conn, query, district)
