"""A statewide load: a folder with one bundle per district, loaded a few districts at a time.

    exports/
      920/        district 920's CSV bundle (or PESC transcripts), a folder
      600.zip     district 600's, zipped

Each district is an ordinary load (`load.load_district`): validated whole before anything is
written, applied in its own transaction as gateway_ingest under row-level security, recorded
and audited in the control plane. A district that is rejected or fails is its own outcome; the
others go on, and nothing of it is written.

Why several at a time: validating a bundle is Python work (one core: the GIL), applying it is
PostgreSQL's (another process). With two jobs, district N+1 is validated while district N is
applied, so on a two-core machine both cores work. More jobs than cores only queue.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gateway.audit import Actor
from tenants.directory import District
from tenants.loading.load import Format, LoadRequest, LoadResult, load_district
from tenants.stores import StoreRegistry

MAX_JOBS: Final = 16
# The LEA codes of the control plane (gateway.control.districts): what a bundle is named by.
_LEA: Final = re.compile(r"[0-9A-Za-z]{3,10}")

FindDistrict = Callable[[str], Awaitable[District | None]]
Done = Callable[["DistrictOutcome"], None]


@dataclass(frozen=True)
class Bundle:
    lea_code: str  # upper case
    path: Path


@dataclass(frozen=True)
class Folder:
    """What a statewide folder holds: the bundles, and the entries that are not one."""

    bundles: tuple[Bundle, ...]
    ignored: tuple[str, ...]  # names that are not `LEA/` or `LEA.zip`
    doubled: tuple[str, ...]  # LEA codes with two bundles (a folder and a zip): not loaded


def find_bundles(folder: Path) -> Folder:
    """The folder's bundles, by LEA code: each sub-folder `LEA/` or file `LEA.zip`. Hidden
    entries are skipped; anything else is listed as ignored."""
    found: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        stem: str | None = None
        if entry.is_dir():
            stem = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            stem = entry.name[: -len(entry.suffix)]
        if stem is None or not _LEA.fullmatch(stem):
            ignored.append(entry.name)
            continue
        found.setdefault(stem.upper(), []).append(entry)
    bundles = tuple(Bundle(lea, paths[0]) for lea, paths in found.items() if len(paths) == 1)
    doubled = tuple(lea for lea, paths in found.items() if len(paths) > 1)
    return Folder(bundles, tuple(ignored), doubled)


@dataclass
class DistrictOutcome:
    """One district of a statewide load: its load's result, or why it was not loaded."""

    lea_code: str
    source: str
    status: str  # a load's status, or 'rejected' when there was no load to run
    result: LoadResult | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.result.ok if self.result is not None else False

    @property
    def students(self) -> int:
        return int(self.result.counts.get("students_listed", 0)) if self.result else 0

    @property
    def rows(self) -> int:
        counted = self.result.counts.get("rows", {}) if self.result else {}
        return sum(int(n) for n in counted.values())

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "district": self.lea_code,
            "source": self.source,
            "status": self.status,
            "load_id": str(r.load_id) if r else None,
            "students": self.students,
            "rows": self.rows,
            "error_count": r.problems.count if r else 0,
            "errors": r.problems.as_list()[:10] if r else [],
            "message": self.message,
            "elapsed_seconds": round(r.elapsed_seconds, 3) if r else 0.0,
        }


@dataclass
class Statewide:
    outcomes: list[DistrictOutcome] = field(default_factory=list)
    ignored: tuple[str, ...] = ()
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        for o in self.outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
        students = sum(o.students for o in self.outcomes if o.status == "succeeded")
        rows = sum(o.rows for o in self.outcomes if o.status == "succeeded")
        seconds = self.elapsed_seconds
        return {
            "districts": len(self.outcomes),
            "statuses": dict(sorted(statuses.items())),
            "students_loaded": students,
            "rows_loaded": rows,
            "elapsed_seconds": round(seconds, 3),
            "students_per_second": round(students / seconds) if seconds else 0,
            "rows_per_second": round(rows / seconds) if seconds else 0,
            "ignored": list(self.ignored),
        }

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "districts": [o.as_dict() for o in self.outcomes]}


@dataclass(frozen=True)
class Options:
    jobs: int = 2
    format: Format | None = None
    merge: bool = False
    dry_run: bool = False


async def load_folder(
    stores: StoreRegistry,
    find: FindDistrict,
    folder: Folder,
    actor: Actor,
    options: Options = Options(),
    *,
    done: Done | None = None,
) -> Statewide:
    """Load every bundle of `folder`, `options.jobs` districts at a time; `done` is called as
    each district ends. Outcomes come back in the folder's order."""
    if not 1 <= options.jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    started = time.perf_counter()
    outcomes: dict[str, DistrictOutcome] = {}
    for lea in folder.doubled:
        outcomes[lea] = DistrictOutcome(
            lea, lea, "rejected", message="two bundles for this district (a folder and a zip)"
        )
        if done is not None:
            done(outcomes[lea])
    queue: asyncio.Queue[Bundle] = asyncio.Queue()
    for bundle in folder.bundles:
        queue.put_nowait(bundle)

    async def worker() -> None:
        while not queue.empty():
            bundle = queue.get_nowait()
            outcome = await _one(stores, find, bundle, actor, options)
            outcomes[bundle.lea_code] = outcome
            if done is not None:
                done(outcome)

    await asyncio.gather(*(worker() for _ in range(min(options.jobs, len(folder.bundles) or 1))))
    order = [b.lea_code for b in folder.bundles] + list(folder.doubled)
    return Statewide(
        [outcomes[lea] for lea in sorted(order)],
        folder.ignored,
        time.perf_counter() - started,
    )


async def _one(
    stores: StoreRegistry, find: FindDistrict, bundle: Bundle, actor: Actor, options: Options
) -> DistrictOutcome:
    name = bundle.path.name
    district = await find(bundle.lea_code)
    if district is None:
        return DistrictOutcome(
            bundle.lea_code, name, "rejected", message=f"no district {bundle.lea_code}"
        )
    request = LoadRequest(bundle.path, options.format, merge=options.merge, dry_run=options.dry_run)
    try:
        result = await load_district(stores, district, request, actor)
    except Exception as exc:  # one district's failure must not stop the others
        return DistrictOutcome(
            bundle.lea_code, name, "failed", message=f"the load broke off: {exc}"
        )
    return DistrictOutcome(bundle.lea_code, name, result.status, result, result.message)
