"""A PESC TranscriptRequest 1.4.0 document, parsed safely into plain data.

`parse_transcript_request(data, max_bytes=..., pesc_dir=...)`:
1. parses as untrusted XML (`gateway.pesc.untrusted_xml`: size bound, no DOCTYPE, no entities,
   no network), refusing what is not well-formed;
2. checks the root is `TranscriptRequest` in the 1.4.0 namespace;
3. validates against the TranscriptRequest 1.4.0 schema when `pesc_dir` is given, refusing
   with `InvalidDocument` whose detail names the first problem's line and element;
4. reads the fields below, requiring what the schema requires of them, so that a request the
   schema would refuse is refused even when no schema directory is configured.

The document carries exactly one Request: a batch of requests is refused, because the gateway
answers each request with one transcript or one TranscriptResponse. SSNs (full or partial) are
never read. The schema has no date for the release authorization; `requested_at` (the
Request's CreatedDateTime) is when the request, and with it the authorization, was made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from lxml import etree

from gateway.pesc import schemas
from gateway.pesc.errors import DocumentTooLarge, InvalidDocument, MalformedDocument
from gateway.pesc.party import Party
from gateway.pesc.untrusted_xml import parse_untrusted

NAMESPACE: Final = "urn:org:pesc:message:TranscriptRequest:v1.4.0"
_ROOT: Final = f"{{{NAMESPACE}}}TranscriptRequest"
_TRANSMISSION_DATA: Final = f"{{{NAMESPACE}}}TransmissionData"
_REQUEST: Final = f"{{{NAMESPACE}}}Request"
_DATE: Final = re.compile(r"^(-?\d{4,}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")
# AcRec:ReleaseAuthorizedMethodType.
_RELEASE_METHODS: Final = frozenset(
    {"Signature", "ElectronicSignature", "LegitimateEducationalInterest", "Other"}
)
_PERSON_NAME_PARTS: Final = frozenset({"FirstName", "MiddleName", "LastName"})
_ID_ELEMENTS: Final = (
    ("opeid", "OPEID"),
    ("ipeds", "IPEDS"),
    ("atp", "ATP"),
    ("fice", "FICE"),
    ("act", "ACT"),
    ("ccd", "CCD"),
    ("ceeb", "CEEBACT"),
)


@dataclass(frozen=True)
class Attendance:
    """A school the student attends or attended (Attendance), as the requester knows it."""

    school: Party
    enroll_date: date | None
    exit_date: date | None
    currently_enrolled: bool | None


@dataclass(frozen=True)
class RequestedStudent:
    """Who the transcript is for (RequestedStudent/Person), and the release authorization.

    `state_id` is the AgencyAssignedID, or the AgencyIdentifier whose AgencyCode is 'State'.
    """

    state_id: str | None
    school_assigned_id: str | None
    recipient_assigned_id: str | None
    first_name: str | None
    middle_names: tuple[str, ...]
    last_name: str | None
    name_suffix: str | None
    birth_date: date | None
    attendance: tuple[Attendance, ...]
    release_authorized: bool
    release_authorized_method: str | None  # Signature, ElectronicSignature, ...


@dataclass(frozen=True)
class Recipient:
    """Where a copy goes (Recipient): the receiver and what the requester asked for."""

    request_tracking_id: str
    recipient_tracking_id: str | None
    receiver: Party
    purpose: str | None  # TranscriptPurpose: Admission, Scholarship, ...
    transcript_type: str | None
    delivery_methods: tuple[str, ...]
    electronic_format: str | None


@dataclass(frozen=True)
class TranscriptRequest:
    """One parsed TranscriptRequest. Source is the sender, destination the addressed school."""

    document_id: str
    created_at: datetime
    document_type: str
    transmission_type: str
    process_code: str | None  # PRODUCTION or TEST
    request_tracking_id: str | None  # TransmissionData/RequestTrackingID
    source: Party
    destination: Party
    requested_at: datetime
    requestor: Party | None
    student: RequestedStudent
    recipients: tuple[Recipient, ...]

    @property
    def tracking_id(self) -> str:
        """The id to echo: RequestTrackingID, else the first recipient's, else DocumentID."""
        if self.request_tracking_id:
            return self.request_tracking_id
        if self.recipients:
            return self.recipients[0].request_tracking_id
        return self.document_id

    @property
    def transcript_destination(self) -> Party:
        """Who the transcript is for: the first recipient, else the requestor, else the sender."""
        if self.recipients:
            return self.recipients[0].receiver
        return self.requestor or self.source


