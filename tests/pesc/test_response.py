"""TranscriptResponse documents validate, echo the request, and disclose no hold reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from lxml import etree

from gateway.pesc import (
    Party,
    ResponseStatus,
    TranscriptRequest,
    parse_transcript_request,
    render_response,
    validate,
)
from tenants.records import Hold
from tests.pesc.documents import NC_REQUEST

NOW = datetime(2025, 2, 3, 15, 0, tzinfo=UTC)
NS = "urn:org:pesc:message:TranscriptResponse:v1.4.0"
HOLDS = (
    Hold(1, "Financial", "Unpaid textbook fee", NOW),
    Hold(2, "Disciplinary", "Suspended pending hearing", NOW),
)


def request_from(samples: Path, name: str) -> TranscriptRequest:
    data = (samples / f"TranscriptRequest_v1.4.0_{name}.xml").read_bytes()
    return parse_transcript_request(data, max_bytes=1 << 20)


def respond(request: TranscriptRequest, status: ResponseStatus, **kwargs: object) -> bytes:
    holds = HOLDS if status == "Hold" else ()
    return render_response(
        request,
        status=status,
        document_id="GW-RSP-1",
        created_at=NOW,
        holds=holds,
        **kwargs,  # type: ignore[arg-type]
    )


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@pytest.mark.parametrize("status", ["NoRecord", "MultipleMatch", "Hold"])
@pytest.mark.parametrize("sample", ["basic_001", "RequiredOnly_001", "RequiredAndRecommended_001"])
def test_each_status_is_valid_for_each_sample(
    pesc_dir: Path, samples: Path, status: ResponseStatus, sample: str
) -> None:
    document = respond(request_from(samples, sample), status)
    assert validate(pesc_dir, "TranscriptResponse 1.4.0", document) == []
    root = etree.fromstring(document)
    assert root.tag == q("TranscriptResponse")
    response = root.find(q("Response"))
    assert response is not None
    assert response.findtext("ResponseStatus") == status


def test_every_status_of_the_schema_is_accepted(pesc_dir: Path) -> None:
    request = parse_transcript_request(NC_REQUEST.encode(), max_bytes=1 << 20)
    for status in get_args(ResponseStatus):
        assert validate(pesc_dir, "TranscriptResponse 1.4.0", respond(request, status)) == []


def test_tracking_and_document_ids_are_echoed(samples: Path) -> None:
    request = request_from(samples, "RequiredAndRecommended_001")
    root = etree.fromstring(respond(request, "NoRecord"))
    data = root.find(q("TransmissionData"))
    assert data is not None
    assert data.findtext("DocumentID") == "GW-RSP-1"
    assert data.findtext("DocumentTypeCode") == "Response"
    assert data.findtext("RequestTrackingID") == "123456789"
    assert data.findtext("NoteMessage") == "In response to TranscriptRequest document a"
    assert root.findtext(f"{q('Response')}/RequestTrackingID") == "123456789"


def test_source_and_destination_are_swapped() -> None:
    request = parse_transcript_request(NC_REQUEST.encode(), max_bytes=1 << 20)
    root = etree.fromstring(respond(request, "MultipleMatch"))
    data = root.find(q("TransmissionData"))
    assert data is not None
    assert data.findtext("Source/Organization/OrganizationName") == "Enloe Magnet High School"
    assert data.findtext("Source/Organization/CEEBACT") == "340123"
    assert data.findtext("Destination/Organization/OrganizationName") == (
        "College Foundation of North Carolina"
    )
    assert data.findtext("DocumentProcessCode") == "TEST"  # a test request gets a test answer

    school = Party("Enloe Magnet High School", ceeb="340123", ccd="370472001234")
    own = etree.fromstring(respond(request, "NoRecord", source=school))
    assert own.findtext(f"{q('TransmissionData')}/Source/Organization/CCD") == "370472001234"


def test_one_response_per_recipient_with_its_tracking_ids(pesc_dir: Path) -> None:
    request = parse_transcript_request(NC_REQUEST.encode(), max_bytes=1 << 20)
    document = respond(request, "NoRecord")
    assert validate(pesc_dir, "TranscriptResponse 1.4.0", document) == []
    root = etree.fromstring(document)
    responses = root.findall(q("Response"))
    assert [r.findtext("RequestTrackingID") for r in responses] == ["RT-1", "RT-2"]
    assert [r.findtext("RecipientTrackingID") for r in responses] == ["UNC-APP-9", None]
    assert root.findtext(f"{q('TransmissionData')}/RequestTrackingID") == "CFNC-TRK-77"


def test_the_requested_student_is_echoed_as_requested() -> None:
    request = parse_transcript_request(NC_REQUEST.encode(), max_bytes=1 << 20)
    root = etree.fromstring(respond(request, "NoRecord"))
    person = root.find(f"{q('Response')}/RequestedStudent/Person")
    assert person is not None
    assert person.findtext("AgencyAssignedID") == "1234567890"
    assert person.findtext("SchoolAssignedPersonID") == "445566"
    assert person.findtext("Name/FirstName") == "Zoë"
    assert person.findtext("Name/LastName") == "Ångström-Núñez"
    assert person.findtext("Birth/BirthDate") == "2007-05-17"
    assert person.find("SSN") is None
    student = person.getparent()
    assert student is not None
    assert student.findtext("ReleaseAuthorizedIndicator") == "true"
    assert student.findtext("Attendance/School/CEEBACT") == "340123"


def test_holds_give_reason_codes_and_never_the_reason(samples: Path) -> None:
    document = respond(request_from(samples, "basic_001"), "Hold")
    root = etree.fromstring(document)
    reasons = [h.findtext("HoldReason") for h in root.iter("ResponseHold")]
    assert reasons == ["Financial", "Other"]
    for hold in HOLDS:
        assert hold.reason.encode() not in document


def test_hold_status_and_holds_go_together(samples: Path) -> None:
    request = request_from(samples, "basic_001")
    with pytest.raises(ValueError, match="Hold"):
        render_response(request, status="Hold", document_id="X", created_at=NOW)
    with pytest.raises(ValueError, match="Hold"):
        render_response(request, status="NoRecord", document_id="X", created_at=NOW, holds=HOLDS)
