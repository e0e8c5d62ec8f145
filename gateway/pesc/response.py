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

from gateway.pesc import elements, simple_types
from gateway.pesc.party import Party
from gateway.pesc.request import Recipient, RequestedStudent, TranscriptRequest
from gateway.pesc.writer import XmlWriter
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
ROOT = "TrRsp:TranscriptResponse"


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
    created = simple_types.date_time(created_at)
    tracking_id = simple_types.document_id(request.tracking_id)
    document = simple_types.document_id(document_id)
    w = XmlWriter()
    w.open(ROOT, f' xmlns:TrRsp="{NAMESPACE}"')

    # AcRec:TransmissionDataType (qualified: it is declared in the message schema).
    w.open("TrRsp:TransmissionData")
    w.leaf("DocumentID", document)
    w.leaf("CreatedDateTime", created)
    w.leaf("DocumentTypeCode", "Response")
    w.leaf("TransmissionType", "Original")
    w.open("Source")
    elements.party_organization(w, source or request.destination)
    w.close("Source")
    w.open("Destination")
    elements.party_organization(w, request.source)
    w.close("Destination")
    if request.process_code in {"PRODUCTION", "TEST"}:
        w.leaf("DocumentProcessCode", request.process_code)
    w.leaf("RequestTrackingID", tracking_id)
    w.leaf("NoteMessage", f"In response to TranscriptRequest document {request.document_id}")
    w.close("TrRsp:TransmissionData")

    recipients: Sequence[Recipient | None] = request.recipients or (None,)
    for recipient in recipients:
        # AcRec:ResponseType order: CreatedDateTime, RequestTrackingID, RecipientTrackingID,
        # ResponseStatus, ResponseHold (0..n), RequestedStudent.
        w.open("TrRsp:Response")
        w.leaf("CreatedDateTime", created)
        if recipient is None:
            w.leaf("RequestTrackingID", tracking_id)
        else:
            w.leaf("RequestTrackingID", recipient.request_tracking_id)
            w.leaf("RecipientTrackingID", recipient.recipient_tracking_id)
        w.leaf("ResponseStatus", status)
        for hold in holds:
            # AcRec:ResponseHoldType: HoldReason.
            w.open("ResponseHold")
            w.leaf("HoldReason", _HOLD_REASONS.get(hold.hold_type, "Other"))
            w.close("ResponseHold")
        _requested_student(w, request.student)
        w.close("TrRsp:Response")
    w.close(ROOT)
    return w.document()


def _requested_student(w: XmlWriter, student: RequestedStudent) -> None:
    # AcRec:RequestedStudentType: Person, Attendance (1..n), ReleaseAuthorizedIndicator,
    # ReleaseAuthorizedMethod.
    if not student.attendance:
        raise ValueError("a RequestedStudent needs at least one Attendance")
    w.open("RequestedStudent")
    # AcRec:PersonType order: SchoolAssignedPersonID, AgencyAssignedID, RecipientAssignedID,
    # Birth, Name.
    w.open("Person")
    w.leaf("SchoolAssignedPersonID", simple_types.identifier(student.school_assigned_id, 20))
    w.leaf("AgencyAssignedID", simple_types.identifier(student.state_id, 30))
    w.leaf("RecipientAssignedID", simple_types.identifier(student.recipient_assigned_id, 20))
    if student.birth_date is not None:
        w.open("Birth")
        w.leaf("BirthDate", simple_types.date(student.birth_date))
        w.close("Birth")
    elements.person_name(w, student.first_name, student.middle_names, student.last_name,
                         student.name_suffix)  # fmt: skip
    w.close("Person")
    for attendance in student.attendance:
        # AcRec:AttendanceType: School, EnrollDate, ExitDate, CurrentEnrollmentIndicator.
        w.open("Attendance")
        elements.party_school(w, attendance.school)
        if attendance.enroll_date is not None:
            w.leaf("EnrollDate", simple_types.date(attendance.enroll_date))
        if attendance.exit_date is not None:
            w.leaf("ExitDate", simple_types.date(attendance.exit_date))
        if attendance.currently_enrolled is not None:
            w.leaf("CurrentEnrollmentIndicator", str(attendance.currently_enrolled).lower())
        w.close("Attendance")
    w.leaf("ReleaseAuthorizedIndicator", str(student.release_authorized).lower())
    w.leaf("ReleaseAuthorizedMethod", student.release_authorized_method)
    w.close("RequestedStudent")
