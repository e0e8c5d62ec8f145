"""The District data console page and the district's refresh line, in-process (no browser)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import asyncpg
import httpx

from gateway.web.pages import FORM_LIMIT
from tenants.loading.template import write_template
from tenants.loading.uploads import wait_all
from tests.conftest import unique_lea
from tests.factories import add_district, large_bundle, zipped
from tests.web.test_admin_pages import sign_in_operator


def bundle_zip(folder: Path) -> bytes:
    write_template(folder, example=True)
    return zipped(folder, zipfile.ZIP_STORED)


async def test_upload_on_the_console_loads_and_the_pages_show_it(
    client: httpx.AsyncClient,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    console = await sign_in_operator(client, control)
    district = await add_district(owner_conn, unique_lea())
    base = f"/admin/districts/{district.lea_code}/data"
    empty = await console.get(base)
    assert empty.status_code == 200, empty.text
    assert "No loads yet." in empty.text

    posted = await client.post(
        base,
        data={"csrf_token": console.token, "mode": "snapshot"},
        files={"file": ("wake.zip", bundle_zip(tmp_path / "b"), "application/zip")},
    )
    assert posted.status_code == 303, posted.text
    load_url = posted.headers["location"]
    assert re.fullmatch(rf"{base}/[0-9a-f-]{{36}}", load_url)
    await wait_all()
    shown = await console.get(load_url)
    assert 'data-load-status class="badge badge--ok">succeeded' in shown.text
    assert "data-reload-after" not in shown.text
    listing = await console.get(base)
    assert "wake.zip" in listing.text and "<dd data-students>3</dd>" in listing.text

    setup = await console.get(f"/districts/{district.lea_code}/setup")
    assert setup.status_code == 200
    assert re.search(
        r"Records last refreshed <strong data-refreshed-at>\d{4}-\d\d-\d\d \d\d:\d\d "
        r"UTC</strong> · <span data-students>3</span> students",
        setup.text,
    )


async def test_a_bad_upload_shows_its_errors_and_a_foreign_file_is_refused(
    client: httpx.AsyncClient,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    console = await sign_in_operator(client, control)
    district = await add_district(owner_conn, unique_lea())
    base = f"/admin/districts/{district.lea_code}/data"
    posted = await client.post(
        base,
        data={"csrf_token": console.token, "mode": "snapshot"},
        files={"file": ("broken.zip", b"PK\x03\x04 truncated", "application/zip")},
    )
    await wait_all()
    shown = await console.get(posted.headers["location"])
    assert "rejected" in shown.text and "not a complete zip archive" in shown.text
    refused = await client.post(
        base,
        data={"csrf_token": console.token, "mode": "snapshot"},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert refused.status_code == 400
    no_csrf = await client.post(
        base, data={"mode": "snapshot"}, files={"file": ("a.zip", b"PK", "application/zip")}
    )
    assert no_csrf.status_code == 403


async def test_an_upload_larger_than_a_form_is_accepted(
    client: httpx.AsyncClient, control: asyncpg.Connection, owner_conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:  # fmt: skip
    console = await sign_in_operator(client, control)
    district = await add_district(owner_conn, unique_lea())
    body = large_bundle(district.id, tmp_path / "big")
    assert len(body) > 2 * FORM_LIMIT
    posted = await client.post(
        f"/admin/districts/{district.lea_code}/data",
        data={"csrf_token": console.token, "mode": "snapshot"},
        files={"file": ("big.zip", body, "application/zip")},
    )
    assert posted.status_code == 303, posted.text
    await wait_all()
    shown = await console.get(posted.headers["location"])
    assert ">succeeded<" in shown.text
