"""TranscriptRequest 1.4.0 documents are parsed safely; bad ones are refused by name."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.errors import BadRequest, PayloadTooLarge
from gateway.pesc import (
    DocumentTooLarge,
    InvalidDocument,
    MalformedDocument,
    Party,
    RequestedStudent,
    parse_transcript_request,
)
from tests.pesc.documents import NC_REQUEST

LIMIT = 1024 * 1024

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<TranscriptRequest xmlns="urn:org:pesc:message:TranscriptRequest:v1.4.0">&lol9;</TranscriptRequest>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<TranscriptRequest xmlns="urn:org:pesc:message:TranscriptRequest:v1.4.0">&secret;</TranscriptRequest>
"""


def sample(samples: Path, name: str) -> bytes:
    return (samples / f"TranscriptRequest_v1.4.0_{name}.xml").read_bytes()


def test_required_and_recommended_sample(samples: Path, pesc_dir: Path) -> None:
    request = parse_transcript_request(
        sample(samples, "RequiredAndRecommended_001"), max_bytes=LIMIT, pesc_dir=pesc_dir
    )
    assert request.document_id == "a"
    assert request.request_tracking_id == "123456789"
    assert request.tracking_id == "123456789"
    assert request.created_at == datetime(2001, 12, 17, 9, 30, 47, tzinfo=UTC)
    assert (request.document_type, request.transmission_type) == ("Response", "Duplicate")
    assert request.source == Party(name="a", ceeb="aaaaaa")
    assert request.destination == Party(name="a", ceeb="aaaaaa")
    student = request.student
    assert (student.first_name, student.middle_names, student.last_name) == ("a", ("b",), "a")
    assert student.birth_date == date(1957, 8, 13)
    assert student.release_authorized is True
    assert student.release_authorized_method == "LegitimateEducationalInterest"
    (attendance,) = student.attendance
    assert attendance.school == Party(name="a", ceeb="aaaaaa")
    assert attendance.enroll_date == attendance.exit_date == date(1957, 8, 13)
    assert attendance.currently_enrolled is True
    assert request.recipients == ()
    assert request.transcript_destination == request.source
    # The PartialSSN of the document is nowhere in what was parsed.
    assert "1234" not in repr(request.student)
    assert not [f.name for f in fields(RequestedStudent) if "ssn" in f.name.lower()]


def test_required_only_sample(samples: Path, pesc_dir: Path) -> None:
    request = parse_transcript_request(
        sample(samples, "RequiredOnly_001"), max_bytes=LIMIT, pesc_dir=pesc_dir
    )
    assert request.request_tracking_id is None
    assert request.tracking_id == "a"  # no tracking id anywhere: the DocumentID is echoed
    assert request.student.middle_names == ()
    assert request.student.attendance[0].currently_enrolled is None
    assert request.destination == Party(name="a", ceeb="aaaaaa")


def test_basic_sample_with_empty_organizations_and_name(samples: Path, pesc_dir: Path) -> None:
    request = parse_transcript_request(
        sample(samples, "basic_001"), max_bytes=LIMIT, pesc_dir=pesc_dir
    )
    assert request.document_type == "CertificationRequest"
    assert request.source == Party()
    assert request.student.first_name is None and request.student.last_name is None
    assert request.student.birth_date is None
    assert request.student.release_authorized is True
    assert request.student.release_authorized_method is None
    assert request.student.attendance[0].school == Party(name="a")


def test_an_nc_request_with_recipients(pesc_dir: Path) -> None:
    request = parse_transcript_request(NC_REQUEST.encode(), max_bytes=LIMIT, pesc_dir=pesc_dir)
    assert request.created_at == datetime(2025, 2, 3, 9, 15, tzinfo=timezone(timedelta(hours=-5)))
    assert request.process_code == "TEST"
    assert request.tracking_id == "CFNC-TRK-77"
    assert request.destination == Party(name="Enloe Magnet High School", ceeb="340123")
    student = request.student
    assert student.state_id == "1234567890"
    assert student.school_assigned_id == "445566"
    assert (student.first_name, student.last_name, student.name_suffix) == (
        "Zoë",
        "Ångström-Núñez",
        "JR",
    )
    assert student.attendance[0].currently_enrolled is True
    assert student.release_authorized_method == "ElectronicSignature"
    college, person = request.recipients
    assert college.request_tracking_id == "RT-1"
    assert college.recipient_tracking_id == "UNC-APP-9"
    assert college.receiver == Party(
        name="University of North Carolina at Chapel Hill", atp="005816"
    )
    assert college.purpose == "Admission"
    assert college.delivery_methods == ("Electronic",)
    assert college.electronic_format == "XML"
    assert person.receiver == Party(recipient="Ada O'Neil")
    assert request.transcript_destination == college.receiver
    assert "987654321" not in repr(request)  # the SSN is never kept


