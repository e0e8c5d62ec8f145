"""GET and POST /api/v1/districts/{lea}/etranscripts: a student's transcript, and its disclosure.

Every answer that carries a transcript is preceded, in the same database transaction as the
read, by the disclosure row that 34 CFR 99.32 requires; the response is sent only after that
transaction commits. A request refused because of a hold is recorded too (FERPA records
requests as well as disclosures).

Refusals that could reveal whether a student exists are all the same 404: unknown student,
a student of another district, a failed birth-date or last-name check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api import identity, negotiation
from gateway.audit import Actor, AuditEvent
from gateway.body_limit import body_limit
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound, UnsupportedMediaType
from gateway.ferpa import CONSENT_BASIS, DEFAULT_BASIS, DEFAULT_PURPOSE, LEGAL_BASES, STUDENT_ID
from gateway.metrics import DISCLOSURES
from gateway.oauth.bearer import TokenContext
from gateway.pesc import (
    DEFAULT_TRANSCRIPT_VERSION,
    Party,
    parse_transcript_request,
    render_response,
    render_transcript,
    transcript_json,
    transcript_version,
)
from gateway.pesc.hs_transcript import TranscriptVersion
from gateway.pesc.request import TranscriptRequest
from gateway.pesc.response import ResponseStatus
from gateway.pesc.schemas import schemas_available
from gateway.request_context import client_address, services
from tenants.directory import District
from tenants.queries import disclosures, transcripts
from tenants.queries.disclosures import DisclosureRow
from tenants.records import Hold, StudentRecord
from tenants.transaction import tenant_transaction

if TYPE_CHECKING:
    from gateway.services import Services

log = structlog.stdlib.get_logger("gateway.security")

SCOPE = "etranscripts"
NO_STORE = {"Cache-Control": "no-store"}


async def authorize(request: Request, lea: str) -> tuple[TokenContext, District]:
    """The caller's token must name this district, and the district must be active."""
    svc = services(request)
    context = await svc.bearer.authenticate(request.headers.get("authorization"), SCOPE)
    district = context.district
    if district is None:
        # An operator credential granted the consumer scope: it names no district, so it
        # reads none (a 403, not an assertion's 500).
        raise Forbidden("This credential belongs to no district; use a district's credential.")
    request.scope.setdefault("state", {})["district"] = district.lea_code
    if district.lea_code != lea:
        address = client_address(request)
        # Only a district we know is named, in the audit and the log: the path is the
        # caller's text (student ids were seen here), so an unknown one is kept as its length.
        known = lea if svc.directory.cached(lea) is not None else None
        svc.audit.add(
            AuditEvent(
                Actor("consumer", context.credential.client_id, address, request.state.request_id),
                "transcript.cross_district",
                "denied",
                district.id,
                known,
                {"token_district": district.lea_code, "path_district_length": len(lea)},
            )
        )
        log.warning(
            "security_event",
            kind="cross_district",
            client_id=context.credential.client_id,
            token_district=district.lea_code,
            path_district=known,
            path_district_length=len(lea),
        )
        raise Forbidden("This credential reads its own district only.")
    if not district.active:
        raise Forbidden(f"District {lea} is suspended: no transcripts are released.")
    return context, district


@dataclass(frozen=True)
class Release:
    """How a transcript leaves: format, recipient, purpose, and who asked."""

    media_type: str  # application/xml or application/json
    pesc_version: TranscriptVersion
    destination: Party
    recipient: str
    purpose: str
    legal_basis: str
    request_tracking_id: str | None
    context: TokenContext


@dataclass(frozen=True)
class Served:
    body: bytes
    media_type: str
    document_id: str
    sha256: str


def render(record: StudentRecord, release: Release, document_id: str, now: datetime) -> bytes:
    if release.media_type == negotiation.JSON:
        document = transcript_json(
            record,
            document_id=document_id,
            created_at=now,
            destination=release.destination,
            request_tracking_id=release.request_tracking_id,
        )
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return render_transcript(
        record,
        version=release.pesc_version,
        document_id=document_id,
        created_at=now,
        destination=release.destination,
        request_tracking_id=release.request_tracking_id,
    )


def disclosure(release: Release, student_id: str, event: str, **fields: Any) -> DisclosureRow:
    credential = release.context.credential
    return DisclosureRow(
        student_id=student_id,
        event=event,
        channel="api",
        consumer_id=credential.consumer_id,
        consumer_name=credential.consumer_name or credential.client_id,
        client_id=credential.client_id,
        recipient=release.recipient,
        purpose=release.purpose,
        legal_basis=release.legal_basis,
        request_tracking_id=release.request_tracking_id,
        **fields,
    )


