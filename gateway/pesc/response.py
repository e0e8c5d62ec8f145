"""A PESC TranscriptResponse 1.4.0: the answer to a request that gets no transcript.

Statuses (AcRec:ResponseStatusType, spelled as the schema spells them): 'NoRecord' (no such
student), 'MultipleMatch' (the request matches more than one), 'Hold' (a hold stops the
release), and the schema's other values for completeness.

What is echoed from the request: its tracking id (TransmissionData/RequestTrackingID and each
Response/RequestTrackingID, see `TranscriptRequest.tracking_id`), its DocumentID (in the
TransmissionData NoteMessage: the schema has no element for it), each recipient's own tracking
ids (one Response per Recipient, or a single Response when the request names none), and the
RequestedStudent as the request described it (never anything from the district's records:
for NoRecord and MultipleMatch, what the district holds is not the requester's to learn).

Source and destination are swapped: the response comes from the request's Destination (or the
`source` given, e.g. the district's school) and goes to the request's Source.

A hold is reported by reason code only (AcRec:HoldReasonType: 'Financial' for a financial
hold, 'Other' for the rest); its free-text reason is never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Literal

from lxml import etree

from gateway.pesc import elements, simple_types
from gateway.pesc.elements import leaf
from gateway.pesc.party import Party
from gateway.pesc.request import Recipient, RequestedStudent, TranscriptRequest
from tenants.records import Hold

NAMESPACE: Final = "urn:org:pesc:message:TranscriptResponse:v1.4.0"

ResponseStatus = Literal[
    "TranscriptSent",
    "TranscriptRequestReceived",
    "Hold",
    "NoRecord",
    "MultipleMatch",
    "Canceled",
    "OfflineRecordSearch",
    "OfflineRecordSent",
    "Deceased",
]

_HOLD_REASONS: Final[dict[str, str]] = {"Financial": "Financial"}

SubElement = etree.SubElement


def render_response(
    request: TranscriptRequest,
    *,
    status: ResponseStatus,
    document_id: str,
    created_at: datetime,
    source: Party | None = None,
    holds: Sequence[Hold] = (),
) -> bytes:
    """The TranscriptResponse document: UTF-8 bytes with an XML declaration.

    `holds` is required for status 'Hold' and refused for any other (ValueError), as are a
    bad `document_id` and a naive `created_at`.
    """
    if (status == "Hold") != bool(holds):
        raise ValueError("holds are given with status 'Hold', and only with it")
    q = f"{{{NAMESPACE}}}"
    root = etree.Element(f"{q}TranscriptResponse", nsmap={"TrRsp": NAMESPACE})
    created = simple_types.date_time(created_at)
    tracking_id = simple_types.document_id(request.tracking_id)

    # AcRec:TransmissionDataType (qualified: it is declared in the message schema).
    data = SubElement(root, f"{q}TransmissionData")
    leaf(data, "DocumentID", simple_types.document_id(document_id))
    leaf(data, "CreatedDateTime", created)
    leaf(data, "DocumentTypeCode", "Response")
    leaf(data, "TransmissionType", "Original")
    elements.party_organization(SubElement(data, "Source"), source or request.destination)
    elements.party_organization(SubElement(data, "Destination"), request.source)
    if request.process_code in {"PRODUCTION", "TEST"}:
        leaf(data, "DocumentProcessCode", request.process_code)
    leaf(data, "RequestTrackingID", tracking_id)
    leaf(data, "NoteMessage", f"In response to TranscriptRequest document {request.document_id}")

    recipients: Sequence[Recipient | None] = request.recipients or (None,)
    for recipient in recipients:
        # AcRec:ResponseType order: CreatedDateTime, RequestTrackingID, RecipientTrackingID,
        # ResponseStatus, ResponseHold (0..n), RequestedStudent.
        response = SubElement(root, f"{q}Response")
        leaf(response, "CreatedDateTime", created)
        if recipient is None:
            leaf(response, "RequestTrackingID", tracking_id)
        else:
            leaf(response, "RequestTrackingID", recipient.request_tracking_id)
            leaf(response, "RecipientTrackingID", recipient.recipient_tracking_id)
        leaf(response, "ResponseStatus", status)
        for hold in holds:
            # AcRec:ResponseHoldType: HoldReason.
            reason = _HOLD_REASONS.get(hold.hold_type, "Other")
            leaf(SubElement(response, "ResponseHold"), "HoldReason", reason)
        _requested_student(response, request.student)
    return elements.serialize(root)


def _requested_student(parent: etree._Element, student: RequestedStudent) -> None:
    # AcRec:RequestedStudentType: Person, Attendance (1..n), ReleaseAuthorizedIndicator,
    # ReleaseAuthorizedMethod.
    if not student.attendance:
        raise ValueError("a RequestedStudent needs at least one Attendance")
    element = SubElement(parent, "RequestedStudent")
    # AcRec:PersonType order: SchoolAssignedPersonID, AgencyAssignedID, RecipientAssignedID,
    # Birth, Name.
    person = SubElement(element, "Person")
    leaf(person, "SchoolAssignedPersonID", simple_types.identifier(student.school_assigned_id, 20))
    leaf(person, "AgencyAssignedID", simple_types.identifier(student.state_id, 30))
    leaf(person, "RecipientAssignedID", simple_types.identifier(student.recipient_assigned_id, 20))
    if student.birth_date is not None:
        leaf(SubElement(person, "Birth"), "BirthDate", simple_types.date(student.birth_date))
    elements.person_name(person, student.first_name, student.middle_names, student.last_name,
                         student.name_suffix)  # fmt: skip
    for attendance in student.attendance:
        # AcRec:AttendanceType: School, EnrollDate, ExitDate, CurrentEnrollmentIndicator.
        entry = SubElement(element, "Attendance")
        elements.party_school(entry, attendance.school)
        if attendance.enroll_date is not None:
            leaf(entry, "EnrollDate", simple_types.date(attendance.enroll_date))
        if attendance.exit_date is not None:
            leaf(entry, "ExitDate", simple_types.date(attendance.exit_date))
        if attendance.currently_enrolled is not None:
            leaf(entry, "CurrentEnrollmentIndicator", str(attendance.currently_enrolled).lower())
    leaf(element, "ReleaseAuthorizedIndicator", str(student.release_authorized).lower())
    leaf(element, "ReleaseAuthorizedMethod", student.release_authorized_method)
