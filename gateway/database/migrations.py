"""Forward-only, numbered SQL migrations.

Two streams live in `sql/`:

* `sql/control/NNNN_name.sql`: the control plane (districts, credentials, keys, users, audit),
  applied to the main database only;
* `sql/district/NNNN_name.sql`: district data (students, courses, disclosures, ...), applied to
  every data store, the main database included.

Every table a district file creates is registered as a district table in the same transaction
(`gateway.database.distribution`); on a Citus coordinator it is then distributed by
`district_id`, still in that transaction. On plain PostgreSQL nothing else changes.

Each applied file is recorded with its SHA-256. Running again applies only what is new; a file
whose content changed after it was applied stops the run before anything else happens, because
a forward-only history must not be rewritten. The whole run holds a session advisory lock, so
two `gateway migrate` processes (or two replicas starting at once) never interleave.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from gateway.database import distribution
from gateway.database.statements import split_alter_table, split_statements
from gateway.errors import MigrationError

CONTROL = "control"
DISTRICT = "district"
# Arbitrary but fixed: the key of the advisory lock every migrating process takes.
_LOCK_KEY = 72_460_2026
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def sql_root() -> Path:
    """`sql/` in a source checkout, or the copy packed into the wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "sql", here / "_sql"):
        if (candidate / CONTROL).is_dir():
            return candidate
    raise MigrationError("cannot find the sql/ folder of migrations")


@dataclass(frozen=True)
class Migration:
    stream: str
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(stream: str, root: Path | None = None) -> list[Migration]:
    folder = (root or sql_root()) / stream
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(stream, int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"sql/{stream}: two files share a version number")
    return found


@dataclass(frozen=True)
class Applied:
    stream: str
    version: int
    name: str


_LEDGER = """
CREATE TABLE IF NOT EXISTS gateway_schema_migrations (
    stream      text        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, version)
)
"""


async def migrate(url: str, streams: Iterable[str], root: Path | None = None) -> list[Applied]:
    """Apply pending migrations of `streams` to the database at `url` (an owner role).

    Returns what was applied (empty when already up to date). Raises MigrationError, having
    applied nothing from the offending file, on a checksum mismatch or a failing statement.
    """
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            return await _migrate_locked(conn, list(streams), root)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()


async def _migrate_locked(
    conn: asyncpg.Connection, streams: list[str], root: Path | None
) -> list[Applied]:
    await conn.execute(_LEDGER)
    await conn.execute(distribution.REGISTRY)
    citus = await distribution.has_citus(conn)
    if citus and DISTRICT in streams:
        # A run that stopped between a file and its distribution (or a database migrated
        # before Citus was installed) is finished first.
        async with conn.transaction():
            await distribution.distribute_pending(conn)
    rows = await conn.fetch("SELECT stream, version, name, checksum FROM gateway_schema_migrations")
    recorded = {(r["stream"], r["version"]): r for r in rows}
    plan = [m for stream in streams for m in discover(stream, root)]

    # Verify the whole history before touching anything.
    for m in plan:
        row = recorded.get((m.stream, m.version))
        if row is not None and row["checksum"] != m.checksum:
            raise MigrationError(
                f"sql/{m.stream}/{m.path.name} was changed after it was applied "
                f"(recorded {row['checksum'][:12]}, file {m.checksum[:12]}). Migrations are "
                "forward-only: restore the file and add a new one."
            )

    applied: list[Applied] = []
    for m in plan:
        if (m.stream, m.version) in recorded:
            continue
        try:
            async with conn.transaction():
                if m.stream == DISTRICT:
                    before = await distribution.schema_tables(conn)
                if citus:
                    # Citus forwards some DDL as the text it got, and refuses some ALTER
                    # TABLE subcommands together: one statement, one subcommand at a time.
                    for statement in split_statements(m.sql):
                        for part in split_alter_table(statement):
                            await conn.execute(part)
                else:
                    await conn.execute(m.sql)
                if m.stream == DISTRICT:
                    created = await distribution.schema_tables(conn) - before
                    await distribution.register(conn, created, m.version)
                    if citus:
                        await distribution.distribute_pending(conn)
                await conn.execute(
                    "INSERT INTO gateway_schema_migrations (stream, version, name, checksum)"
                    " VALUES ($1, $2, $3, $4)",
                    m.stream,
                    m.version,
                    m.name,
                    m.checksum,
                )
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"sql/{m.stream}/{m.path.name} failed: {exc}") from exc
        applied.append(Applied(m.stream, m.version, m.name))
    return applied


async def pending(url: str, streams: Iterable[str], root: Path | None = None) -> list[Migration]:
    """Migrations not yet applied (for `gateway migrate --status` and readiness)."""
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('gateway_schema_migrations') IS NOT NULL")
        done: set[tuple[str, int]] = set()
        if exists:
            rows = await conn.fetch("SELECT stream, version FROM gateway_schema_migrations")
            done = {(r["stream"], r["version"]) for r in rows}
    finally:
        await conn.close()
    return [m for s in streams for m in discover(s, root) if (m.stream, m.version) not in done]
