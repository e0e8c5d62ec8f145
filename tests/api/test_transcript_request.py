"""POST /api/v1/districts/{lea}/etranscripts with a PESC TranscriptRequest 1.4.0."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest
from lxml import etree

from gateway.pesc import validate
from tests.api.conftest import SeededDistrict
from tests.factories import access_token

RESPONSE_NS = "urn:org:pesc:message:TranscriptResponse:v1.4.0"
SAMPLES = ("RequiredOnly_001", "RequiredAndRecommended_001", "basic_001")


def request_for(
    samples: Path, sample: str, *, first: str, last: str, birth: str, authorized: bool = True
) -> bytes:
    """A shared sample with its RequestedStudent changed to name one of our students."""
    tree = etree.parse(str(samples / f"TranscriptRequest_v1.4.0_{sample}.xml"))
    person = tree.find(".//RequestedStudent/Person")
    assert person is not None
    name = person.find("Name")
    assert name is not None
    # Birth comes right before Name in the schema's Person sequence.
    old_birth = person.find("Birth")
    if old_birth is not None:
        person.remove(old_birth)
    birth_element = etree.Element("Birth")
    etree.SubElement(birth_element, "BirthDate").text = birth
    name.addprevious(birth_element)
    for child in list(name):
        name.remove(child)
    etree.SubElement(name, "FirstName").text = first
    etree.SubElement(name, "LastName").text = last
    indicator = tree.find(".//RequestedStudent/ReleaseAuthorizedIndicator")
    if indicator is not None:
        indicator.text = "true" if authorized else "false"
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


async def post(
    client: httpx.AsyncClient,
    district: SeededDistrict,
    body: bytes,
    content_type: str = "application/xml",
) -> httpx.Response:
    token = await access_token(client, district.issued.client_id, district.issued.client_secret)
    return await client.post(
        f"/api/v1/districts/{district.lea}/etranscripts",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


def response_status(body: bytes) -> str:
    root = etree.fromstring(body)
    assert root.tag == f"{{{RESPONSE_NS}}}TranscriptResponse"
    status = root.findtext(".//ResponseStatus")
    assert status is not None
    return status


@pytest.mark.parametrize("sample", SAMPLES)
async def test_samples_as_sent_find_no_record(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    samples: Path,
    pesc_dir: Path,
    sample: str,
) -> None:
    body = (samples / f"TranscriptRequest_v1.4.0_{sample}.xml").read_bytes()
    response = await post(client, districts[0], body)
    assert response.status_code == 200, response.text
    assert response_status(response.content) == "NoRecord"
    assert validate(pesc_dir, "TranscriptResponse 1.4.0", response.content) == []


@pytest.mark.parametrize("sample", SAMPLES)
async def test_a_matching_request_gets_the_transcript_and_a_disclosure(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    samples: Path,
    pesc_dir: Path,
    owner_conn: asyncpg.Connection,
    sample: str,
) -> None:
    district = districts[0]
    student = district.student()
    body = request_for(
        samples,
        sample,
        first=student["first_name"].upper(),
        last=student["last_name"],
        birth=student["birth_date"].isoformat(),
    )
    response = await post(client, district, body)
    assert response.status_code == 200, response.text
    assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", response.content) == []
    root = etree.fromstring(response.content)
    assert root.findtext("Student/Person/AgencyAssignedID") == student["student_id"]
    row = await owner_conn.fetchrow(
        "SELECT * FROM disclosures WHERE district_id = $1 AND student_id = $2 ORDER BY occurred_at DESC LIMIT 1",
        district.district_id,
        student["student_id"],
    )
    assert row["event"] == "disclosed"
    assert row["document_id"] == response.headers["x-document-id"]
    assert row["request_tracking_id"]
    assert root.findtext("TransmissionData/RequestTrackingID") == row["request_tracking_id"]


async def test_release_not_authorized_is_refused_and_recorded(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    samples: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    district = districts[0]
    student = district.student()
    body = request_for(
        samples,
        "basic_001",
        first=student["first_name"],
        last=student["last_name"],
        birth=student["birth_date"].isoformat(),
        authorized=False,
    )
    response = await post(client, district, body)
    assert response.status_code == 200
    assert response_status(response.content) == "Canceled"
    assert b"HighSchoolTranscript" not in response.content
    event = await owner_conn.fetchval(
        "SELECT event FROM disclosures WHERE district_id = $1 AND student_id = $2 ORDER BY occurred_at DESC LIMIT 1",
        district.district_id,
        student["student_id"],
    )
    assert event == "refused_not_authorized"


async def test_held_student_gets_a_hold_response(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    samples: Path,
    pesc_dir: Path,
) -> None:
    district, student = next((d, s) for d in districts for s in d.students if s["held"])
    body = request_for(
        samples,
        "basic_001",
        first=student["first_name"],
        last=student["last_name"],
        birth=student["birth_date"].isoformat(),
    )
    response = await post(client, district, body)
    assert response_status(response.content) == "Hold"
    assert validate(pesc_dir, "TranscriptResponse 1.4.0", response.content) == []


async def test_two_students_alike_are_a_multiple_match(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    samples: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    from datetime import date

    from tests.factories import add_student

    district = districts[1]
    twin_birth = date(2008, 2, 29)
    for uid in ("8800000001", "8800000002"):
        await add_student(
            owner_conn,
            district.district_id,
            uid,
            first_name="Jordan",
            last_name="Twin",
            birth_date=twin_birth,
            school_id=await owner_conn.fetchval(
                "SELECT min(school_id) FROM schools WHERE district_id = $1 AND kind = 'high'",
                district.district_id,
            ),
        )
    body = request_for(
        samples, "basic_001", first="Jordan", last="Twin", birth=twin_birth.isoformat()
    )
    response = await post(client, district, body)
    assert response_status(response.content) == "MultipleMatch"


async def test_invalid_sample_is_400_naming_the_problem(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict], samples: Path
) -> None:
    body = (samples / "TranscriptRequest_v1.4.0_invalid_transcript_request.xml").read_bytes()
    response = await post(client, districts[0], body)
    assert response.status_code in (400, 422)
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert "line" in problem["detail"] and "Contacts" in problem["detail"]


async def test_hostile_and_oversized_documents_are_refused(
    client: httpx.AsyncClient, districts: tuple[SeededDistrict, SeededDistrict]
) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    )
    response = await post(client, districts[0], laughs)
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["detail"]
    big = b"<x>" + b"a" * (2 * 1024 * 1024) + b"</x>"
    too_big = await post(client, districts[0], big)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert too_big.json()["detail"] == "The request body is larger than 1 MiB."
    # The route's own bound (1 MiB) replaces the app's 64 KiB: 100 KiB reaches the parser.
    padded = b"<x>" + b"a" * (100 * 1024) + b"</x>"
    assert (await post(client, districts[0], padded)).status_code != 413
    assert (
        await post(client, districts[0], b"{}", content_type="application/json")
    ).status_code == 415
    assert (await post(client, districts[0], b"<not-closed>")).status_code == 400
