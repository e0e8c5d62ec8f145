"""GET /api/v1/districts/{lea}/etranscripts/{student_id}: PESC, JSON, refusals, disclosures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import asyncpg
import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette

from gateway.control import districts as district_repo
from gateway.pesc import validate
from tests.api.conftest import SeededDistrict
from tests.factories import CONSUMER_ACTOR, access_token

NS13 = "urn:org:pesc:message:HighSchoolTranscript:v1.3.0"
NS15 = "urn:org:pesc:message:HighSchoolTranscript:v1.5.0"


def url(lea: str, student_id: str) -> str:
    return f"/api/v1/districts/{lea}/etranscripts/{student_id}"


async def bearer(client: httpx.AsyncClient, district: SeededDistrict) -> dict[str, str]:
    token = await access_token(client, district.issued.client_id, district.issued.client_secret)
    return {"Authorization": f"Bearer {token}"}


async def disclosure_rows(
    owner: asyncpg.Connection, district_id: int, student_id: str
) -> list[asyncpg.Record]:
    return await owner.fetch(
        "SELECT * FROM disclosures WHERE district_id = $1 AND student_id = $2 ORDER BY occurred_at",
        district_id,
        student_id,
    )


async def test_every_seeded_student_validates_in_both_versions(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict], pesc_dir: Path
) -> None:
    checked = 0
    for district in districts:
        headers = await bearer(client, district)
        for student in district.students:
            if student["held"]:
                continue
            for version, namespace in (("1.3.0", NS13), ("1.5.0", NS15)):
                response = await client.get(
                    url(district.lea, student["student_id"]),
                    params={"pesc_version": version},
                    headers=headers,
                )
                assert response.status_code == 200, response.text
                assert response.headers["content-type"] == "application/xml; charset=utf-8"
                errors = validate(pesc_dir, f"HighSchoolTranscript {version}", response.content)
                assert errors == [], (student["student_id"], version, errors[:3])
                root = etree.fromstring(response.content)
                assert root.tag == f"{{{namespace}}}HighSchoolTranscript"
                assert root.findtext("Student/Person/Name/LastName") == student["last_name"][:35]
                checked += 1
    assert checked >= 500  # hundreds of students, both versions


async def test_json_is_the_same_transcript(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    district = districts[0]
    student = district.student()
    headers = await bearer(client, district)
    response = await client.get(
        url(district.lea, student["student_id"]), headers={**headers, "Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["format"] == "etranscript-gateway/transcript/v1"
    assert body["student"]["state_id"] == student["student_id"]
    assert body["student"]["last_name"] == student["last_name"]
    assert body["district"]["lea_code"] == district.lea
    assert (
        sum(len(s["courses"]) for r in body["academic_records"] for s in r["sessions"])
        == student["courses"]
    )
    xml = await client.get(
        url(district.lea, student["student_id"]), headers={**headers, "Accept": "application/xml"}
    )
    courses = etree.fromstring(xml.content).findall(".//Course")
    assert len(courses) == student["courses"]


async def test_disclosure_row_records_exactly_what_was_sent(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    owner_conn: asyncpg.Connection,
) -> None:
    district = districts[0]
    student = district.students[3] if not district.students[3]["held"] else district.student()
    headers = await bearer(client, district)
    before = len(await disclosure_rows(owner_conn, district.district_id, student["student_id"]))
    response = await client.get(
        url(district.lea, student["student_id"]),
        params={"request_tracking_id": "CFNC-REQ-42", "recipient": "Appalachian State University"},
        headers=headers,
    )
    assert response.status_code == 200
    rows = await disclosure_rows(owner_conn, district.district_id, student["student_id"])
    assert len(rows) == before + 1
    row = rows[-1]
    assert row["event"] == "disclosed" and row["channel"] == "api"
    assert row["document_sha256"] == hashlib.sha256(response.content).hexdigest()
    assert (
        response.headers["repr-digest"]
        == "sha-256=:" + base64.b64encode(hashlib.sha256(response.content).digest()).decode() + ":"
    )
    assert row["document_id"] == response.headers["x-document-id"]
    assert row["client_id"] == district.issued.client_id
    assert row["consumer_name"] == district.issued.consumer
    assert row["recipient"] == "Appalachian State University"
    assert row["legal_basis"].startswith("34 CFR 99.31(a)(2)")
    assert row["request_tracking_id"] == "CFNC-REQ-42"
    assert row["pesc_version"] == "1.3.0"
    root = etree.fromstring(response.content)
    assert root.findtext("TransmissionData/RequestTrackingID") == "CFNC-REQ-42"
    assert root.findtext("TransmissionData/DocumentID") == row["document_id"]


async def test_identity_checks_are_case_and_accent_insensitive(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    district = districts[0]
    student = district.student()
    headers = await bearer(client, district)
    shouted = student["last_name"].upper()
    ok = await client.get(
        url(district.lea, student["student_id"]),
        headers=headers,
        params={"last_name": shouted, "birth_date": student["birth_date"].isoformat()},
    )
    assert ok.status_code == 200
    for params in ({"last_name": "Somebody-Else"}, {"birth_date": "1999-01-01"}):
        refused = await client.get(
            url(district.lea, student["student_id"]), headers=headers, params=params
        )
        assert refused.status_code == 404
        assert refused.json()["detail"] == "No transcript is available for this student."


async def test_accented_name_matches_unaccented(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    import unicodedata

    for district in districts:
        accented = [
            s
            for s in district.students
            if not s["held"] and unicodedata.normalize("NFKD", s["last_name"]) != s["last_name"]
        ]
        if accented:
            student = accented[0]
            plain = "".join(
                c
                for c in unicodedata.normalize("NFKD", student["last_name"])
                if not unicodedata.combining(c)
            )
            headers = await bearer(client, district)
            ok = await client.get(
                url(district.lea, student["student_id"]),
                headers=headers,
                params={"last_name": plain.lower()},
            )
            assert ok.status_code == 200
            return
    pytest.fail("the synthetic data has no accented last name to test with")


async def test_another_districts_student_is_the_same_404(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    a, b = districts
    headers = await bearer(client, a)
    theirs = await client.get(url(a.lea, b.student()["student_id"]), headers=headers)
    unknown = await client.get(url(a.lea, "9999999999"), headers=headers)
    malformed = await client.get(url(a.lea, "not%20an%20id"), headers=headers)
    assert theirs.status_code == unknown.status_code == malformed.status_code == 404
    # The same answer but for `instance`, which is the path the client itself asked for.
    assert theirs.json().pop("instance") == url(a.lea, b.student()["student_id"])
    assert {**theirs.json(), "instance": ""} == {**unknown.json(), "instance": ""}


async def test_wrong_district_in_the_path_is_403_and_a_security_event(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    gateway_app: Starlette,
    owner_conn: asyncpg.Connection,
) -> None:
    a, b = districts
    headers = await bearer(client, a)
    response = await client.get(url(b.lea, b.student()["student_id"]), headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    await gateway_app.state.services.audit.flush()
    event = await owner_conn.fetchrow(
        "SELECT outcome, district_id, target FROM audit_log WHERE action = 'transcript.cross_district'"
        " AND actor = $1 ORDER BY audit_id DESC LIMIT 1",
        a.issued.client_id,
    )
    assert event is not None
    assert (event["outcome"], event["district_id"], event["target"]) == (
        "denied",
        a.district_id,
        b.lea,
    )


async def test_no_or_bad_token_is_401(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    district = districts[0]
    path = url(district.lea, district.student()["student_id"])
    missing = await client.get(path)
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    bad = await client.get(path, headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]


async def test_suspended_district_answers_403(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    control: asyncpg.Connection,
    gateway_app: Starlette,
) -> None:
    district = districts[1]
    headers = await bearer(client, district)
    await district_repo.set_status(control, district.lea, "suspended", CONSUMER_ACTOR)
    try:
        for _ in range(200):
            if not gateway_app.state.services.directory.cached(district.lea).active:
                break
            await asyncio.sleep(0.01)
        response = await client.get(
            url(district.lea, district.student()["student_id"]), headers=headers
        )
        assert response.status_code == 403
        assert "suspended" in response.json()["detail"]
    finally:
        await district_repo.set_status(control, district.lea, "active", CONSUMER_ACTOR)
        for _ in range(200):
            if gateway_app.state.services.directory.cached(district.lea).active:
                break
            await asyncio.sleep(0.01)


async def test_hold_is_409_naming_the_hold_and_the_request_is_recorded(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    owner_conn: asyncpg.Connection,
) -> None:
    held = next((d, s) for d in districts for s in d.students if s["held"])
    district, student = held
    headers = await bearer(client, district)
    response = await client.get(url(district.lea, student["student_id"]), headers=headers)
    assert response.status_code == 409
    body = response.json()
    assert body["hold_types"] and set(body["hold_types"]) <= {
        "Financial",
        "Disciplinary",
        "Administrative",
        "RecordsIncomplete",
    }
    assert body["hold_types"][0] in body["detail"]
    rows = await disclosure_rows(owner_conn, district.district_id, student["student_id"])
    assert rows[-1]["event"] == "refused_hold"
    assert rows[-1]["document_sha256"] is None


async def test_bad_parameters_are_400(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    district = districts[0]
    headers = await bearer(client, district)
    path = url(district.lea, district.student()["student_id"])
    for params, word in (
        ({"pesc_version": "2.0"}, "pesc_version"),
        ({"birth_date": "17/05/2007"}, "birth_date"),
        ({"legal_basis": "because"}, "legal_basis"),
    ):
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 400, params
        assert word in response.json()["detail"]
    not_acceptable = await client.get(path, headers={**headers, "Accept": "text/csv"})
    assert not_acceptable.status_code == 406


async def test_disclosures_equal_transcripts_served_under_concurrency(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    owner_conn: asyncpg.Connection,
) -> None:
    district = districts[0]
    headers = await bearer(client, district)
    students = [s for s in district.students if not s["held"]][:40]
    before = await owner_conn.fetchval(
        "SELECT count(*) FROM disclosures WHERE district_id = $1 AND event = 'disclosed'",
        district.district_id,
    )
    responses = await asyncio.gather(
        *(client.get(url(district.lea, s["student_id"]), headers=headers) for s in students * 3)
    )
    served = sum(1 for r in responses if r.status_code == 200)
    assert served == len(students) * 3
    after = await owner_conn.fetchval(
        "SELECT count(*) FROM disclosures WHERE district_id = $1 AND event = 'disclosed'",
        district.district_id,
    )
    assert after - before == served
    digests = {hashlib.sha256(r.content).hexdigest() for r in responses}
    recorded = {
        r["document_sha256"]
        for r in await owner_conn.fetch(
            "SELECT document_sha256 FROM disclosures WHERE district_id = $1", district.district_id
        )
    }
    assert digests <= recorded


@pytest.fixture
async def failing_disclosures(database: object, owner_conn: asyncpg.Connection) -> None:
    """A trigger that makes the disclosure insert fail for recipient 'FAIL-INSERT', and
    stall for 'STALL' (so a test can kill the connection mid-request)."""
    await owner_conn.execute("""
        CREATE OR REPLACE FUNCTION test_fail_disclosure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.recipient = 'FAIL-INSERT' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
            IF NEW.recipient = 'STALL' THEN PERFORM pg_sleep(5); END IF;
            RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS test_fail_disclosure ON disclosures;
        CREATE TRIGGER test_fail_disclosure BEFORE INSERT ON disclosures
            FOR EACH ROW EXECUTE FUNCTION test_fail_disclosure();
    """)
    yield
    await owner_conn.execute("DROP TRIGGER IF EXISTS test_fail_disclosure ON disclosures")


async def test_no_transcript_leaves_without_its_row(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    owner_conn: asyncpg.Connection,
    failing_disclosures: None,
    database: object,
) -> None:
    district = districts[0]
    student = district.student()
    headers = await bearer(client, district)
    before = len(await disclosure_rows(owner_conn, district.district_id, student["student_id"]))
    failed = await client.get(
        url(district.lea, student["student_id"]),
        headers=headers,
        params={"recipient": "FAIL-INSERT"},
    )
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert b"HighSchoolTranscript" not in failed.content

    # The database goes away mid-request (the backend is killed while writing the row).
    request = asyncio.create_task(
        client.get(
            url(district.lea, student["student_id"]), headers=headers, params={"recipient": "STALL"}
        )
    )
    su = await asyncpg.connect(database.superuser_url)  # type: ignore[attr-defined]
    try:
        for _ in range(100):
            killed = await su.fetchval(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query LIKE '%INSERT INTO disclosures%' AND wait_event = 'PgSleep') t"
            )
            if killed:
                break
            await asyncio.sleep(0.05)
        assert killed == 1
    finally:
        await su.close()
    response = await request
    assert response.status_code in (500, 503)
    assert b"HighSchoolTranscript" not in response.content
    assert (
        len(await disclosure_rows(owner_conn, district.district_id, student["student_id"]))
        == before
    )
    json.dumps(response.json())  # a problem document, not a partial transcript


async def test_database_refuses_even_when_the_code_is_bypassed(
    gateway_app: Starlette, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    """The query asks for district B's student by B's id, inside A's transaction: RLS answers
    nothing, whatever the code's own filters say."""
    from tenants import tenant_transaction
    from tenants.queries import transcripts

    a, b = districts
    services = gateway_app.state.services
    district_a = await services.directory.by_lea(a.lea)
    victim = b.student()["student_id"]
    async with tenant_transaction(services.stores, district_a, readonly=True) as tx:
        row = await tx.fetchrow(transcripts._STUDENT_RECORD, b.district_id, victim)
        assert row is None
        assert (
            await tx.fetchval("SELECT count(*) FROM students WHERE district_id = $1", b.district_id)
            == 0
        )
        assert (
            await tx.fetchval("SELECT count(*) FROM course_records WHERE student_id = $1", victim)
            == 0
        )
    # The same query, in B's own transaction, finds the student: the refusal above is RLS.
    district_b = await services.directory.by_lea(b.lea)
    async with tenant_transaction(services.stores, district_b, readonly=True) as tx:
        assert await tx.fetchrow(transcripts._STUDENT_RECORD, b.district_id, victim) is not None


