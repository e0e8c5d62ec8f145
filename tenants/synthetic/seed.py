"""Load synthetic district data (`tenants.synthetic.generator`) into the data stores, fast, with COPY.

The loader connects as the owner role: COPY into a table with row-level security is refused
to any role subject to it, and only the owner (BYPASSRLS) is exempt. It

1. registers the districts in the control database (`districts`), keeping any that exist,
   and audits each one it adds (`district.add`) and the run itself (`district.seed`);
2. skips every district whose store already holds rows for it, so a re-run adds only what is
   missing (one transaction per district: a district is loaded whole or not at all);
3. generates districts in a process pool while two connections COPY finished ones into their
   store; each district's tables go in foreign-key order;
4. ANALYZEs the tables it filled, so that the first queries after a load plan well.

Seeding runs hold an advisory lock, so two of them never load the same district twice.

Where the time goes (measured with py-spy, 20 districts x 1,000 students, 2 cores): about
half in generating (about 0.4 CPU-s per district, in the process pool), a third in this
process (unpickling the rows and encoding them for COPY) and the rest in Postgres; 300 x 1,000
take about 110 s on a quiet machine. Where the owner may set `session_replication_role`, the
per-row foreign-key triggers of the COPY are skipped and every key is checked set-based before
COMMIT instead (`tenants.synthetic.integrity`): the database still holds only rows whose
parents exist. Otherwise the triggers run; their plans are made once per connection, and
against tables without statistics the planner may pick a smaller index over the primary key
(measured: (district_id, birth_date), 3.5x slower), so each connection then ANALYZEs the parent
tables in its first transaction.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from multiprocessing import get_context
from typing import Any

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.errors import ConfigurationError, StoreUnavailable
from gateway.settings import Settings
from tenants.stores import MAIN_STORE
from tenants.synthetic import integrity
from tenants.synthetic.generator import (
    DEMO_LEAS,
    TABLES,
    DistrictPlan,
    DistrictRows,
    Term,
    district_plans,
    district_rows,
)

DEFAULT_SEED = 1
DEMO_SEED = 2026
DEMO_STUDENTS = 300
SEED_ACTOR = Actor("system", "seed")
# Below this many students in all, generating in-process beats starting a process pool.
_POOL_THRESHOLD = 20_000
_LOADERS = 2
# Arbitrary but fixed: the advisory lock key of seeding runs (migrations use another).
_LOCK_KEY = 72_460_2027
_SERVER_SETTINGS = {
    "application_name": "gateway-seed",
    # A crash mid-load loses at most the last districts, which a re-run loads again.
    "synchronous_commit": "off",
    "jit": "off",
}

Progress = Callable[[int, int], None]
"""Called with (districts loaded so far, districts to load) after each district."""


@dataclass(frozen=True)
class SeedReport:
    """What a seeding run did."""

    seed: int
    term: Term
    students_per_district: int
    created: tuple[str, ...]  # LEA codes added to `districts`
    loaded: tuple[str, ...]  # LEA codes whose rows were loaded
    skipped: tuple[str, ...]  # LEA codes that already had data
    rows: dict[str, int]  # rows loaded per table
    elapsed_seconds: float

    @property
    def districts_created(self) -> int:
        return len(self.created)

    @property
    def districts_skipped(self) -> int:
        return len(self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "school_year": self.term.school_year,
            "semester": self.term.semester,
            "students_per_district": self.students_per_district,
            "districts_created": len(self.created),
            "districts_loaded": len(self.loaded),
            "districts_skipped": len(self.skipped),
            "skipped": list(self.skipped),
            "rows": dict(self.rows),
            "total_rows": sum(self.rows.values()),
            "elapsed_seconds": round(self.elapsed_seconds, 2),
        }


@dataclass(frozen=True)
class DemoDistrict:
    """A demo district as `gateway dev` prints it: whom to ask a transcript for."""

    lea_code: str
    name: str
    district_id: int
    students: int
    # Students with completed courses and no active hold: {"student_id", "birth_date"
    # (ISO 8601), "last_name", "first_name"}.
    sample_students: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    plan: DistrictPlan
    district_id: int
    store: str


def store_owner_url(settings: Settings, store: str) -> str:
    """The URL of the role that may bulk-load `store` (the owner, which bypasses RLS)."""
    if store == MAIN_STORE:
        url = settings.migration_database_url or settings.database_url
    else:
        url = settings.migration_stores.get(store) or settings.stores.get(store)
    if url is None:
        raise StoreUnavailable(f"data store {store!r} is not configured")
    return str(url)


async def seed(
    settings: Settings,
    *,
    districts: int,
    students_per_district: int,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    plans: Sequence[DistrictPlan] | None = None,
    term: Term | None = None,
    workers: int | None = None,
    actor: Actor = SEED_ACTOR,
) -> SeedReport:
    """Generate and load `districts` districts of `students_per_district` students.

    `plans` replaces the state's plan list (`synth.district_plans`); `term` defaults to the
    term in progress today; `workers` is the size of the generating process pool (0:
    generate in this process; default: up to 2, and none for small loads). `actor` is who
    the audit log names.
    Idempotent: districts that already have rows are skipped, not duplicated. Refused in
    production: synthetic students must never sit beside real ones.
    """
    if settings.env == "production":
        raise ConfigurationError("seeding synthetic data is refused with GATEWAY_ENV=production")
    started = time.perf_counter()
    chosen = list(plans)[:districts] if plans is not None else district_plans(districts)
    term = term or Term.containing(date.today())
    async with _connect(store_owner_url(settings, MAIN_STORE)) as control:
        # Held for the whole run: a second run waits, then finds the districts loaded.
        await control.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        targets, created = await _register(control, chosen, actor)
        todo, skipped = await _without_data(settings, targets)
        if workers is None:
            workers = _default_workers(len(todo) * students_per_district)
        rows = await _load(settings, todo, students_per_district, seed, term, progress, workers)
        await _analyze(settings, {t.store for t in todo})
        report = SeedReport(
            seed=seed,
            term=term,
            students_per_district=students_per_district,
            created=tuple(created),
            loaded=tuple(t.plan.lea_code for t in todo),
            skipped=tuple(t.plan.lea_code for t in skipped),
            rows=rows,
            elapsed_seconds=time.perf_counter() - started,
        )
        if todo:
            await record(control, _seed_event(actor, report))
    return report


def _seed_event(actor: Actor, report: SeedReport) -> AuditEvent:
    detail = report.as_dict()
    del detail["skipped"]  # counts are enough; the full list can be hundreds of codes
    return AuditEvent(actor, "district.seed", detail=detail)


def _default_workers(students: int) -> int:
    if students < _POOL_THRESHOLD:
        return 0
    return max(1, min(2, os.cpu_count() or 1))


@asynccontextmanager
async def _connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url, server_settings=_SERVER_SETTINGS)
    try:
        yield conn
    finally:
        await conn.close()


_REGISTER = """
INSERT INTO districts (lea_code, name, kind)
SELECT lea_code, name, kind
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS p (lea_code, name, kind, n)
ORDER BY n
ON CONFLICT (lea_code) DO NOTHING
RETURNING lea_code
"""


async def _register(
    control: asyncpg.Connection, plans: list[DistrictPlan], actor: Actor
) -> tuple[list[_Target], list[str]]:
    """Add the districts that do not exist (in plan order, so ids ascend with it)."""
    codes = [p.lea_code for p in plans]
    async with control.transaction():
        created = await control.fetch(
            _REGISTER, codes, [p.name for p in plans], [p.kind for p in plans]
        )
        found = await control.fetch(
            "SELECT district_id, lea_code, store FROM districts WHERE lea_code = ANY($1::text[])",
            codes,
        )
        by_code = {r["lea_code"]: r for r in found}
        created_codes = {r["lea_code"] for r in created}
        for plan in plans:
            if plan.lea_code in created_codes:
                event = AuditEvent(
                    actor,
                    "district.add",
                    district_id=by_code[plan.lea_code]["district_id"],
                    target=plan.lea_code,
                    detail={"name": plan.name, "kind": plan.kind, "synthetic": True},
                )
                await record(control, event)
    targets = [
        _Target(p, by_code[p.lea_code]["district_id"], by_code[p.lea_code]["store"]) for p in plans
    ]
    return targets, [c for c in codes if c in created_codes]


# Filtered by `district_id = ANY(...)`, not correlated with unnest(): Citus pushes this down
# to the shards that hold those districts; a correlated EXISTS is a join it cannot plan.
# Schools alone answer it: every student row references a school of its district (FK).
_HAS_DATA = """
SELECT DISTINCT district_id AS d FROM schools WHERE district_id = ANY($1::integer[])
"""


async def _without_data(
    settings: Settings, targets: list[_Target]
) -> tuple[list[_Target], list[_Target]]:
    """Split targets into (to load, already loaded), asking each district's store."""
    loaded: set[int] = set()
    for store in sorted({t.store for t in targets}):
        ids = [t.district_id for t in targets if t.store == store]
        async with _connect(store_owner_url(settings, store)) as conn:
            loaded.update(r["d"] for r in await conn.fetch(_HAS_DATA, ids))
    todo = [t for t in targets if t.district_id not in loaded]
    return todo, [t for t in targets if t.district_id in loaded]


