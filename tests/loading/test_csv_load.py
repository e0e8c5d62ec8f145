"""A CSV bundle becomes the district's data: served by the API, idempotent, snapshot and merge."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import asyncpg
import httpx
from lxml import etree
from starlette.applications import Starlette

from tenants import District, StoreRegistry, tenant_transaction
from tenants.loading import replace
from tenants.queries.disclosures import DisclosureRow, record_disclosure
from tests.factories import access_token, add_consumer, issue
from tests.loading.conftest import district_state, load, read_rows, write_rows


async def test_a_valid_bundle_loads_and_the_api_serves_its_transcripts(
    gateway_app: Starlette,
    client: httpx.AsyncClient,
    stores: StoreRegistry,
    district: District,
    bundle: Path,
) -> None:
    result = await load(stores, district, bundle)
    assert result.status == "succeeded", result.as_dict()
    assert result.counts["rows"]["students"] == 3
    assert result.counts["students_new"] == 3
    async with gateway_app.state.services.stores.control.acquire() as control:
        consumer = await add_consumer(control)
        issued = await issue(control, district.lea_code, consumer)
        loads = await control.fetch(
            "SELECT status, source_sha256, requested_by FROM district_loads WHERE district_id = $1",
            district.id,
        )
        audited = await control.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'district.load' AND district_id = $1",
            district.id,
        )
    assert [tuple(r) for r in loads] == [("succeeded", result.source_sha256, "cli:loader-test")]
    assert audited == 1
    token = await access_token(client, issued.client_id, issued.client_secret)
    courses = {r["student_id"]: 0 for r in read_rows(bundle / "students.csv")}
    for row in read_rows(bundle / "course_records.csv"):
        courses[row["student_id"]] += 1
    held = {r["student_id"] for r in read_rows(bundle / "transcript_holds.csv")}
    for student in read_rows(bundle / "students.csv"):
        response = await client.get(
            f"/api/v1/districts/{district.lea_code}/etranscripts/{student['student_id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        if student["student_id"] in held:
            assert response.status_code == 409, response.text  # a hold stops the transcript
            continue
        assert response.status_code == 200, response.text
        root = etree.fromstring(response.content)
        assert root.findtext("Student/Person/Name/LastName") == student["last_name"]
        assert len(root.findall(".//Course")) == courses[student["student_id"]]


async def test_loading_the_same_bundle_again_changes_nothing_and_says_so(
    stores: StoreRegistry, district: District, bundle: Path, owner_conn: asyncpg.Connection
) -> None:
    first = await load(stores, district, bundle)
    before = await district_state(owner_conn, district.id)
    again = await load(stores, district, bundle)
    assert again.status == "unchanged"
    assert again.ok and "same source" in (again.message or "")
    assert await district_state(owner_conn, district.id) == before
    assert again.refresh is not None and again.refresh.load_id == first.load_id


async def test_a_zip_of_the_bundle_and_a_bom_and_free_column_order_load(
    stores: StoreRegistry, district: District, bundle: Path, tmp_path: Path
) -> None:
    rows = read_rows(bundle / "students.csv")
    reordered = list(reversed(list(rows[0])))
    write_rows(bundle / "students.csv", rows, reordered)
    text = (bundle / "students.csv").read_bytes()
    (bundle / "students.csv").write_bytes(b"\xef\xbb\xbf" + text)
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(bundle.iterdir()):
            zf.write(file, f"export/{file.name}")
    result = await load(stores, district, archive)
    assert result.status == "succeeded", result.as_dict()
    assert result.counts["rows"]["students"] == 3


async def test_a_dry_run_validates_and_writes_nothing(
    stores: StoreRegistry, district: District, bundle: Path, owner_conn: asyncpg.Connection
) -> None:
    result = await load(stores, district, bundle, dry_run=True)
    assert result.status == "validated"
    assert result.counts["rows"]["course_records"] > 0
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM students WHERE district_id = $1", district.id
        )
        == 0
    )


async def test_a_student_dropped_from_a_snapshot_keeps_their_disclosures_and_is_not_current(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    assert (await load(stores, district, bundle)).status == "succeeded"
    dropped = "9000000003"
    async with tenant_transaction(stores, district) as tx:
        await record_disclosure(
            tx,
            DisclosureRow(
                dropped,
                "disclosed",
                "api",
                None,
                "CFNC",
                "cfnc-client",
                "UNC",
                "admission",
                "34 CFR 99.31(a)(2)",
                document_id="doc-1",
                document_sha256="0" * 64,
            ),
        )
    courses_before = await owner_conn.fetchval(
        "SELECT count(*) FROM course_records WHERE district_id = $1 AND student_id = $2",
        district.id,
        dropped,
    )
    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    for name in ("students", "course_records", "test_scores", "gpa_summaries"):
        rows = [r for r in read_rows(second / f"{name}.csv") if r["student_id"] != dropped]
        write_rows(second / f"{name}.csv", rows)
    result = await load(stores, district, second)
    assert result.status == "succeeded", result.as_dict()
    assert result.counts["students_not_current"] == 1
    assert result.counts["students_current"] == 2
    async with tenant_transaction(stores, district, readonly=True) as tx:
        unlisted = await replace.unlisted_students(tx)
    assert [u["student_id"] for u in unlisted] == [dropped]
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM disclosures WHERE district_id = $1 AND student_id = $2",
            district.id,
            dropped,
        )
        == 1
    )
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM course_records WHERE district_id = $1 AND student_id = $2",
            district.id,
            dropped,
        )
        == courses_before
    )
    # Listed again, the student is current again.
    assert (await load(stores, district, bundle)).status == "succeeded"
    async with tenant_transaction(stores, district, readonly=True) as tx:
        assert await replace.unlisted_students(tx) == []


async def test_merge_replaces_only_the_students_it_lists(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    assert (await load(stores, district, bundle)).status == "succeeded"
    before = await district_state(owner_conn, district.id)
    delta = tmp_path / "delta"
    delta.mkdir()
    changed = "9000000002"
    for name in ("students", "course_records", "gpa_summaries", "test_scores", "transcript_holds"):
        all_rows = read_rows(bundle / f"{name}.csv")
        rows = [r for r in all_rows if r["student_id"] == changed]
        if name == "course_records":
            rows = rows[:2]
        if name == "transcript_holds":
            rows = []  # the hold was released and is no longer exported
        write_rows(delta / f"{name}.csv", rows, list(all_rows[0]))
    result = await load(stores, district, delta, merge=True)
    assert result.status == "succeeded", result.as_dict()
    assert result.counts["students_not_current"] == 0
    after = await district_state(owner_conn, district.id)
    for table in ("course_records", "test_scores", "gpa_summaries"):
        others_before = [r for r in before[table] if changed not in r]  # type: ignore[attr-defined]
        others_after = [r for r in after[table] if changed not in r]  # type: ignore[attr-defined]
        assert others_after == others_before, table
    changed_courses = [r for r in after["course_records"] if changed in r]  # type: ignore[attr-defined]
    assert len(changed_courses) == 2
    assert after["transcript_holds"] == []
