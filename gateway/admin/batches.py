"""/admin/api/v1/districts/{lea}/batches and /admin/api/v1/batches: queue a batch release
for one district and one outgoing connection, follow it, and read its eTranscript Batch Report.

A batch names its students by id (`student_ids`, at most what a 64 KiB body holds: a few
thousand) or by graduation year (`cohort`). Queueing resolves them in the district's data and
audits `release.queue` under the operator credential; a release worker then delivers them.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import batch_representations as rep
from gateway.admin import docs
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON, created
from gateway.admin.representations import listing
from gateway.admin.schemas import (
    Field,
    Spec,
    check_object,
    decode_json,
    fields_named,
    integer,
    string,
)
from gateway.errors import BadRequest, NotFound, ValidationFailed
from gateway.ferpa import DEFAULT_BASIS, DEFAULT_PURPOSE, LEGAL_BASES, STUDENT_ID
from gateway.outgoing.batches import BatchRequest, queue_batch
from gateway.outgoing.report import list_batches, load_report
from gateway.pesc import DEFAULT_TRANSCRIPT_VERSION, TRANSCRIPT_VERSIONS

BODY: Spec = {
    "connection_id": string(
        200,
        required=True,
        description="The outgoing connection: its id, or its name within the district.",
        example="0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10",
    ),
    "cohort": integer(
        1990,
        2100,
        nullable=True,
        description="Every student graduating this year (instead of student_ids).",
    ),
    "purpose": string(200, default=DEFAULT_PURPOSE, description="For the disclosure log."),
    "legal_basis": Field(
        "string",
        enum=tuple(LEGAL_BASES),
        default=DEFAULT_BASIS,
        description="34 CFR 99.31(a)(2) (enrollment elsewhere) or 99.30 (written consent).",
    ),
    "pesc_version": Field("string", enum=TRANSCRIPT_VERSIONS, default=DEFAULT_TRANSCRIPT_VERSION),
}
STUDENT_IDS = {
    "type": ["array", "null"],
    "items": {"type": "string", "pattern": STUDENT_ID.pattern, "maxLength": 30},
    "description": "State student ids (instead of cohort); duplicates count once.",
}
QUERY: Spec = {
    "district": string(20, description="Only this district's batches (LEA code)."),
    "limit": integer(1, 1000, default=100),
}
# The back end's names for what the API calls otherwise.
_NAMES = {"connection": "connection_id", "cohort_year": "cohort", "students": "student_ids"}


def _student_ids(value: Any) -> tuple[tuple[str, ...], str | None]:
    """The ids, or a reason they are not a list of strings (their shape is checked later)."""
    if value is None:
        return (), None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return (), "Must be an array of strings"
    return tuple(value), None


def batch_request(data: Any) -> BatchRequest:
    """The body as a request; every problem of shape at once (422), meaning comes later."""
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    ids, problem = _student_ids(data.get("student_ids"))
    errors = {"student_ids": problem} if problem else {}
    try:
        clean = check_object({k: v for k, v in data.items() if k != "student_ids"}, BODY)
    except ValidationFailed as exc:
        errors = exc.errors | errors
    if errors:
        raise ValidationFailed(errors)
    return BatchRequest(
        connection=clean["connection_id"],
        student_ids=ids,
        cohort_year=clean["cohort"],
        purpose=clean["purpose"],
        legal_basis=clean["legal_basis"],
        pesc_version=clean["pesc_version"],
    )


def _batch_id(call: Call) -> int:
    text = call.param("batch_id")
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(f"no batch {text}")
    return int(text)


async def queue(call: Call) -> Response:
    content_type = call.request.headers.get("content-type")
    wanted = batch_request(decode_json(content_type, await call.request.body()))
    district = await call.services.directory.by_lea(call.param("lea").upper())
    if district is None:
        raise NotFound(f"no district {call.param('lea')}")
    async with call.db() as conn:
        with fields_named(_NAMES):
            try:
                row = await queue_batch(conn, call.services.stores, district, wanted, call.actor)
            except NotFound as exc:  # the district has no such connection: a field's fault
                raise ValidationFailed({"connection": exc.detail or "Unknown"}) from None
    return created(rep.queued(row), f"{PREFIX}/batches/{row['batch_id']}")


async def get_batch(call: Call) -> Response:
    async with call.db() as conn:
        report = await load_report(conn, _batch_id(call))
    return AdminJSON(rep.report(report))


async def list_all(call: Call) -> Response:
    wanted = call.query(QUERY)
    async with call.db() as conn:
        rows = await list_batches(conn, lea_code=wanted["district"], limit=wanted["limit"])
    return AdminJSON({"items": [rep.listed(r) for r in rows]})


def routes() -> list[Route]:
    return [
        operator_route("/districts/{lea}/batches", "POST", queue),
        operator_route("/batches", "GET", list_all),
        operator_route("/batches/{batch_id}", "GET", get_batch),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: batch releases"


def _queue_operation() -> dict[str, Any]:
    example = {"connection_id": rep.BATCH_EXAMPLE["connection_id"], "student_ids": ["1000000001"]}
    op = docs.operation(
        "queueBatch",
        _TAG,
        "Queue a batch release for a district, through one of its outgoing connections",
        {
            "201": docs.created(
                "Queued: every student counted as queued.", rep.BATCH, rep.QUEUED_EXAMPLE
            ),
            "404": docs.not_found("district"),
            "409": docs.conflict(
                "The district is suspended, or the connection's latest test is not valid for "
                "its current values, or it is retired (`connection-not-ready`): nothing is "
                "queued; the detail says why and how to fix it.",
                "Batches are sent only through a connection whose latest test is valid, and "
                "'Parchment' cannot be used: it has never been tested. Test it (the Test button "
                "on its page, `gateway vendor test 0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10`, or POST "
                "/admin/api/v1/outgoing/0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10/test), then queue "
                "the batch once the test says “Your connection is valid”.",
            ),
            "422": docs.invalid(
                {
                    "selection": "Give either student ids or a cohort (graduation year), not both",
                    "student_ids": "2 not students of district 920: 1000000009, 1000000010",
                }
            ),
        },
        description="Give `student_ids` or `cohort`, not both. Unknown students, an empty "
        "cohort or a connection the district does not have are 422. Students on hold are "
        "not sent: their lines fail with reason `hold`. A batch follows a valid test: the "
        "connection's latest test passed and it was not changed since. Audited "
        "(`release.queue`).",
        body=(BODY, example),
    )
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    schema["properties"]["student_ids"] = STUDENT_IDS
    return op


def _lists() -> dict[str, Any]:
    return {
        "get": docs.operation(
            "listBatches",
            _TAG,
            "Batch releases, newest first, with their counts",
            {
                "200": docs.ok("Newest first.", listing(rep.BATCH), {"items": [rep.BATCH_EXAMPLE]}),
                "422": docs.invalid({"limit": "An integer from 1 to 1000"}),
            },
            query=QUERY,
        )
    }


def _one() -> dict[str, Any]:
    batch_id = docs.path_param("batch_id", "The batch's number.", "42", pattern="^[0-9]+$")
    return {
        "parameters": [batch_id],
        "get": docs.operation(
            "getBatch",
            _TAG,
            "A batch's eTranscript Batch Report: counts and one line per student",
            {
                "200": docs.ok("The report.", rep.REPORT, rep.REPORT_EXAMPLE),
                "404": docs.not_found("batch"),
            },
            description="Poll it while the batch runs: `done` of `total` are settled.",
        ),
    }


def paths() -> dict[str, Any]:
    lea = docs.path_param("lea", "The district's LEA code.", "920")
    return {
        f"{PREFIX}/districts/{{lea}}/batches": {"parameters": [lea], "post": _queue_operation()},
        f"{PREFIX}/batches": _lists(),
        f"{PREFIX}/batches/{{batch_id}}": _one(),
    }