async def _load(
    settings: Settings,
    targets: list[_Target],
    students: int,
    seed: int,
    term: Term,
    progress: Progress | None,
    workers: int,
) -> dict[str, int]:
    """Generate and COPY every target; returns rows per table."""
    counts = dict.fromkeys(TABLES, 0)
    total = len(targets)
    if progress is not None:
        progress(0, total)
    if not targets:
        return counts
    queue: asyncio.Queue[tuple[_Target, DistrictRows] | None] = asyncio.Queue(maxsize=4)
    done = 0

    def loaded(rows: DistrictRows) -> None:
        nonlocal done
        for table, n in rows.counts().items():
            counts[table] += n
        done += 1
        if progress is not None:
            progress(done, total)

    make = partial(_generate, students=students, seed=seed, term=term)
    executor = _executor(workers)
    loaders = min(_LOADERS, total)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_produce(targets, make, executor, queue, consumers=loaders))
            for _ in range(loaders):
                group.create_task(_consume(settings, queue, loaded))
    except ExceptionGroup as failed:
        # One loader failing cancels the others; its error is the one worth reporting.
        raise failed.exceptions[0] from None
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return counts


def _generate(target: _Target, *, students: int, seed: int, term: Term) -> DistrictRows:
    return district_rows(
        target.plan, district_id=target.district_id, students=students, seed=seed, term=term
    )


