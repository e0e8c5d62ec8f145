"""PESC High School Transcripts in: the shared sample imports and renders back the same."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from lxml import etree

from gateway.pesc import validate
from gateway.pesc.hs_transcript import render_transcript
from gateway.pesc.party import Party
from tenants import District, StoreRegistry, tenant_transaction
from tenants.queries.transcripts import student_record
from tests.conftest import unique_lea
from tests.factories import add_district
from tests.loading.conftest import load

SAMPLE = "SampleHighSchoolTranscript_v1.3.0.utf16.xml"


@pytest.fixture
def sample(samples: Path) -> Path:
    path = samples / SAMPLE
    if not path.is_file():
        pytest.skip(f"{path} is absent: set GATEWAY_PESC_DIR to a copy of shared/pesc")
    return path


def courses_of(root: etree._Element) -> list[etree._Element]:
    return root.findall("Student/AcademicRecord/AcademicSession/Course")


def first(course: etree._Element, tag: str) -> str:
    found = course.find(tag)
    assert found is not None and found.text is not None, tag
    return found.text.strip()


async def test_the_shared_sample_imports_and_renders_back_valid_with_the_same_record(
    stores: StoreRegistry,
    district: District,
    sample: Path,
    pesc_dir: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    result = await load(stores, district, sample)
    assert result.status == "succeeded", [str(p) for p in result.problems.problems]
    assert result.format == "pesc"
    source = etree.parse(str(sample)).getroot()
    source_courses = courses_of(source)
    assert len(source_courses) == 51

    async with tenant_transaction(stores, district, readonly=True) as tx:
        record = await student_record(tx, "33445566")
    assert record is not None
    assert (record.student.first_name, record.student.last_name) == ("John", "Student")
    assert record.school.name == "Austin High School" and record.school.ceeb_code == "440320"
    rendered = render_transcript(
        record,
        version="1.3.0",
        document_id="LOAD-TEST-1",
        created_at=datetime.now(UTC),
        destination=Party(name="Test University"),
    )
    assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", rendered) == []
    out = etree.fromstring(rendered)
    out_courses = courses_of(out)
    assert len(out_courses) == len(source_courses)

    def summary(courses: list[etree._Element]) -> list[tuple[str, str, Decimal, Decimal]]:
        return sorted(
            (
                first(c, "CourseNumber"),
                first(c, "CourseAcademicGrade"),
                Decimal(first(c, "CourseCreditValue")),
                Decimal(first(c, "CourseCreditEarned")),
            )
            for c in courses
        )

    assert summary(out_courses) == summary(source_courses)
    total = sum(Decimal(first(c, "CourseCreditEarned")) for c in source_courses)
    assert sum(Decimal(first(c, "CourseCreditEarned")) for c in out_courses) == total
    gpa = out.findtext("Student/AcademicRecord/AcademicSummary/GPA/GradePointAverage")
    assert gpa is not None and Decimal(gpa) == Decimal("4.0583")
    assert out.findtext("Student/AcademicRecord/AcademicSummary/ClassRank") == "19"
    # Data minimisation: the SSN in the source is nowhere in the store.
    assert b"555555555" not in rendered
    row = await owner_conn.fetchrow(
        "SELECT * FROM students WHERE district_id = $1 AND student_id = '33445566'", district.id
    )
    assert row is not None and "555555555" not in " ".join(map(str, row.values()))


async def test_a_folder_or_zip_of_documents_loads_and_a_bad_one_names_its_xpath(
    stores: StoreRegistry, district: District, sample: Path, tmp_path: Path
) -> None:
    text = sample.read_bytes().decode("utf-16")
    second = text.replace("33445566", "33445577").replace("5555555<", "5555566<")
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(sample, folder / "a.xml")
    (folder / "b.xml").write_bytes(
        second.replace('encoding="UTF-16"', 'encoding="UTF-8"').encode("utf-8")
    )
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, file.name)
    result = await load(stores, district, archive)
    assert result.status == "succeeded", [str(p) for p in result.problems.problems]
    assert result.counts["students_listed"] == 2

    bad = second.replace("<BirthDate>1987-07-20</BirthDate>", "<BirthDate>1987-13-40</BirthDate>")
    (folder / "b.xml").write_bytes(
        bad.replace('encoding="UTF-16"', 'encoding="UTF-8"').encode("utf-8")
    )
    rejected = await load(stores, district, folder, format="pesc")
    assert rejected.status == "rejected"
    problem = rejected.problems.problems[0]
    assert problem.file == "b.xml" and problem.value == "1987-13-40"
    assert problem.column is not None and problem.column.endswith("Person/Birth/BirthDate")
    assert problem.line is not None and problem.reason == "not a calendar date"


async def test_a_hostile_document_is_refused_without_being_expanded(
    stores: StoreRegistry, district: District, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<HSTrn:HighSchoolTranscript xmlns:HSTrn="urn:org:pesc:message:HighSchoolTranscript:v1.3.0">'
        "&b;</HSTrn:HighSchoolTranscript>",
        encoding="utf-8",
    )
    result = await load(stores, district, bomb)
    assert result.status == "rejected"
    assert "DOCTYPE" in result.problems.problems[0].reason


async def test_a_transcript_the_gateway_renders_in_1_5_0_loads_back_the_same(
    stores: StoreRegistry, district: District, bundle: Path, tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:  # fmt: skip
    assert (await load(stores, district, bundle)).status == "succeeded"
    async with tenant_transaction(stores, district, readonly=True) as tx:
        record = await student_record(tx, "9000000001")
    assert record is not None
    document = render_transcript(
        record, version="1.5.0", document_id="ROUND-TRIP-1", created_at=datetime.now(UTC),
        destination=Party(name="Test University"),
    )  # fmt: skip
    (tmp_path / "graduate.xml").write_bytes(document)
    other = await add_district(owner_conn, unique_lea())
    result = await load(stores, other, tmp_path / "graduate.xml")
    assert result.status == "succeeded", [str(p) for p in result.problems.problems]
    async with tenant_transaction(stores, other, readonly=True) as tx:
        again = await student_record(tx, "9000000001")
    assert again is not None
    assert again.student.last_name == record.student.last_name
    assert again.student.graduation_date == record.student.graduation_date
    assert again.gpa is not None and record.gpa is not None
    assert again.gpa.gpa_weighted == record.gpa.gpa_weighted
    assert again.gpa.class_rank == record.gpa.class_rank

    def courses(r: object) -> list[tuple[str, str, str, Decimal, Decimal]]:
        return sorted(
            (c.course_code, c.grade, c.level, c.credits_attempted, c.credits_earned)
            for s in r.sessions
            for c in s.courses  # type: ignore[attr-defined]
        )

    assert courses(again) == courses(record)
