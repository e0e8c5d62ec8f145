"""Two seeded districts (realistic synthetic students) and a consumer credential for each."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from starlette.applications import Starlette

from gateway.control.credentials import IssuedSecret
from gateway.settings import Settings
from tenants.synthetic.generator import DistrictPlan
from tenants.synthetic.seed import seed
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_consumer, issue

_plan_index = itertools.count(900)
STUDENTS = 150


@dataclass(frozen=True)
class SeededDistrict:
    lea: str
    district_id: int
    issued: IssuedSecret
    students: list[asyncpg.Record]  # student_id, birth_date, last_name, first_name, held

    def student(self, *, held: bool = False, with_courses: bool = True) -> asyncpg.Record:
        return next(
            s for s in self.students if s["held"] == held and (s["courses"] > 0) == with_courses
        )


def plan(county: str = "Wake") -> DistrictPlan:
    lea = unique_lea()
    return DistrictPlan(lea, f"Test {lea} County Schools", "lea", county, next(_plan_index), 2)


async def _students(owner: asyncpg.Connection, district_id: int) -> list[asyncpg.Record]:
    return list(
        await owner.fetch(
            "SELECT s.student_id, s.birth_date, s.last_name, s.first_name,"
            " EXISTS (SELECT 1 FROM transcript_holds h WHERE h.district_id = s.district_id"
            "   AND h.student_id = s.student_id AND h.released_at IS NULL) AS held,"
            " (SELECT count(*) FROM course_records c WHERE c.district_id = s.district_id"
            "   AND c.student_id = s.student_id) AS courses"
            " FROM students s WHERE s.district_id = $1 ORDER BY s.student_id",
            district_id,
        )
    )


async def seed_district(
    database: PgDatabase,
    settings: Settings,
    control: asyncpg.Connection,
    consumer: str,
    county: str = "Wake",
) -> SeededDistrict:
    chosen = plan(county)
    await seed(
        settings, districts=1, students_per_district=STUDENTS, plans=[chosen], seed=7, workers=0
    )
    owner = await asyncpg.connect(database.owner_url)
    try:
        district_id = await owner.fetchval(
            "SELECT district_id FROM districts WHERE lea_code = $1", chosen.lea_code
        )
        students = await _students(owner, district_id)
        if not any(s["held"] for s in students):
            # ~1.5% of synthetic students are held, so a small district has none about once
            # in a hundred runs: the hold tests need one, whatever the random LEA code drew.
            await owner.execute(
                "INSERT INTO transcript_holds (district_id, student_id, hold_id, hold_type,"
                " reason, placed_at) VALUES ($1, $2, 99, 'Financial', 'Unpaid fees', now())",
                district_id,
                students[-1]["student_id"],
            )
            students = await _students(owner, district_id)
    finally:
        await owner.close()
    issued = await issue(control, chosen.lea_code, consumer)
    return SeededDistrict(chosen.lea_code, district_id, issued, list(students))


@pytest.fixture(scope="module")
async def districts(
    database: PgDatabase, gateway_app: Starlette, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeededDistrict, SeededDistrict]:
    settings = database.settings(Path(tmp_path_factory.mktemp("seed")))
    async with gateway_app.state.services.stores.control.acquire() as control:
        consumer = await add_consumer(control, f"CFNC-{unique_lea()}")
        a = await seed_district(database, settings, control, consumer, "Wake")
        b = await seed_district(database, settings, control, consumer, "Durham")
    return a, b