async def test_disclosures_cli_reads_the_log(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict], database: object
) -> None:
    import csv
    import io

    from click.testing import CliRunner

    from gateway.cli import cli
    from tests.cli.conftest import cli_env

    district = districts[1]
    student = district.student()
    headers = await bearer(client, district)
    response = await client.get(
        url(district.lea, student["student_id"]),
        headers=headers,
        params={"request_tracking_id": "CLI-CHECK-1"},
    )
    assert response.status_code == 200
    env = cli_env(database)  # type: ignore[arg-type]
    runner = CliRunner()
    as_json = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["disclosures", "--district", district.lea, "--student", student["student_id"], "--json"],
        env=env,
    )
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert rows[0]["request_tracking_id"] == "CLI-CHECK-1"
    assert rows[0]["document_sha256"] == hashlib.sha256(response.content).hexdigest()
    assert {r["student_id"] for r in rows} == {student["student_id"]}
    as_csv = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["disclosures", "--district", district.lea, "--since", "2000-01-01", "--csv"],
        env=env,
    )
    assert as_csv.exit_code == 0
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert any(r["request_tracking_id"] == "CLI-CHECK-1" for r in parsed)
    future = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["disclosures", "--district", district.lea, "--since", "2999-01-01", "--json"],
        env=env,
    )
    assert json.loads(future.stdout) == []