def _executor(workers: int) -> Executor | None:
    if workers <= 0:
        return None
    # spawn, not fork: forking a process with threads (the progress bar's, asyncio's) can
    # deadlock the child on a lock some thread held at the time.
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))


async def _produce(
    targets: list[_Target],
    make: Callable[[_Target], DistrictRows],
    executor: Executor | None,
    queue: asyncio.Queue[tuple[_Target, DistrictRows] | None],
    consumers: int,
) -> None:
    """Generate districts in order, a few ahead of the loaders, then tell them to stop."""
    loop = asyncio.get_running_loop()
    ahead = 4 if executor is not None else 1
    pending: list[tuple[_Target, asyncio.Future[DistrictRows]]] = []
    remaining = iter(targets)

    def submit() -> None:
        target = next(remaining, None)
        if target is None:
            return
        future: asyncio.Future[DistrictRows]
        if executor is None:
            future = loop.create_future()
            future.set_result(make(target))
        else:
            future = loop.run_in_executor(executor, make, target)
        pending.append((target, future))

    for _ in range(ahead):
        submit()
    while pending:
        target, future = pending.pop(0)
        rows = await future
        submit()
        await queue.put((target, rows))
    for _ in range(consumers):
        await queue.put(None)


async def _consume(
    settings: Settings,
    queue: asyncio.Queue[tuple[_Target, DistrictRows] | None],
    loaded: Callable[[DistrictRows], None],
) -> None:
    """COPY districts from the queue, each in one transaction, until told to stop."""
    async with AsyncExitStack() as stack:
        conns: dict[str, tuple[asyncpg.Connection, _Checks]] = {}
        while (item := await queue.get()) is not None:
            target, rows = item
            held = conns.get(target.store)
            first = held is None
            if held is None:
                url = store_owner_url(settings, target.store)
                conn = await stack.enter_async_context(_connect(url))
                held = conns[target.store] = (conn, await _checks(conn))
            await _copy_district(*held, rows, target.district_id, analyze_parents=first)
            loaded(rows)


