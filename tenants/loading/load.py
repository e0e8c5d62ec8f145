"""One load of a district's data, start to finish: read, validate, apply, record.

start (control: district_loads 'running')
  -> open the source (file, folder, zip) and digest it
  -> same digest and mode as the data loaded now? 'unchanged': nothing to do
  -> validate every row, streaming, into spool files (errors: 'rejected', nothing written)
  -> dry run? 'validated'
  -> apply in one tenant transaction as gateway_ingest ('succeeded'; any failure: 'failed',
     rolled back whole)
finish (control: outcome, counts, first errors; audit event `district.load`)

From start to finish a control connection of the load's own holds it (an advisory lock): if
the process dies, housekeeping finds the load with no holder and records it failed. The
holder is not a pooled connection: a load lasts seconds to minutes, and each one running
would take a connection from the requests' pool for as long.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import asyncpg

from gateway.audit import Actor
from gateway.control import district_loads
from tenants.directory import District
from tenants.loading import replace
from tenants.loading.csv_bundle import read_bundle
from tenants.loading.pesc_documents import read_documents
from tenants.loading.problems import ProblemLog
from tenants.loading.replace import Applied, Observer, Refresh
from tenants.loading.sources import Source, open_source
from tenants.loading.staging import Staged, staging
from tenants.loading.validator import Target, Validator
from tenants.stores import MAIN_STORE, StoreRegistry
from tenants.transaction import tenant_transaction

Format = Literal["csv", "pesc"]
FORMATS: tuple[Format, ...] = ("csv", "pesc")
Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total): 'validate' counts bytes, 'apply' counts steps."""

# A refused statement, a lost connection (a killed backend shows as either of the last two).
_BROKEN_OFF = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
_APPLY_STEPS = 7 + 1 + 3 + 4 + 2  # stage tables, sessions, upserts, replaces, unlisted, commit


@dataclass(frozen=True)
class LoadRequest:
    path: Path
    format: Format | None = None  # None: tell from the files
    merge: bool = False
    dry_run: bool = False
    source_name: str | None = None  # shown in the record; default: the path's name


