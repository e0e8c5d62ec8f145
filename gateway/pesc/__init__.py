"""PESC XML for the gateway: High School Transcripts out, TranscriptRequests in, responses.

    render_transcript(record, version=..., document_id=, created_at=, destination=, ...) -> bytes
    transcript_json(record, document_id=, created_at=, destination=, ...) -> dict
    parse_transcript_request(data, max_bytes=, pesc_dir=None) -> TranscriptRequest
    render_response(request, status=, document_id=, created_at=, source=None, holds=()) -> bytes
    school_party(school) -> Party     (a district school as the Source of a response)
    load_schema / validate / validate_tree / schemas_available   (schemas from settings.pesc_dir)

Rendering is pure and never validates; parsing treats its input as hostile. Errors for bad
documents are in `gateway.pesc.errors`, under the gateway's one exception tree.
"""

from __future__ import annotations

from gateway.pesc.elements import school_party
from gateway.pesc.errors import DocumentTooLarge, InvalidDocument, MalformedDocument
from gateway.pesc.hs_transcript import (
    DEFAULT_TRANSCRIPT_VERSION,
    NAMESPACES,
    TRANSCRIPT_VERSIONS,
    ProcessCode,
    TranscriptVersion,
    render_transcript,
    transcript_version,
)
from gateway.pesc.party import Party
from gateway.pesc.request import (
    Attendance,
    Recipient,
    RequestedStudent,
    TranscriptRequest,
    parse_transcript_request,
)
from gateway.pesc.response import ResponseStatus, render_response
from gateway.pesc.schemas import (
    SchemaError,
    SchemaName,
    load_schema,
    schemas_available,
    validate,
    validate_tree,
)
from gateway.pesc.transcript_json import transcript_json

__all__ = [
    "DEFAULT_TRANSCRIPT_VERSION",
    "NAMESPACES",
    "TRANSCRIPT_VERSIONS",
    "Attendance",
    "DocumentTooLarge",
    "InvalidDocument",
    "MalformedDocument",
    "Party",
    "ProcessCode",
    "Recipient",
    "RequestedStudent",
    "ResponseStatus",
    "SchemaError",
    "SchemaName",
    "TranscriptRequest",
    "TranscriptVersion",
    "load_schema",
    "parse_transcript_request",
    "render_response",
    "render_transcript",
    "schemas_available",
    "school_party",
    "transcript_json",
    "transcript_version",
    "validate",
    "validate_tree",
]