class OnHold(Conflict):
    """409: an active hold stops the release (the request itself is recorded)."""

    slug = "transcript-on-hold"
    title = "Transcript on hold"

    def __init__(self, holds: tuple[Hold, ...]) -> None:
        kinds = sorted({h.hold_type for h in holds})
        super().__init__(
            f"The district holds this transcript ({', '.join(kinds)} hold).",
            extra={"hold_types": kinds},
        )
        self.holds = holds


async def serve(
    svc: Services,
    district: District,
    student_id: str,
    release: Release,
    asked_last_name: str | None = None,
    asked_birth_date: date | None = None,
) -> Served:
    """Read, render, record, commit; then (and only then) the caller may send the bytes."""
    now = datetime.now(UTC)
    refusal: OnHold | None = None
    async with tenant_transaction(svc.stores, district) as tx:
        record = await transcripts.student_record(tx, student_id)
        if record is None or not identity.identity_matches(
            last_name=record.student.last_name,
            birth_date=record.student.birth_date,
            asked_last_name=asked_last_name,
            asked_birth_date=asked_birth_date,
        ):
            raise NotFound("No transcript is available for this student.")
        if record.on_hold:
            await disclosures.record_disclosure(
                tx,
                disclosure(
                    release,
                    student_id,
                    "refused_hold",
                    detail=",".join(sorted({h.hold_type for h in record.active_holds})),
                ),
            )
            refusal = OnHold(record.active_holds)
        else:
            document_id = uuid.uuid4().hex
            body = render(record, release, document_id, now)
            digest = hashlib.sha256(body).hexdigest()
            version = "json" if release.media_type == negotiation.JSON else release.pesc_version
            await disclosures.record_disclosure(
                tx,
                disclosure(
                    release,
                    student_id,
                    "disclosed",
                    document_id=document_id,
                    document_sha256=digest,
                    pesc_version=version,
                ),
            )
    # Committed: the record of this request exists.
    if refusal is not None:
        DISCLOSURES.labels("refused_hold", "api").inc()
        raise refusal
    DISCLOSURES.labels("disclosed", "api").inc()
    return Served(body, release.media_type, document_id, digest)


def transcript_response(served: Served) -> Response:
    digest = base64.b64encode(bytes.fromhex(served.sha256)).decode()
    headers = {
        **NO_STORE,
        "X-Document-ID": served.document_id,
        "Repr-Digest": f"sha-256=:{digest}:",  # RFC 9530: what the disclosure row recorded
    }
    media = served.media_type + ("; charset=utf-8" if served.media_type == negotiation.XML else "")
    return Response(served.body, media_type=media, headers=headers)


def _param_date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date, YYYY-MM-DD.") from None


