"""The districts' read-only pages over HTTP: what they show, to whom, and what they refuse."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from gateway.web.district import disclosures as log
from gateway.web.district.setup import SECRET_MASK
from tenants.queries import disclosures
from tests.web.conftest import DistrictWorld
from tests.web.test_login import csrf

TODAY = datetime.now(UTC).date()


def page_urls(w: DistrictWorld) -> list[str]:
    base = f"/districts/{w.lea}"
    return [
        f"{base}/setup",
        f"{base}/setup/outgoing/{w.vendor.connection_id}",
        f"{base}/setup/incoming/{w.first.client_id}",
        f"{base}/disclosures",
        f"{base}/batches",
    ]


def assert_no_secret(html: str, w: DistrictWorld) -> None:
    for secret in w.secrets():
        assert secret not in html


def table_rows(html: str) -> list[list[str]]:
    """The cells of each body row of the first table with a <tbody>."""
    body = re.split(r"<tbody[^>]*>", html, maxsplit=1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


# --- Electronic Release Setup ---------------------------------------------------------------


async def test_setup_shows_both_tables_with_masked_secrets(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    response = await registrar.get(f"/districts/{w.lea}/setup")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Electronic Release Setup</h1>" in html
    assert "The Department of Public Instruction maintains this setup" in html
    assert "read-only" in html
    assert '<h2 id="outgoing-title">Outgoing Connections</h2></caption>' in html
    assert '<h2 id="incoming-title">Incoming Connections</h2></caption>' in html
    for shown in (
        "Parchment",
        "https://auth.parchment.example",
        "https://upload.parchment.example",
        "Not tested",
        "CFNC transcripts",
        "Common App transcripts",
        w.first.client_id,
        w.second.client_id,
    ):
        assert shown in html
    assert html.count(SECRET_MASK) == 2  # one per incoming connection
    assert "Old CFNC pair" not in html and w.revoked.client_id not in html  # deleted
    assert w.other_credential.client_id not in html and "Other Parchment" not in html
    assert_no_secret(html, w)


async def test_each_row_links_to_its_details_by_mouse_and_keyboard(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    html = (await registrar.get(f"/districts/{w.lea}/setup")).text
    for href in (
        f"/districts/{w.lea}/setup/outgoing/{w.vendor.connection_id}",
        f"/districts/{w.lea}/setup/incoming/{w.first.client_id}",
    ):
        assert f'<tr data-href="{href}" tabindex="0" role="row">' in html
        assert f'<td role="cell" data-label="Name"><a href="{href}">' in html  # a real link


async def test_a_district_without_connections_says_so(
    operator: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    html = (await operator.get(f"/districts/{district_world.empty_lea}/setup")).text
    assert html.count("No records available.") == 2


async def test_outgoing_details_show_every_field_and_mask_the_secrets(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    response = await registrar.get(f"/districts/{w.lea}/setup/outgoing/{w.vendor.connection_id}")
    assert response.status_code == 200
    html = response.text
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    shown = {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in pairs}
    assert shown["Name"] == "Parchment"
    assert shown["Auth Server"] == "https://auth.parchment.example"
    assert shown["Auth Path"] == "/oauth/token"
    assert shown["Upload Server"] == "https://upload.parchment.example"
    assert shown["Upload Port"] == "443"
    assert shown["Upload Path"] == "/api/v1/transcripts"
    assert shown["Consumer Key"] == f"key-{w.lea.lower()}"
    assert shown["User Name"] == f"registrar-{w.lea.lower()}"
    assert shown["Consumer Secret"] == shown["Password"] == f"{SECRET_MASK}hidden"
    assert_no_secret(html, w)


async def test_incoming_details_show_what_the_consumer_uses(
    registrar: httpx.AsyncClient, district_world: DistrictWorld, app_settings: Settings
) -> None:
    w = district_world
    response = await registrar.get(f"/districts/{w.lea}/setup/incoming/{w.first.client_id}")
    assert response.status_code == 200
    html = response.text
    base = app_settings.base_url.rstrip("/")
    assert f"{base}/api/v1/districts/{w.lea}/etranscripts" in html
    assert f"{base}/oauth2/token" in html
    assert w.first.client_id in html and "CFNC transcripts" in html
    for label in (
        "eTranscripts URL",
        "Token URL",
        "Client ID",
        "Client Secret",
        "Created",
        "Last used",
        "Status",
    ):
        assert f"<dt>{label}</dt>" in html
    assert SECRET_MASK in html and "Active" in html
    assert_no_secret(html, w)


async def test_a_deleted_incoming_connection_still_opens_as_revoked(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    response = await registrar.get(f"/districts/{w.lea}/setup/incoming/{w.revoked.client_id}")
    assert response.status_code == 200
    assert "Revoked" in response.text


# --- who sees what --------------------------------------------------------------------------


async def test_every_other_district_and_its_connections_are_not_found(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    mine, other = f"/districts/{w.lea}", f"/districts/{w.other_lea}"
    for path in (
        f"{other}/setup",
        f"{other}/disclosures",
        f"{other}/disclosures?format=csv",
        f"{other}/batches",
        f"{other}/setup/incoming/{w.other_credential.client_id}",
        f"{other}/setup/outgoing/{w.other_vendor.connection_id}",
        f"/districts/{w.empty_lea}/setup",
        f"/districts/{w.lea.lower()}/setup",
        "/districts/NOSUCH/setup",
        # Another district's connection, reached through my own district's URL.
        f"{mine}/setup/incoming/{w.other_credential.client_id}",
        f"{mine}/setup/outgoing/{w.other_vendor.connection_id}",
        f"{mine}/setup/outgoing/{uuid.uuid4()}",
        f"{mine}/setup/outgoing/not-a-uuid",
        f"{mine}/setup/incoming/no-such-client",
    ):
        response = await registrar.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert w.other_credential.client_id not in response.text
        assert "Other Parchment" not in response.text


async def test_operators_open_any_district_but_connections_stay_in_theirs(
    operator: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    for lea in (w.lea, w.other_lea, w.empty_lea):
        response = await operator.get(f"/districts/{lea}/setup")
        assert response.status_code == 200
        assert "as an operator" in response.text
    mine, other = f"/districts/{w.lea}/setup", f"/districts/{w.other_lea}/setup"
    for path, status in (
        (f"{other}/incoming/{w.other_credential.client_id}", 200),
        (f"{mine}/incoming/{w.other_credential.client_id}", 404),
        (f"{mine}/outgoing/{w.other_vendor.connection_id}", 404),
        ("/districts/NOSUCH/setup", 404),
    ):
        assert (await operator.get(path)).status_code == status, path


async def test_signed_out_visitors_are_sent_to_sign_in(
    client: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    for path in page_urls(district_world):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_district_pages_open_at_the_setup(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    response = await registrar.get(f"/districts/{district_world.lea}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/districts/{district_world.lea}/setup"


# --- read-only ------------------------------------------------------------------------------


async def test_every_write_by_the_district_is_refused(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    token = csrf((await registrar.get(f"/districts/{w.lea}/setup")).text)
    for path in [*page_urls(w), f"/districts/{w.lea}/setup/outgoing", "/admin/districts"]:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await registrar.request(
                method, path, data={"csrf_token": token, "name": "x"}
            )
            assert response.status_code == 403, (method, path)


async def test_the_pages_have_no_control_that_changes_anything(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    for path in page_urls(district_world):
        html = (await registrar.get(path)).text
        forms = re.findall(r"<form\b[^>]*>", html)
        posting = [f for f in forms if 'method="get"' not in f]
        assert posting == ['<form class="signout" method="post" action="/logout">'], path
        assert_no_secret(html, district_world)


async def test_operators_cannot_write_through_district_pages_either(
    operator: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    setup = f"/districts/{district_world.lea}/setup"
    token = csrf((await operator.get(setup)).text)
    response = await operator.post(setup, data={"csrf_token": token})
    assert response.status_code == 405  # GET only: the console is where operators write


# --- disclosures ----------------------------------------------------------------------------


async def test_the_log_shows_fifty_a_page_newest_first(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    assert w.disclosures == len(w.disclosed) > log.PAGE_SIZE
    html = (await registrar.get(f"/districts/{w.lea}/disclosures")).text
    assert f"Showing 1–50 of {w.disclosures} disclosures" in html
    for column in (
        "When (UTC)",
        "Student",
        "Event",
        "Consumer",
        "Recipient",
        "Purpose",
        "Request tracking ID",
        "Document ID",
    ):
        assert f'<th scope="col" role="columnheader">{column}</th>' in html
    rows = table_rows(html)
    assert len(rows) == log.PAGE_SIZE
    times = [r[0] for r in rows]
    assert times == sorted(times, reverse=True)
    # The second consumer fetched last, so its rows lead.
    assert rows[0][3] == f"Common App {w.lea}" and rows[0][4] == "Appalachian State University"
    assert rows[0][2] == "Disclosed" and rows[0][6].startswith("REQ-")
    assert 'rel="next"' in html and 'rel="prev"' not in html


async def test_the_second_page_has_the_rest(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    html = (await registrar.get(f"/districts/{w.lea}/disclosures", params={"page": "2"})).text
    assert len(table_rows(html)) == w.disclosures - log.PAGE_SIZE
    assert f"Showing 51–{w.disclosures} of {w.disclosures}" in html
    assert 'rel="prev"' in html and 'rel="next"' not in html


async def test_a_page_past_the_end_says_so(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    html = (await registrar.get(f"/districts/{w.lea}/disclosures", params={"page": "9"})).text
    assert "Page 9 is past the end: there are 2 pages." in html
    assert f'rel="prev" href="/districts/{w.lea}/disclosures?page=2"' in html
    assert "No records available." in html


async def test_filters_by_student_and_by_consumer(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    student = w.disclosed[0]
    url = f"/districts/{w.lea}/disclosures"
    by_student = table_rows((await registrar.get(url, params={"student": student})).text)
    assert len(by_student) == w.disclosed.count(student)
    assert {r[1] for r in by_student} == {student}
    by_consumer = table_rows((await registrar.get(url, params={"consumer": "common app"})).text)
    assert len(by_consumer) == w.by_second
    assert {r[3] for r in by_consumer} == {f"Common App {w.lea}"}


async def test_filters_by_dates_both_ends_included(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    url = f"/districts/{w.lea}/disclosures"
    today, day = TODAY.isoformat(), timedelta(days=1)
    html = (await registrar.get(url, params={"from": today, "to": today})).text
    assert f"of {w.disclosures} disclosures matching the filters" in html
    for params in ({"to": (TODAY - day).isoformat()}, {"from": (TODAY + day).isoformat()}):
        html = (await registrar.get(url, params=params)).text
        assert "No disclosures matching the filters." in html
        assert "No records available." in html


async def test_the_pager_keeps_the_filters(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    html = (
        await registrar.get(f"/districts/{w.lea}/disclosures", params={"from": TODAY.isoformat()})
    ).text
    assert f'href="/districts/{w.lea}/disclosures?from={TODAY.isoformat()}&amp;page=2"' in html
    assert f'href="/districts/{w.lea}/disclosures?from={TODAY.isoformat()}&amp;format=csv"' in html


async def test_bad_dates_are_explained_not_guessed(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    url = f"/districts/{district_world.lea}/disclosures"
    bad = await registrar.get(url, params={"from": "2026-13-01"})
    assert bad.status_code == 400
    assert "A date as YYYY-MM-DD" in bad.text and 'aria-invalid="true"' in bad.text
    reversed_ = await registrar.get(url, params={"from": "2026-02-01", "to": "2026-01-01"})
    assert reversed_.status_code == 400
    assert "The end date is before the start date" in reversed_.text
    assert "<tbody" not in reversed_.text  # no rows for filters that mean nothing


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_csv_export_has_every_column_and_every_row(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    response = await registrar.get(f"/districts/{w.lea}/disclosures", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="disclosures-{w.lea}-\d{{8}}T\d{{6}}Z\.csv"', disposition
    )
    assert response.text.splitlines()[0] == ",".join(log.CSV_COLUMNS)
    rows = read_csv(response)
    assert len(rows) == w.disclosures
    assert len({r["disclosure_id"] for r in rows}) == w.disclosures
    assert sorted(r["student_id"] for r in rows) == sorted(w.disclosed)
    assert all(r["document_sha256"] and r["legal_basis"] and r["channel"] == "api" for r in rows)
    assert [r["occurred_at"] for r in rows] == sorted(
        (r["occurred_at"] for r in rows), reverse=True
    )
    assert_no_secret(response.text, w)


async def test_csv_export_uses_the_same_filters(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    w = district_world
    url = f"/districts/{w.lea}/disclosures"
    rows = read_csv(await registrar.get(url, params={"format": "csv", "consumer": "Common App"}))
    assert len(rows) == w.by_second
    student = w.disclosed[0]
    rows = read_csv(await registrar.get(url, params={"format": "csv", "student": student}))
    assert {r["student_id"] for r in rows} == {student}
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert read_csv(await registrar.get(url, params={"format": "csv", "from": tomorrow})) == []


async def _export(gateway_app: Starlette, lea: str, chunk: int) -> list[dict[str, str]]:
    svc = gateway_app.state.services
    district = await svc.directory.by_lea(lea)
    where = log.export_window(log.Filters(), datetime.now(UTC))
    text = "".join([part async for part in log.csv_export(svc.stores, district, where, chunk)])
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_reads_the_log_in_chunks(
    gateway_app: Starlette, district_world: DistrictWorld
) -> None:
    rows = await _export(gateway_app, district_world.lea, chunk=7)
    assert len(rows) == len({r["disclosure_id"] for r in rows}) == district_world.disclosures


async def test_csv_export_skips_rows_pushed_into_the_next_chunk(
    gateway_app: Starlette, district_world: DistrictWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disclosure committed during the export, above the offset, shifts rows already sent."""
    real = disclosures.disclosures
    calls = 0

    async def late_insert(tx: Any, where: Any, *, limit: int, offset: int) -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        # After the first chunk, two rows appear above: every later chunk starts two earlier.
        shift = 2 if calls > 1 else 0
        return await real(tx, where, limit=limit, offset=max(offset - shift, 0))

    monkeypatch.setattr(disclosures, "disclosures", late_insert)
    rows = await _export(gateway_app, district_world.lea, chunk=10)
    assert len(rows) == len({r["disclosure_id"] for r in rows}) == district_world.disclosures