@dataclass
class LoadResult:
    load_id: UUID
    lea_code: str
    status: str = "running"
    format: Format | None = None
    source_sha256: str | None = None
    source_bytes: int | None = None
    problems: ProblemLog = field(default_factory=ProblemLog)
    counts: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    refresh: Refresh | None = None
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "validated", "unchanged")

    def outcome(self) -> district_loads.Outcome:
        return district_loads.Outcome(
            status=self.status,
            source_sha256=self.source_sha256,
            source_bytes=self.source_bytes,
            format=self.format,
            counts=self.counts,
            error_count=self.problems.count,
            errors=self.problems.as_list(),
            message=self.message,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "load_id": str(self.load_id),
            "district": self.lea_code,
            "status": self.status,
            "format": self.format,
            "source_sha256": self.source_sha256,
            "source_bytes": self.source_bytes,
            "counts": self.counts,
            "error_count": self.problems.count,
            "errors": self.problems.as_list(),
            "message": self.message,
            "refreshed_at": self.refresh.refreshed_at.isoformat() if self.refresh else None,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


def detect_format(source: Source) -> Format | None:
    kinds = {m.base.rsplit(".", 1)[-1] for m in source.members}
    if kinds == {"xml"}:
        return "pesc"
    if "csv" in kinds:
        return "csv"
    return None


@dataclass(frozen=True)
class Started:
    """A load recorded as running, and the control connection that holds it (a load whose
    holder is gone is reaped as interrupted: gateway.control.district_loads)."""

    load_id: UUID
    holder: Any  # a dedicated asyncpg connection, closed when the load is finished


async def start_load(
    stores: StoreRegistry, district: District, request: LoadRequest, actor: Actor
) -> Started:
    """Record a load as running (so that an API client has its id at once). The caller
    passes the result to `load_district`, which finishes the load and lets go of it."""
    conn = await stores.connect(MAIN_STORE)
    try:
        load_id = await district_loads.start(
            conn,
            district.id,
            actor,
            request.source_name or request.path.name,
            merge=request.merge,
            dry_run=request.dry_run,
        )
    except BaseException:
        await _close(conn)
        raise
    return Started(load_id, conn)


async def load_district(
    stores: StoreRegistry,
    district: District,
    request: LoadRequest,
    actor: Actor,
    *,
    started: Started | None = None,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> LoadResult:
    """Run one load (see the module docstring); never raises for bad input or a failed
    apply: the result says what happened, and the control plane has recorded it."""
    begun = time.perf_counter()
    if started is None:
        started = await start_load(stores, district, request, actor)
    result = LoadResult(started.load_id, district.lea_code)
    try:
        try:
            await _run(stores, district, request, result, progress, observe)
        except _BROKEN_OFF as exc:
            result.status = "failed"
            result.message = _database_message(exc)
        except BaseException:
            result.status = "failed"
            result.message = "the load was interrupted"
            result.elapsed_seconds = time.perf_counter() - begun
            await _finish(started.holder, district, actor, result)
            raise
        result.elapsed_seconds = time.perf_counter() - begun
        result.counts.setdefault("elapsed_seconds", round(result.elapsed_seconds, 3))
        await _finish(started.holder, district, actor, result)
        return result
    finally:
        await _let_go(started)


async def abandon(started: Started, district: District, actor: Actor) -> None:
    """Finish a load that was started but never ran (its process is stopping): recorded as
    failed, and let go of."""
    result = LoadResult(started.load_id, district.lea_code)
    result.status = "failed"
    result.message = "the load was interrupted before it began"
    try:
        with contextlib.suppress(*_BROKEN_OFF):
            await _finish(started.holder, district, actor, result)
    finally:
        await _let_go(started)


async def _let_go(started: Started) -> None:
    # A broken holder connection has lost its session, and the lock with it.
    with contextlib.suppress(*_BROKEN_OFF):
        await district_loads.release(started.holder, started.load_id)
    await _close(started.holder)


async def _close(conn: asyncpg.Connection) -> None:
    try:
        async with asyncio.timeout(5):
            await conn.close()
    except (TimeoutError, *_BROKEN_OFF):
        conn.terminate()


def _database_message(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.UniqueViolationError) and "local_id" in str(exc):
        return (
            "a local_id of this load belongs to another student of the district "
            "(one not in this load); nothing was written"
        )
    if isinstance(exc, asyncpg.PostgresError):
        return f"the database refused the load; nothing was written: {exc}"
    return f"the load broke off; nothing was written: {exc}"


async def _finish(conn: Any, district: District, actor: Actor, r: LoadResult) -> None:
    await district_loads.finish(conn, r.load_id, district.id, district.lea_code, actor, r.outcome())


async def _run(
    stores: StoreRegistry,
    district: District,
    request: LoadRequest,
    result: LoadResult,
    progress: Progress | None,
    observe: Observer | None,
) -> None:
    problems = result.problems
    with open_source(request.path, problems, request.source_name) as source:
        if source is None:
            result.status = "rejected"
            return
        result.source_sha256, result.source_bytes = source.sha256, source.size
        result.format = request.format or detect_format(source)
        if result.format is None:
            problems.add(source.name, "cannot tell the format: give --format csv or pesc")
            result.status = "rejected"
            return
        async with tenant_transaction(stores, district, readonly=True) as tx:
            before = await replace.last_refresh(tx)
            schools, sessions = await replace.known_ids(tx)
        mode = "merge" if request.merge else "snapshot"
        if before and (before.source_sha256, before.mode) == (source.sha256, mode):
            result.status, result.refresh = "unchanged", before
            result.message = f"the same source was loaded at {before.refreshed_at.isoformat()}"
            return
        with staging() as staged:
            validator = Validator(
                Target(district.id, district.lea_code),
                staged,
                problems,
                known_schools=schools,
                known_sessions=sessions,
            )
            # In a thread: validating a large export takes seconds of CPU, which must not
            # stall the event loop of a server answering transcript requests meanwhile.
            await asyncio.to_thread(
                _validate, source, result.format, validator, request.merge, progress
            )
            result.counts = {"rows": dict(staged.counts), "students_listed": staged.students}
            if problems:
                result.status = "rejected"
                result.message = f"{problems.count} errors; nothing was written"
                return
            if request.dry_run:
                result.status = "validated"
                return
            applied = await _apply(
                stores, district, staged, result, request.merge, progress, observe
            )
            if applied is None:
                return
            result.status, result.refresh = "succeeded", applied.refresh
            result.counts.update(
                students_new=applied.students_new,
                students_not_current=applied.students_unlisted,
                students_current=applied.refresh.students,
                rows_written=applied.rows_written,
                rows_deleted=applied.rows_deleted,
                sessions_renumbered=applied.sessions_renumbered,
            )


def _validate(
    source: Source,
    fmt: Format,
    validator: Validator,
    merge: bool,
    progress: Progress | None,
) -> None:
    total = source.size if fmt == "pesc" else sum(m.size for m in source.members)

    def advanced(done: int) -> None:
        if progress is not None:
            progress("validate", min(done, total), total)

    if fmt == "csv":
        read_bundle(source, validator, validator.problems, merge=merge, progress=advanced)
    else:
        read_documents(source, validator, validator.problems, progress=advanced)


async def _apply(
    stores: StoreRegistry,
    district: District,
    staged: Staged,
    result: LoadResult,
    merge: bool,
    progress: Progress | None,
    observe: Observer | None,
) -> Applied | None:
    done = 0

    async def step(name: str, pid: int) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("apply", min(done, _APPLY_STEPS), _APPLY_STEPS)
        if observe is not None:
            await observe(name, pid)

    async with tenant_transaction(stores, district) as tx:
        await replace.take_ingest_role(tx)
        # Another load may have applied the same source while this one validated.
        now = await replace.last_refresh(tx)
        mode = "merge" if merge else "snapshot"
        if now and (now.source_sha256, now.mode) == (result.source_sha256, mode):
            result.status, result.refresh = "unchanged", now
            return None
        assert result.source_sha256 is not None
        return await replace.apply(
            tx,
            staged,
            load_id=result.load_id,
            source_sha256=result.source_sha256,
            merge=merge,
            observe=step,
        )
