"""/admin/api/v1/districts/{lea}/batches and /batches: queue a batch release, read its
eTranscript Batch Report (once a worker has delivered it, too), list batches; the refusals."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.outgoing.report import load_report
from tenants.directory import District
from tenants.synthetic.generator import DistrictPlan
from tenants.synthetic.seed import seed
from tests.admin.conftest import API, Operator, Setup, eventually
from tests.conftest import PgDatabase, unique_lea
from tests.outgoing.conftest import add_connection, deliver, spec_for
from tests.outgoing.fake_vendor import FakeVendor

_plan_index = itertools.count(982)  # apart from other tests' plans (school codes, UIDs)


@pytest.fixture(scope="module")
async def seeded(
    database: PgDatabase, gateway_app: Starlette, tmp_path_factory: pytest.TempPathFactory
) -> District:
    """A district with a few students whose transcripts render."""
    lea = unique_lea()
    plan = DistrictPlan(lea, f"Batch {lea} County Schools", "lea", "Wake", next(_plan_index), 1)
    settings = database.settings(Path(tmp_path_factory.mktemp("admin-batch-seed")))
    await seed(settings, districts=1, students_per_district=6, plans=[plan], seed=3, workers=0)
    district = await gateway_app.state.services.directory.by_lea(lea)
    assert district is not None
    return district


@pytest.fixture
async def connection(setup: Setup, control: asyncpg.Connection, vendor: FakeVendor) -> UUID:
    """A connection of the setup district (whose open batches `setup` closes at the end)."""
    return await add_connection(control, setup.lea, spec_for(vendor, name="Parchment"))


async def queue(
    client: httpx.AsyncClient, operator: Operator, lea: str, body: Any
) -> httpx.Response:
    return await client.post(f"{API}/districts/{lea}/batches", json=body, headers=operator.headers)


async def test_queue_then_read_and_list_the_batch(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, connection: UUID
) -> None:
    body = {"connection_id": "Parchment", "student_ids": [setup.student_id, setup.student_id]}
    response = await queue(client, operator, setup.lea.lower(), body)

    assert response.status_code == 201, response.text
    batch = response.json()
    assert response.headers["location"] == f"{API}/batches/{batch['batch_id']}"
    assert (batch["district"], batch["connection_id"], batch["queued_by"]) == (
        setup.lea,
        str(connection),
        operator.client_id,
    )
    assert batch["selection"] == {"kind": "students", "count": 1, "cohort_year": None}
    assert (batch["status"], batch["total"], batch["done"]) == ("queued", 1, 0)
    assert batch["counts"] == {"queued": 1, "in_progress": 0, "delivered": 0, "failed": 0}
    assert batch["legal_basis"].startswith("34 CFR 99.31(a)(2)")

    read = await client.get(response.headers["location"], headers=operator.headers)
    report = read.json()
    assert {k: v for k, v in report.items() if k != "lines"} == batch
    assert [(line["student_id"], line["status"]) for line in report["lines"]] == [
        (setup.student_id, "queued")
    ]
    listed = await client.get(
        f"{API}/batches", params={"district": setup.lea}, headers=operator.headers
    )
    assert listed.json()["items"] == [batch]


async def test_a_cohort_delivered_by_a_worker_reads_back_with_every_line(
    client: httpx.AsyncClient,
    operator: Operator,
    seeded: District,
    gateway_app: Starlette,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    vendor: FakeVendor,
) -> None:
    connection_id = await add_connection(control, seeded.lea_code, spec_for(vendor))
    year, size = await owner_conn.fetchrow(
        "SELECT cohort_year, count(*) FROM students WHERE district_id = $1"
        " GROUP BY cohort_year ORDER BY count(*), cohort_year LIMIT 1",
        seeded.id,
    )
    body = {"connection_id": str(connection_id), "cohort": year, "purpose": "Scholarship review"}
    response = await queue(client, operator, seeded.lea_code, body)
    assert response.status_code == 201, response.text
    batch_id = response.json()["batch_id"]

    await deliver(gateway_app.state.services.stores, control, batch_id)

    report = (await client.get(f"{API}/batches/{batch_id}", headers=operator.headers)).json()
    assert report["status"] == "finished" and report["purpose"] == "Scholarship review"
    assert report["selection"] == {"kind": "cohort", "count": size, "cohort_year": year}
    assert report["done"] == report["total"] == len(report["lines"]) == size
    delivered = [line for line in report["lines"] if line["status"] == "delivered"]
    assert delivered, "the cohort's transcripts were sent"
    sent = {d.key: d.reference for d in vendor.documents.values()}
    assert {line["document_id"]: line["vendor_reference"] for line in delivered} == sent
    stored = await load_report(control, batch_id)
    assert [(line["student_id"], line["status"]) for line in report["lines"]] == [
        (line.student_id, line.status) for line in stored.lines
    ]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"connection_id": "Parchment"}, {"selection"}),
        ({"connection_id": "Parchment", "student_ids": ["1"], "cohort": 2026}, {"selection"}),
        ({"connection_id": "Parchment", "student_ids": "1,2"}, {"student_ids"}),
        ({"connection_id": "Parchment", "student_ids": [1, 2]}, {"student_ids"}),
        ({"connection_id": "Parchment", "student_ids": ["not/an/id"]}, {"student_ids"}),
        ({"connection_id": "Parchment", "student_ids": ["0000000000"]}, {"student_ids"}),
        ({"connection_id": "Parchment", "cohort": "2026", "colour": "blue"}, {"cohort", "colour"}),
        ({"connection_id": "Parchment", "cohort": 1900}, {"cohort"}),
        ({"connection_id": "Parchment", "cohort": 2099}, {"cohort"}),
        ({"connection_id": "NSC", "cohort": 2026}, {"connection_id"}),
        ({"student_ids": ["1"], "legal_basis": "99.99"}, {"connection_id", "legal_basis"}),
    ],
    ids=[
        "neither",
        "both",
        "ids-not-array",
        "ids-not-strings",
        "bad-id",
        "unknown-student",
        "shape",
        "year-range",
        "empty-cohort",
        "unknown-connection",
        "missing-connection",
    ],
)
async def test_refusals_are_422_naming_each_field(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    connection: UUID,
    body: dict[str, Any],
    errors: set[str],
) -> None:
    response = await queue(client, operator, setup.lea, body)
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == errors
    listed = await client.get(
        f"{API}/batches", params={"district": setup.lea}, headers=operator.headers
    )
    assert listed.json()["items"] == []


async def test_unknown_districts_and_batches_are_404_and_a_suspended_district_409(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    connection: UUID,
    gateway_app: Starlette,
) -> None:
    body = {"connection_id": "Parchment", "student_ids": [setup.student_id]}
    assert (await queue(client, operator, "ZZZ999", body)).status_code == 404
    for ident in ("999999999", "abc", "-1"):
        response = await client.get(f"{API}/batches/{ident}", headers=operator.headers)
        assert response.status_code == 404, ident
    bad = await client.get(
        f"{API}/batches", params={"limit": "0", "who": "me"}, headers=operator.headers
    )
    assert set(bad.json()["errors"]) == {"limit", "who"}

    suspend = await client.post(f"{API}/districts/{setup.lea}/suspend", headers=operator.headers)
    assert suspend.status_code == 200
    directory = gateway_app.state.services.directory
    await eventually(lambda: not directory.cached(setup.lea).active, "the suspension seen")
    refused = await queue(client, operator, setup.lea, body)
    assert refused.status_code == 409
    assert "suspended" in refused.json()["detail"]


async def test_queue_through_an_untested_connection_is_409_saying_why_and_how(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    control: asyncpg.Connection,
    vendor: FakeVendor,
) -> None:
    connection_id = await add_connection(
        control, setup.lea, spec_for(vendor, name="Untested"), tested=False
    )
    body = {"connection_id": str(connection_id), "student_ids": [setup.student_id]}
    response = await queue(client, operator, setup.lea, body)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("connection-not-ready")
    assert "never been tested" in problem["detail"]
    assert f"POST /admin/api/v1/outgoing/{connection_id}/test" in problem["detail"]
    shown = await client.get(f"{API}/outgoing/{connection_id}", headers=operator.headers)
    assert "never been tested" in shown.json()["batch_refusal"]

    tested = await client.post(f"{API}/outgoing/{connection_id}/test", headers=operator.headers)
    assert tested.json()["ok"] is True
    assert (await queue(client, operator, setup.lea, body)).status_code == 201
    assert (await client.get(f"{API}/outgoing/{connection_id}", headers=operator.headers)).json()[
        "batch_refusal"
    ] is None


async def test_a_used_connection_is_retired_not_a_dead_end(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, connection: UUID
) -> None:
    body = {"connection_id": str(connection), "student_ids": [setup.student_id]}
    batch = (await queue(client, operator, setup.lea, body)).json()
    url = f"{API}/outgoing/{connection}"

    deleted = await client.delete(url, headers=operator.headers)
    assert deleted.status_code == 409
    assert f"POST /admin/api/v1/outgoing/{connection}/retire" in deleted.json()["detail"]
    retired = await client.post(f"{url}/retire", headers=operator.headers)
    assert retired.status_code == 200
    assert (retired.json()["status"], retired.json()["batches"]) == ("retired", 1)
    assert "is retired" in retired.json()["batch_refusal"]
    report = await client.get(f"{API}/batches/{batch['batch_id']}", headers=operator.headers)
    assert report.status_code == 200
    assert (await queue(client, operator, setup.lea, body)).status_code == 409