# --- pure parts -----------------------------------------------------------------------------


def test_filters_parse_dates_as_whole_utc_days() -> None:
    filters = log.parse_filters({"from": "2026-01-05", "to": "2026-01-06", "student": " 123 "})
    assert filters.errors == {}
    where = filters.where()
    assert where.since == datetime(2026, 1, 5, tzinfo=UTC)
    assert where.until == datetime(2026, 1, 7, tzinfo=UTC)  # the end day is included
    assert where.student_id == "123"
    assert filters.query(page=2) == "student=123&from=2026-01-05&to=2026-01-06&page=2"


def test_filters_reject_bad_dates_and_forgive_bad_pages() -> None:
    assert log.parse_filters({"from": "yesterday"}).errors == {"from": "A date as YYYY-MM-DD"}
    assert "to" in log.parse_filters({"from": "2026-02-02", "to": "2026-02-01"}).errors
    assert log.parse_filters({"page": "x"}).page == 1
    assert log.parse_filters({"page": "-4"}).page == 1
    assert log.parse_filters({"page": "99999999999"}).page == log.MAX_PAGE
    assert log.parse_filters({}).where() == disclosures.DisclosureFilter()


def test_export_reads_up_to_its_start() -> None:
    started = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert log.export_window(log.Filters(), started).until == started
    earlier = log.Filters(date_to=date(2026, 2, 1))
    assert log.export_window(earlier, started).until == datetime(2026, 2, 2, tzinfo=UTC)


def test_csv_cells_never_run_as_formulas() -> None:
    assert log.csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert log.csv_cell("+1") == "'+1" and log.csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert log.csv_cell("UNC Chapel Hill") == "UNC Chapel Hill"
    assert log.csv_cell(None) == ""
    assert log.csv_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"


# --- batch reports --------------------------------------------------------------------------


async def test_batch_reports_say_there_are_none_yet(
    registrar: httpx.AsyncClient, district_world: DistrictWorld
) -> None:
    response = await registrar.get(f"/districts/{district_world.lea}/batches")
    assert response.status_code == 200
    assert "<h1>Batch reports</h1>" in response.text
    assert "No batch releases yet." in response.text
