"""Small, explicit rows for tests that need a district with a student or two.

Inserted as the owner role (which bypasses RLS, as the bulk loader does); tests then read as
the application role. The big realistic data comes from `tenants.synthetic.generator`; these stay tiny so a
test shows exactly what it relies on.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from gateway.audit import Actor
from gateway.control import consumers, credentials
from gateway.control.credentials import IssuedSecret
from tenants.directory import District
from tenants.synthetic.bundle import write_bundle
from tenants.synthetic.generator import Term, district_rows
from tenants.synthetic.nc_places import district_plans
from tests.secrets_seen import remember


async def add_district(
    owner: asyncpg.Connection,
    lea_code: str,
    *,
    name: str | None = None,
    store: str = "main",
    kind: str = "lea",
    status: str = "active",
) -> District:
    row = await owner.fetchrow(
        "INSERT INTO districts (lea_code, name, kind, store, status) VALUES ($1, $2, $3, $4, $5)"
        " RETURNING district_id, lea_code, name, kind, status, store",
        lea_code,
        name or f"Test District {lea_code}",
        kind,
        store,
        status,
    )
    assert row is not None
    return District.from_row(row)


async def add_student(
    store_owner: asyncpg.Connection,
    district_id: int,
    student_id: str,
    *,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    birth_date: date = date(2007, 5, 17),
    school_id: int = 1,
) -> None:
    """A school (if missing) and one student in it, in the district's store."""
    await store_owner.execute(
        "INSERT INTO schools (district_id, school_id, name, nces_id, ceeb_code, address_line, city,"
        " state_code, postal_code) VALUES ($1, $2, 'Test High School', '370000000001', '340001',"
        " '1 Main St', 'Raleigh', 'NC', '27601') ON CONFLICT DO NOTHING",
        district_id,
        school_id,
    )
    await store_owner.execute(
        "INSERT INTO students (district_id, student_id, local_id, school_id, first_name, last_name,"
        " birth_date, gender, grade_level, cohort_year, entry_date)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'Female', 12, 2026, '2022-08-20')",
        district_id,
        student_id,
        f"L{student_id}",
        school_id,
        first_name,
        last_name,
        birth_date,
    )


# --- consumers, credentials and tokens -------------------------------------------------------

CONSUMER_ACTOR = Actor("cli", "pytest")


async def add_consumer(conn: asyncpg.Connection, name: str | None = None) -> str:
    name = name or f"Consumer {secrets.token_hex(4)}"
    await consumers.add(conn, name, CONSUMER_ACTOR)
    return name


async def issue(
    conn: asyncpg.Connection,
    lea_code: str,
    consumer: str,
    *,
    label: str = "test",
    expires_at: datetime | None = None,
) -> IssuedSecret:
    issued = await credentials.issue(
        conn,
        lea_code=lea_code,
        consumer=consumer,
        label=label,
        actor=CONSUMER_ACTOR,
        expires_at=expires_at,
    )
    remember(issued.client_secret)
    return issued


async def token_response(
    client: httpx.AsyncClient,
    client_id: str,
    secret: str,
    *,
    post: bool = False,
    **form: str,
) -> httpx.Response:
    data = {"grant_type": "client_credentials", **form}
    if post:
        data.update(client_id=client_id, client_secret=secret)
        response = await client.post("/oauth2/token", data=data)
    else:
        response = await client.post("/oauth2/token", data=data, auth=(client_id, secret))
    if response.status_code == 200:
        remember(response.json()["access_token"])
    return response


async def access_token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await token_response(client, client_id, secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def zipped(folder: Path, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The files of a bundle folder as a .zip, as a district would upload it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, file.name)
    return buffer.getvalue()


def large_bundle(district_id: int, folder: Path) -> bytes:
    """80 synthetic students of one district as a stored (uncompressed) .zip: larger than a
    form or a JSON body may be, for the upload routes' own bound."""
    rows = district_rows(
        district_plans(1)[0], district_id=district_id, students=80, seed=5,
        term=Term.containing(date(2025, 3, 1)),
    )  # fmt: skip
    write_bundle(rows, folder)
    return zipped(folder, zipfile.ZIP_STORED)


def connections_held_while_hashing(services: Any, monkeypatch: Any) -> list[int]:
    """For each argon2 job the app runs from now on, how many control-pool connections the
    task that asked for it held meanwhile (the real job still runs: this only looks)."""
    real_run = services.slow_hashes.run
    held: list[int] = []

    async def observed(job: Any, *args: object) -> Any:
        held.append(services.stores.control.held_by_this_task())
        return await real_run(job, *args)

    monkeypatch.setattr(services.slow_hashes, "run", observed)
    return held