def test_the_invalid_sample_is_refused_naming_line_and_element(
    samples: Path, pesc_dir: Path
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_transcript_request(
            sample(samples, "invalid_transcript_request"), max_bytes=LIMIT, pesc_dir=pesc_dir
        )
    error = caught.value
    assert isinstance(error, BadRequest)
    assert error.status == 422
    assert error.detail is not None
    assert "line 64" in error.detail
    assert "Contacts" in error.detail
    assert "Name" in error.detail  # what the schema expected instead
    assert set(error.errors) == {"line 64"}
    assert error.problem()["errors"] == error.errors


def test_the_invalid_sample_is_refused_without_a_schema_too(samples: Path) -> None:
    with pytest.raises(InvalidDocument, match="Person has no Name"):
        parse_transcript_request(sample(samples, "invalid_transcript_request"), max_bytes=LIMIT)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_billion_laughs_is_refused_for_its_doctype(encoding: str) -> None:
    document = BILLION_LAUGHS.decode().replace('"1.0"?>', f'"1.0" encoding="{encoding}"?>', 1)
    with pytest.raises(MalformedDocument, match="DOCTYPE"):
        parse_transcript_request(document.encode(encoding), max_bytes=LIMIT)


def test_an_external_entity_is_refused() -> None:
    with pytest.raises(MalformedDocument, match="DOCTYPE"):
        parse_transcript_request(EXTERNAL_ENTITY, max_bytes=LIMIT)


def test_an_oversize_document_is_refused_before_parsing(samples: Path) -> None:
    document = sample(samples, "basic_001")
    with pytest.raises(DocumentTooLarge, match=f"{len(document)} bytes") as caught:
        parse_transcript_request(document, max_bytes=len(document) - 1)
    assert isinstance(caught.value, PayloadTooLarge) and caught.value.status == 413
    # Not even looked at: garbage over the bound is "too large", not "not well-formed".
    with pytest.raises(DocumentTooLarge):
        parse_transcript_request(b"<" * 2048, max_bytes=1024)
    assert parse_transcript_request(document, max_bytes=len(document)).document_id == "a"


def test_a_document_that_is_not_well_formed_is_refused_with_its_position() -> None:
    with pytest.raises(MalformedDocument, match="not well-formed XML: line 2"):
        parse_transcript_request(b"<TranscriptRequest>\n<a></b>", max_bytes=LIMIT)
    with pytest.raises(MalformedDocument, match="not well-formed"):
        parse_transcript_request(b"", max_bytes=LIMIT)


def test_another_document_type_is_refused(samples: Path) -> None:
    transcript = (samples / "SampleHighSchoolTranscript_v1.3.0.utf16.xml").read_bytes()
    with pytest.raises(MalformedDocument, match="Expected a TranscriptRequest"):
        parse_transcript_request(transcript, max_bytes=LIMIT)


def test_a_batch_of_requests_is_refused(pesc_dir: Path) -> None:
    start = NC_REQUEST.index("<TrReq:Request>")
    end = NC_REQUEST.index("</TrReq:Request>") + len("</TrReq:Request>")
    twice = NC_REQUEST[:end] + NC_REQUEST[start:end] + NC_REQUEST[end:]
    with pytest.raises(InvalidDocument, match="2 Request elements"):
        parse_transcript_request(twice.encode(), max_bytes=LIMIT, pesc_dir=pesc_dir)


def test_values_the_response_would_echo_are_checked_without_a_schema() -> None:
    long_id = NC_REQUEST.replace("CFNC-TRK-77", "T" * 36)
    with pytest.raises(InvalidDocument, match="longer than 35"):
        parse_transcript_request(long_id.encode(), max_bytes=LIMIT)
    bad_ceeb = NC_REQUEST.replace(
        "<CEEBACT>340123</CEEBACT><OrganizationName>Enloe",
        "<CEEBACT>34</CEEBACT><OrganizationName>Enloe",
    )
    with pytest.raises(InvalidDocument, match="ceeb"):
        parse_transcript_request(bad_ceeb.encode(), max_bytes=LIMIT)
    bad_method = NC_REQUEST.replace(">ElectronicSignature<", ">Telepathy<")
    with pytest.raises(InvalidDocument, match="ReleaseAuthorizedMethod"):
        parse_transcript_request(bad_method.encode(), max_bytes=LIMIT)