def _text(value: str | None, name: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise BadRequest(f"{name} must be at most {limit} printable characters.")
    return value or None


def _version(value: str | None) -> TranscriptVersion:
    try:
        return transcript_version(value or DEFAULT_TRANSCRIPT_VERSION)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def _basis(value: str | None) -> str:
    key = value or DEFAULT_BASIS
    if key not in LEGAL_BASES:
        raise BadRequest(f"legal_basis must be one of {', '.join(LEGAL_BASES)}.")
    return LEGAL_BASES[key]


async def get_transcript(request: Request) -> Response:
    lea = request.path_params["lea"]
    student_id = request.path_params["student_id"]
    context, district = await authorize(request, lea)
    q = request.query_params
    media_type = negotiation.choose(request.headers.get("accept"))
    recipient_name = _text(q.get("recipient"), "recipient")
    consumer = context.credential.consumer_name or context.credential.client_id
    release = Release(
        media_type=media_type,
        pesc_version=_version(q.get("pesc_version")),
        destination=Party(name=recipient_name or consumer),
        recipient=recipient_name or consumer,
        purpose=_text(q.get("purpose"), "purpose") or DEFAULT_PURPOSE,
        legal_basis=_basis(q.get("legal_basis")),
        request_tracking_id=_text(q.get("request_tracking_id"), "request_tracking_id", 35),
        context=context,
    )
    asked_birth = _param_date(q.get("birth_date"), "birth_date")
    asked_last = _text(q.get("last_name"), "last_name", 100)
    if not STUDENT_ID.match(student_id):
        raise NotFound("No transcript is available for this student.")
    served = await serve(services(request), district, student_id, release, asked_last, asked_birth)
    return transcript_response(served)


def _xml_response(body: bytes, status: int = 200) -> Response:
    return Response(
        body, status_code=status, media_type="application/xml; charset=utf-8", headers=NO_STORE
    )


async def post_request(request: Request) -> Response:
    """A PESC TranscriptRequest 1.4.0 in; the transcript, or a TranscriptResponse, out."""
    lea = request.path_params["lea"]
    context, district = await authorize(request, lea)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in ("application/xml", "text/xml"):
        raise UnsupportedMediaType("Send the TranscriptRequest as application/xml.")
    svc = services(request)
    pesc_dir = svc.settings.pesc_dir if schemas_available(svc.settings.pesc_dir) else None
    # Off the event loop, a bounded number at once, and bounded in elements (issue 12: one
    # large request parsed on the loop stalled every other request of the worker).
    parsed = await svc.documents.run(
        partial(
            parse_transcript_request,
            await request.body(),
            max_bytes=svc.settings.max_document_bytes,
            pesc_dir=pesc_dir,
            max_elements=svc.settings.max_document_elements,
        )
    )
    version = _version(request.query_params.get("pesc_version"))
    destination = parsed.transcript_destination
    release = Release(
        media_type=negotiation.XML,
        pesc_version=version,
        destination=destination,
        recipient=_party_label(destination),
        purpose=(
            parsed.recipients[0].purpose
            if parsed.recipients and parsed.recipients[0].purpose
            else DEFAULT_PURPOSE
        ),
        legal_basis=LEGAL_BASES[CONSENT_BASIS]
        if parsed.student.release_authorized
        else LEGAL_BASES[DEFAULT_BASIS],
        request_tracking_id=parsed.tracking_id[:35],
        context=context,
    )
    async with tenant_transaction(svc.stores, district, readonly=True) as tx:
        asked = parsed.student
        found = await transcripts.candidates(
            tx,
            state_id=asked.state_id,
            local_id=asked.school_assigned_id,
            birth_date=asked.birth_date,
        )
    matches = identity.match_requested(found, parsed.student)
    if not matches:
        return await _response_document(svc, parsed, "NoRecord")
    if len(matches) > 1:
        return await _response_document(svc, parsed, "MultipleMatch")
    student_id = matches[0].student_id
    if not parsed.student.release_authorized:
        await _record_refusal(svc, district, release, student_id, "refused_not_authorized")
        return await _response_document(svc, parsed, "Canceled")
    try:
        served = await serve(svc, district, student_id, release)
    except OnHold as held:
        return await _response_document(svc, parsed, "Hold", held.holds)
    except NotFound:  # gone between the match and the read
        return await _response_document(svc, parsed, "NoRecord")
    return transcript_response(served)


async def _record_refusal(
    svc: Services, district: District, release: Release, student_id: str, event: str
) -> None:
    async with tenant_transaction(svc.stores, district) as tx:
        await disclosures.record_disclosure(tx, disclosure(release, student_id, event))
    DISCLOSURES.labels(event, "api").inc()


async def _response_document(
    svc: Services, parsed: TranscriptRequest, status: ResponseStatus, holds: tuple[Hold, ...] = ()
) -> Response:
    # One Response per Recipient: rendered off the event loop like the request was parsed.
    body = await svc.documents.run(
        partial(
            render_response,
            parsed,
            status=status,
            document_id=uuid.uuid4().hex,
            created_at=datetime.now(UTC),
            holds=holds,
        )
    )
    return _xml_response(body)


def _party_label(party: Party) -> str:
    """A human-readable recipient for the disclosure log."""
    ids = [
        f"{k.upper()} {v}"
        for k, v in party.as_dict().items()
        if v and k not in ("name", "recipient")
    ]
    label = party.name or party.recipient or "unnamed recipient"
    return f"{label} ({', '.join(ids)})" if ids else label


def routes(max_document_bytes: int) -> list[Route]:
    return [
        Route("/api/v1/districts/{lea}/etranscripts/{student_id}", get_transcript, methods=["GET"]),
        Route(
            "/api/v1/districts/{lea}/etranscripts",
            post_request,
            methods=["POST"],
            middleware=body_limit(max_document_bytes),
        ),
    ]