def parse_transcript_request(
    data: bytes,
    *,
    max_bytes: int,
    pesc_dir: Path | None = None,
    max_elements: int | None = None,
) -> TranscriptRequest:
    """The request in `data`, or a `gateway.pesc.errors` error naming what is wrong.

    DocumentTooLarge (413) over `max_bytes`, or over `max_elements` elements (counted before
    the schema runs: validation costs time in proportion to them, and a request that asks for
    one transcript needs a few dozen); MalformedDocument (400) for what is not a well-formed
    TranscriptRequest without DOCTYPE; InvalidDocument (422) for schema errors (only checked
    when `pesc_dir` is given) and for missing required parts.
    """
    # Before parsing, a bound from the bytes: every element opens with one "<" that is not
    # "</" (comments and the declaration count too, hence the slack). The exact count follows
    # the parse.
    if max_elements is not None and data.count(b"<") - data.count(b"</") > 2 * max_elements + 16:
        raise _too_many(max_elements)
    tree = parse_untrusted(data, max_bytes=max_bytes, what="TranscriptRequest")
    root = tree.getroot()
    if root.tag != _ROOT:
        raise MalformedDocument(
            f"Expected a TranscriptRequest in namespace {NAMESPACE}, got the root element "
            f"{root.tag!r}."
        )
    if max_elements is not None:
        for count, _ in enumerate(root.iter(), start=1):
            if count > max_elements:
                raise _too_many(max_elements)
    if pesc_dir is not None:
        errors = schemas.validate_tree(pesc_dir, "TranscriptRequest 1.4.0", tree)
        if errors:
            raise _schema_invalid(errors)
    try:
        return _transcript_request(root)
    except (ValueError, _Missing) as exc:
        line = exc.line if isinstance(exc, _Missing) else _line(root)
        raise InvalidDocument(
            {f"line {line}": str(exc)}, f"The TranscriptRequest is invalid: line {line}: {exc}"
        ) from None


def _too_many(max_elements: int) -> DocumentTooLarge:
    return DocumentTooLarge(
        f"The TranscriptRequest has more than {max_elements} elements;"
        " send one request per document."
    )


class _Missing(Exception):
    def __init__(self, parent: etree._Element, path: str) -> None:
        super().__init__(f"{_local(parent.tag)} has no {path}")
        self.line = _line(parent)


def _schema_invalid(errors: list[schemas.SchemaError]) -> InvalidDocument:
    by_line: dict[str, str] = {}
    for error in errors:
        key = f"line {error.line}"
        by_line[key] = f"{by_line[key]} {error.message}" if key in by_line else error.message
    more = f" ({len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidDocument(
        by_line,
        f"The TranscriptRequest does not conform to TranscriptRequest 1.4.0: {errors[0]}{more}",
    )


def _transcript_request(root: etree._Element) -> TranscriptRequest:
    data = _required(root, _TRANSMISSION_DATA)
    requests = root.findall(_REQUEST)
    if not requests:
        raise _Missing(root, "Request")
    if len(requests) > 1:
        raise ValueError(
            f"it holds {len(requests)} Request elements; send one Request per document"
        )
    request = requests[0]
    student = _required(request, "RequestedStudent")
    requestor = request.find("Requestor")
    return TranscriptRequest(
        document_id=_tracking_id(_required_text(data, "DocumentID")),
        created_at=_date_time(_required_text(data, "CreatedDateTime")),
        document_type=_required_text(data, "DocumentTypeCode"),
        transmission_type=_required_text(data, "TransmissionType"),
        process_code=_text(data, "DocumentProcessCode"),
        request_tracking_id=_optional_tracking_id(_text(data, "RequestTrackingID")),
        source=_organization(_required(data, "Source/Organization")),
        destination=_organization(_required(data, "Destination/Organization")),
        requested_at=_date_time(_required_text(request, "CreatedDateTime")),
        requestor=None if requestor is None else _receiver(requestor),
        student=_student(student),
        recipients=tuple(_recipient(r) for r in request.iterfind("Recipient")),
    )


def _student(element: etree._Element) -> RequestedStudent:
    # AcRec:RequestedStudentType: Person, Attendance (1..n), ReleaseAuthorizedIndicator,
    # ReleaseAuthorizedMethod. SSN and PartialSSN are deliberately not read.
    person = _required(element, "Person")
    name = _required(person, "Name")
    state_id = _text(person, "AgencyAssignedID")
    for agency in person.iterfind("AgencyIdentifier"):
        if _text(agency, "AgencyCode") == "State":
            state_id = _text(agency, "AgencyAssignedID") or state_id
    attendance = tuple(_attendance(a) for a in element.iterfind("Attendance"))
    if not attendance:
        raise _Missing(element, "Attendance")
    birth = _text(person, "Birth/BirthDate")
    return RequestedStudent(
        state_id=state_id,
        school_assigned_id=_text(person, "SchoolAssignedPersonID"),
        recipient_assigned_id=_text(person, "RecipientAssignedID"),
        first_name=_text(name, "FirstName"),
        middle_names=tuple(t for m in name.iterfind("MiddleName") if (t := _strip(m.text))),
        last_name=_text(name, "LastName"),
        name_suffix=_text(name, "NameSuffix"),
        birth_date=None if birth is None else _date(birth),
        attendance=attendance,
        release_authorized=_boolean(_required_text(element, "ReleaseAuthorizedIndicator")),
        release_authorized_method=_release_method(_text(element, "ReleaseAuthorizedMethod")),
    )


