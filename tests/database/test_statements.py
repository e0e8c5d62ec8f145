"""Splitting a migration file into statements, for a Citus coordinator."""

from __future__ import annotations

from gateway.database.migrations import CONTROL, DISTRICT, discover
from gateway.database.statements import split_alter_table, split_statements


def test_splits_on_semicolons_between_statements() -> None:
    assert split_statements("CREATE TABLE a (x int);\nDROP TABLE a;\n\n") == [
        "CREATE TABLE a (x int)",
        "DROP TABLE a",
    ]


def test_keeps_semicolons_inside_strings_identifiers_bodies_and_comments() -> None:
    sql = """
    -- a comment; with a semicolon
    INSERT INTO t VALUES ('it''s; fine', E'back\\'slash;', "odd;name");
    /* block; /* nested; */ still comment; */
    CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
    DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$;
    SELECT $1::int; SELECT 2
    """
    parts = split_statements(sql)
    # Comments stay with the statement that follows them.
    assert [p.split("\n")[-1].split()[0] for p in parts] == [
        "INSERT",
        "CREATE",
        "DO",
        "SELECT",
        "SELECT",
    ]
    assert "'it''s; fine', E'back\\'slash;', \"odd;name\"" in parts[0]
    assert parts[1].endswith("$$ SELECT 1; $$")
    assert parts[2].endswith("END $body$")


def test_comment_only_remainders_are_dropped() -> None:
    assert split_statements("SELECT 1; -- done\n/* end */\n") == ["SELECT 1"]


def test_every_migration_splits_into_statements_that_rejoin_to_the_file() -> None:
    for migration in discover(CONTROL) + discover(DISTRICT):
        parts = split_statements(migration.sql)
        assert parts, migration.path
        # Nothing is lost: the statements, in order, are the file's text between semicolons.
        rest = migration.sql
        for part in parts:
            index = rest.find(part)
            assert index >= 0, (migration.path, part[:60])
            rest = rest[index + len(part) :]


def test_an_alter_table_with_several_subcommands_becomes_one_per_subcommand() -> None:
    sql = (
        "ALTER TABLE gpa_summaries\n    ALTER COLUMN gpa_weighted TYPE numeric(7,3),\n"
        "    ALTER COLUMN gpa_unweighted TYPE numeric,\n"
        "    ADD CONSTRAINT gpa_range CHECK (scale(gpa_weighted) <= 4 AND gpa_weighted < 1000)"
    )
    assert [" ".join(s.split()) for s in split_alter_table(sql)] == [
        "ALTER TABLE gpa_summaries ALTER COLUMN gpa_weighted TYPE numeric(7,3)",
        "ALTER TABLE gpa_summaries ALTER COLUMN gpa_unweighted TYPE numeric",
        "ALTER TABLE gpa_summaries ADD CONSTRAINT gpa_range CHECK"
        " (scale(gpa_weighted) <= 4 AND gpa_weighted < 1000)",
    ]


def test_other_statements_and_single_subcommands_are_left_whole() -> None:
    for sql in (
        "ALTER TABLE students ADD COLUMN note text DEFAULT 'a, b'",
        "CREATE TABLE t (a int, b int)",
        'ALTER TABLE ONLY "odd, name" ALTER COLUMN a SET DEFAULT 1',
    ):
        assert split_alter_table(sql) == [sql]