@dataclass(frozen=True)
class _Checks:
    """How a connection checks foreign keys: per row (the triggers) or per district."""

    set_based: bool
    orphans: str | None  # integrity.orphan_query, when set_based


async def _checks(conn: asyncpg.Connection) -> _Checks:
    if not await integrity.may_skip_row_triggers(conn):
        return _Checks(set_based=False, orphans=None)
    return _Checks(set_based=True, orphans=await integrity.orphan_query(conn, list(TABLES)))


async def _copy_district(
    conn: asyncpg.Connection,
    checks: _Checks,
    rows: DistrictRows,
    district_id: int,
    *,
    analyze_parents: bool,
) -> None:
    async with conn.transaction():
        if checks.set_based:
            await conn.execute(integrity.SKIP_ROW_TRIGGERS)
        for table, records in rows.tables():
            if table == "course_records" and analyze_parents and not checks.set_based:
                # The foreign-key checks of course_records use plans cached per connection;
                # planned without statistics they may use the wrong index (see the module
                # docstring). ANALYZE counts this transaction's own new rows, so it helps
                # even when the database was empty.
                await conn.execute("ANALYZE students, academic_sessions")
            if records:
                await conn.copy_records_to_table(table, records=records, columns=TABLES[table])
        if checks.set_based:
            await integrity.verify(conn, checks.orphans, district_id)


async def _analyze(settings: Settings, stores: set[str]) -> None:
    for store in sorted(stores):
        async with _connect(store_owner_url(settings, store)) as conn:
            await conn.execute("ANALYZE " + ", ".join(TABLES))


# --- demo ----------------------------------------------------------------------------------
_SAMPLES = """
SELECT student_id, birth_date, last_name, first_name
FROM (
    SELECT s.*, row_number() OVER (
        PARTITION BY s.graduation_date IS NULL ORDER BY s.student_id) AS n
    FROM students s
    WHERE s.district_id = $1
      AND s.grade_level = 12
      AND NOT EXISTS (
          SELECT 1 FROM transcript_holds h
          WHERE h.district_id = s.district_id AND h.student_id = s.student_id
            AND h.released_at IS NULL)
      AND EXISTS (
          SELECT 1 FROM course_records c
          WHERE c.district_id = s.district_id AND c.student_id = s.student_id
            AND c.grade <> 'IP')
) ranked
ORDER BY n, graduation_date IS NULL
LIMIT $2
"""


async def seed_demo(settings: Settings, *, samples: int = 3) -> list[DemoDistrict]:
    """The demo data of `gateway dev`: Wake, Charlotte-Mecklenburg and Durham with a few
    hundred students each. Idempotent: a restart finds them loaded and only reads back
    which students to try (graduates and seniors with completed courses and no hold)."""
    plans = district_plans(len(DEMO_LEAS))
    await seed(
        settings,
        districts=len(plans),
        students_per_district=DEMO_STUDENTS,
        seed=DEMO_SEED,
        plans=plans,
        workers=0,
        actor=Actor("system", "gateway dev"),
    )
    async with _connect(store_owner_url(settings, MAIN_STORE)) as control:
        found = await control.fetch(
            "SELECT district_id, lea_code, name, store FROM districts"
            " WHERE lea_code = ANY($1::text[])",
            list(DEMO_LEAS),
        )
    by_code = {r["lea_code"]: r for r in found}
    return [await _demo_district(settings, by_code[code], samples) for code in DEMO_LEAS]


async def _demo_district(settings: Settings, row: asyncpg.Record, samples: int) -> DemoDistrict:
    async with _connect(store_owner_url(settings, row["store"])) as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM students WHERE district_id = $1", row["district_id"]
        )
        students = await conn.fetch(_SAMPLES, row["district_id"], samples)
    return DemoDistrict(
        lea_code=row["lea_code"],
        name=row["name"],
        district_id=row["district_id"],
        students=count,
        sample_students=[
            {
                "student_id": s["student_id"],
                "birth_date": s["birth_date"].isoformat(),
                "last_name": s["last_name"],
                "first_name": s["first_name"],
            }
            for s in students
        ],
    )