def _attendance(element: etree._Element) -> Attendance:
    school = _required(element, "School")
    _required_text(school, "OrganizationName")
    enrolled = _text(element, "EnrollDate")
    exited = _text(element, "ExitDate")
    current = _text(element, "CurrentEnrollmentIndicator")
    return Attendance(
        school=_organization(school),
        enroll_date=None if enrolled is None else _date(enrolled),
        exit_date=None if exited is None else _date(exited),
        currently_enrolled=None if current is None else _boolean(current),
    )


def _recipient(element: etree._Element) -> Recipient:
    # AcRec:RecipientType: RequestTrackingID, RecipientTrackingID, Receiver, TranscriptType,
    # TranscriptPurpose, DeliveryMethod (0..n), ElectronicDelivery/ElectronicFormat, ...
    return Recipient(
        request_tracking_id=_tracking_id(_required_text(element, "RequestTrackingID")),
        recipient_tracking_id=_optional_tracking_id(_text(element, "RecipientTrackingID")),
        receiver=_receiver(_required(element, "Receiver")),
        purpose=_text(element, "TranscriptPurpose"),
        transcript_type=_text(element, "TranscriptType"),
        delivery_methods=tuple(
            t for m in element.iterfind("DeliveryMethod") if (t := _strip(m.text))
        ),
        electronic_format=_text(element, "ElectronicDelivery/ElectronicFormat"),
    )


def _receiver(element: etree._Element) -> Party:
    """AcRec:RequestorReceiverType: a Person (named in `recipient`) or an organization."""
    organization = element.find("RequestorReceiverOrganization")
    if organization is not None:
        return _organization(organization)
    person = _required(element, "Person")
    name = person.find("Name")
    parts = [] if name is None else [n.text for n in name if n.tag in _PERSON_NAME_PARTS]
    return Party(recipient=" ".join(t for p in parts if (t := _strip(p))) or None)


def _organization(element: etree._Element) -> Party:
    """An Organization, School or RequestorReceiverOrganization: its first name and its ids."""
    ids = {field: _text(element, tag) for field, tag in _ID_ELEMENTS}
    try:
        return Party(name=_text(element, "OrganizationName"), **ids)
    except ValueError as exc:
        raise ValueError(f"{_local(element.tag)} (line {_line(element)}): {exc}") from None


def _required(parent: etree._Element, path: str) -> etree._Element:
    found = parent.find(path)
    if found is None:
        raise _Missing(parent, path)
    return found


def _required_text(parent: etree._Element, path: str) -> str:
    value = _text(parent, path)
    if value is None:
        raise _Missing(parent, path)
    return value


def _text(parent: etree._Element, path: str) -> str | None:
    return _strip(parent.findtext(path))


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _tracking_id(value: str) -> str:
    # core:DocumentIDType and RequestTrackingIDType: 1..35 characters. Checked here too, since
    # these are echoed in a TranscriptResponse that must be valid.
    if len(value) > 35:
        raise ValueError(f"the id {value[:40]!r}... is longer than 35 characters")
    return value


def _optional_tracking_id(value: str | None) -> str | None:
    return None if value is None else _tracking_id(value)


def _release_method(value: str | None) -> str | None:
    if value is not None and value not in _RELEASE_METHODS:
        raise ValueError(
            f"ReleaseAuthorizedMethod {value!r} is not one of {sorted(_RELEASE_METHODS)}"
        )
    return value


def _date(value: str) -> date:
    """xs:date, whose optional zone is dropped (a birth date is a calendar date)."""
    match = _DATE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an xs:date")
    return date.fromisoformat(match.group(1))


def _date_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an xs:dateTime") from None


def _boolean(value: str) -> bool:
    # xs:boolean's lexical space (XSD Part 2 §3.2.2.1).
    if value in {"true", "1"}:
        return True
    if value in {"false", "0"}:
        return False
    raise ValueError(f"{value!r} is not an xs:boolean")


def _line(element: etree._Element) -> int | None:
    line: object = element.sourceline  # lxml-stubs type it as "..."
    return line if isinstance(line, int) else None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]
