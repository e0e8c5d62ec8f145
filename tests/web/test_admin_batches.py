"""Batch releases in the console, over HTTP: queue from the district's page, the eTranscript
Batch Report while it runs and once a worker has delivered it (lines, CSV, progress JSON),
the list of batches, and the refusals shown next to their fields."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.outgoing.batches import finish_stale
from gateway.outgoing.report import CSV_COLUMNS, load_report
from gateway.settings import Settings
from tests.outgoing.fake_vendor import FakeVendor
from tests.web.conftest import signed_in_client
from tests.web.release_world import ReleaseWorld, delivered
from tests.web.test_admin_pages import Console, sign_in_operator
from tests.web.test_district_pages import table_rows


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


def queued_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/admin/batches/(\d+)\?notice=queued", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def counts(html: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r'<td data-count="(\w+)">(\d+)</td>', html)}


def line_rows(html: str) -> list[list[str]]:
    """The cells of each row of the report's table of students."""
    return table_rows(html[html.index('id="lines-title"') :])


def error_text(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', html)
    assert match, f"no error for {field_id}"
    return match.group(1)


async def release(console: Console, w: ReleaseWorld, **fields: str) -> httpx.Response:
    return await console.post(
        f"/admin/districts/{w.lea}/batches", connection=str(w.valid), **fields
    )


async def test_the_district_page_has_a_release_form_per_connection(
    console: Console, release_world: ReleaseWorld
) -> None:
    w = release_world
    page = await console.get(f"/admin/districts/{w.lea}")
    assert page.status_code == 200
    html = page.text
    assert '<h2 id="release-heading">Release transcripts</h2>' in html
    assert html.count(f'action="/admin/districts/{w.lea}/batches"') == 2
    for connection_id, name in ((w.valid, w.valid_name), (w.wrong, w.wrong_name)):
        assert f'name="connection" value="{connection_id}"' in html
        assert f'<label for="students-{connection_id}">Student ids</label>' in html
        assert f'<label for="cohort-{connection_id}">Cohort (graduation year)</label>' in html
        assert f'Release transcripts<span class="visually-hidden"> through {name}' in html
        # Every connection has its Test button too.
        assert f'action="/admin/outgoing/{connection_id}/test"' in html
    assert f'href="/admin/batches?district={w.lea}"' in html


async def test_queued_batch_is_delivered_and_its_report_shows_every_line(
    console: Console,
    release_world: ReleaseWorld,
    vendor: FakeVendor,
    gateway_app: Starlette,
    control: asyncpg.Connection,
) -> None:
    w = release_world
    students = list(w.students[:3])
    response = await release(console, w, students=f"{students[0]}\n{students[1]}, {students[2]}")
    batch_id = queued_id(response)

    queued = await console.get(response.headers["location"])
    assert queued.status_code == 200
    assert "Batch queued" in queued.text
    assert counts(queued.text) == {"queued": 3, "in_progress": 0, "delivered": 0, "failed": 0}
    assert "This batch is still running." in queued.text
    assert f'data-batch-progress="/admin/batches/{batch_id}?format=json"' in queued.text
    progress = (await console.get(f"/admin/batches/{batch_id}", format="json")).json()
    assert progress["finished"] is False and progress["total"] == 3

    report = await delivered(gateway_app, batch_id)

    assert report.counts["delivered"] == 3 and len(vendor.documents) == 3
    page = await console.get(f"/admin/batches/{batch_id}")
    assert counts(page.text) == {"queued": 0, "in_progress": 0, "delivered": 3, "failed": 0}
    assert "still running" not in page.text
    lines = line_rows(page.text)
    assert [(r[1], r[2], r[3]) for r in lines] == [(s, "Delivered", "1") for s in students]
    assert [r[4] for r in lines] == [line.vendor_reference for line in report.lines]
    assert progress_of(await console.get(f"/admin/batches/{batch_id}", format="json")) == (
        True,
        3,
        3,
    )
    await assert_csv_matches(console.client, f"/admin/batches/{batch_id}", batch_id, control)


def progress_of(response: httpx.Response) -> tuple[bool, int, int]:
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    return body["finished"], body["done"], body["counts"]["delivered"]


async def assert_csv_matches(
    viewer: httpx.AsyncClient, url: str, batch_id: int, control: asyncpg.Connection
) -> None:
    """The CSV download has the CLI's columns and one row per line of the report, equal; the
    download is audited (the audit buffer writes a moment later)."""
    response = await viewer.get(url, params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="batch-{batch_id}-' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    report = await load_report(control, batch_id)
    assert list(rows[0]) == list(CSV_COLUMNS)
    expected = list(csv.DictReader(io.StringIO(report.csv_text())))
    assert rows == expected
    deadline = time.monotonic() + 3.0
    query = "SELECT count(*) FROM audit_log WHERE action = 'web.batch_export' AND target = $1"
    while await control.fetchval(query, str(batch_id)) == 0:
        assert time.monotonic() < deadline, "the CSV download was not audited"
        await asyncio.sleep(0.05)


async def test_a_cohort_queues_every_student_of_that_year(
    console: Console, release_world: ReleaseWorld, control: asyncpg.Connection
) -> None:
    w = release_world
    year, members = min(w.cohorts.items(), key=lambda kv: len(kv[1]))
    batch_id = queued_id(await release(console, w, cohort_year=str(year)))
    report = await load_report(control, batch_id)
    assert report.selection == {"kind": "cohort", "cohort_year": year, "count": len(members)}
    assert sorted(line.student_id for line in report.lines) == sorted(members)
    page = await console.get(f"/admin/batches/{batch_id}")
    assert f"Cohort {year} ({len(members)} student" in page.text
    await close(control, batch_id)


async def close(control: asyncpg.Connection, batch_id: int) -> None:
    """A batch nobody delivers is closed, so later tests' workers never meet it."""
    await control.execute(
        "UPDATE release_items SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL,"
        " error_kind = 'test', last_error = 'closed by the test'"
        " WHERE batch_id = $1 AND status IN ('queued', 'in_progress')",
        batch_id,
    )
    await finish_stale(control)


@pytest.mark.parametrize(
    ("fields", "field_id", "says"),
    [
        ({"students": "", "cohort_year": ""}, None, "Give either student ids or a cohort"),
        ({"students": "1234", "cohort_year": "2026"}, None, "not both"),
        ({"students": "NOT/AN/ID"}, "students", "Not a student id: NOT/AN/ID"),
        ({"students": "0000000000"}, "students", "1 not students of district"),
        ({"cohort_year": "20x6"}, "cohort", "A graduation year, e.g. 2026"),
        ({"cohort_year": "1999"}, "cohort", "has no students of cohort 1999"),
        ({"cohort_year": "{year}", "purpose": ""}, None, None),  # blank purpose: the default
        ({"cohort_year": "{year}", "legal_basis": "99.99"}, "basis", "One of"),
    ],
    ids=["nothing", "both", "bad-id", "unknown", "bad-year", "empty-cohort", "ok", "basis"],
)
async def test_refusals_are_shown_next_to_their_fields_and_queue_nothing(
    console: Console,
    release_world: ReleaseWorld,
    control: asyncpg.Connection,
    fields: dict[str, str],
    field_id: str | None,
    says: str | None,
) -> None:
    w = release_world
    fields = {k: v.replace("{year}", str(min(w.cohorts))) for k, v in fields.items()}
    before = await batch_count(control, w)
    response = await release(console, w, **fields)
    if says is None:
        await close(control, queued_id(response))
        return
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    if field_id is None:
        assert says in response.text
    else:
        assert says in error_text(response.text, f"{field_id}-{w.valid}")
    for name, typed in fields.items():
        if name != "legal_basis":  # a select: only its options can come back
            assert typed in response.text, "what was typed is kept"
    assert await batch_count(control, w) == before


async def batch_count(control: asyncpg.Connection, w: ReleaseWorld) -> int:
    count: int = await control.fetchval(
        "SELECT count(*) FROM release_batches WHERE district_id = $1", w.district.id
    )
    return count


async def test_the_release_page_offers_purpose_and_legal_basis(
    console: Console, release_world: ReleaseWorld
) -> None:
    w = release_world
    page = await console.get(f"/admin/districts/{w.lea}/release", connection=str(w.valid))
    assert page.status_code == 200
    assert 'value="Enrollment at another institution"' in page.text
    assert '<option value="99.30">' in page.text
    for wrong in (str(w.valid)[:8], "00000000-0000-0000-0000-000000000000"):
        missing = await console.get(f"/admin/districts/{w.lea}/release", connection=wrong)
        assert missing.status_code == 404
    # A connection of another district, through this district's URL, is not found either.
    other = await console.post(
        f"/admin/districts/{w.other.lea_code}/batches", connection=str(w.valid), cohort_year="2026"
    )
    assert other.status_code == 404


async def test_the_list_is_newest_first_and_filters_by_district(
    console: Console, release_world: ReleaseWorld, control: asyncpg.Connection
) -> None:
    w = release_world
    first = queued_id(await release(console, w, students=w.students[0]))
    second = queued_id(await release(console, w, students=w.students[1]))
    await close(control, first)
    await close(control, second)

    mine = await console.get("/admin/batches", district=w.lea.lower())
    assert mine.status_code == 200
    shown = [int(n) for n in re.findall(r'href="/admin/batches/(\d+)">Batch', mine.text)]
    assert shown[:2] == [second, first]
    assert w.other_batch not in shown
    everyone = await console.get("/admin/batches")
    assert f'href="/admin/batches/{w.other_batch}"' in everyone.text
    assert (await console.get("/admin/batches/999999999")).status_code == 404
    assert (await console.get("/admin/batches/abc")).status_code == 404


async def test_district_users_cannot_reach_the_console_batches(
    release_world: ReleaseWorld, gateway_app: Starlette, app_settings: Settings
) -> None:
    w = release_world
    async with signed_in_client(
        gateway_app, app_settings, "198.51.100.61", w.district_email, w.password
    ) as registrar:
        assert (await registrar.get("/admin/batches")).status_code == 404
        assert (await registrar.get(f"/admin/batches/{w.other_batch}")).status_code == 404
        refused = await registrar.post(
            f"/admin/districts/{w.lea}/batches", data={"csrf_token": "x", "cohort_year": "2026"}
        )
        assert refused.status_code == 403
