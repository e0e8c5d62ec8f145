"""/admin/api/v1/districts/{lea}/loads: load a district's data from a file, follow the load.

POST takes the file itself as the body (a CSV bundle as a zip, PESC transcripts as one XML
document or a zip of them), streams it to a temporary file and answers 202 with the load's id
while the load runs; GET .../loads/{load_id} tells its status, counts and first errors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON
from gateway.admin.schemas import Field, Spec, integer, string
from gateway.control import district_loads
from gateway.errors import NotFound
from tenants.directory import District
from tenants.loading import LoadRequest
from tenants.loading.uploads import SUFFIXES, UPLOAD_LIMIT, begin, save_upload, suffix_for

QUERY: Spec = {
    "format": Field(
        "string", enum=("csv", "pesc"), description="csv or pesc; default: told from the files."
    ),
    "mode": Field(
        "string",
        enum=("snapshot", "merge"),
        default="snapshot",
        description="snapshot: the district's students as of now; merge: only the "
        "students listed are replaced.",
    ),
    "dry_run": Field("boolean", default=False, description="Validate only; write nothing."),
    "filename": string(200, description="The file's name, shown in the load's record."),
}
LIST_QUERY: Spec = {"limit": integer(1, 100, default=20)}
FIELDS = (
    "load_id",
    "status",
    "requested_by",
    "requested_at",
    "finished_at",
    "source_name",
    "source_sha256",
    "source_bytes",
    "format",
    "mode",
    "dry_run",
    "counts",
    "error_count",
    "message",
)


def location(lea_code: str, load_id: UUID) -> str:
    return f"{PREFIX}/districts/{lea_code}/loads/{load_id}"


async def _district(call: Call) -> District:
    district = await call.services.directory.by_lea(call.param("lea").upper())
    if district is None:
        raise NotFound(f"no district {call.param('lea')}")
    return district


def representation(row: dict[str, Any], lea_code: str) -> dict[str, Any]:
    body = {key: row.get(key) for key in FIELDS}
    body["district"] = lea_code
    if "errors" in row:
        body["errors"] = row["errors"]
    body["links"] = {"self": location(lea_code, row["load_id"])}
    return body


async def create_load(call: Call) -> Response:
    district = await _district(call)
    wanted = call.query(QUERY)
    suffix = suffix_for(call.request.headers.get("content-type"))
    path = await save_upload(call.request.stream(), suffix)
    request = LoadRequest(
        path,
        wanted["format"],
        merge=wanted["mode"] == "merge",
        dry_run=bool(wanted["dry_run"]),
        source_name=wanted["filename"] or f"upload{suffix}",
    )
    try:
        load_id = await begin(
            call.services.stores, call.services.loads, district, request, call.actor
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    body = {
        "load_id": load_id,
        "district": district.lea_code,
        "status": "running",
        "links": {"self": location(district.lea_code, load_id)},
    }
    return AdminJSON(
        body, status_code=202, headers={"Location": location(district.lea_code, load_id)}
    )


def _load_id(call: Call) -> UUID:
    try:
        return UUID(call.param("load_id"))
    except ValueError:
        raise NotFound(f"no load {call.param('load_id')}") from None


async def get_load(call: Call) -> Response:
    district = await _district(call)
    async with call.db() as conn:
        row = await district_loads.get(conn, district.id, _load_id(call))
    if row is None:
        raise NotFound(f"no load {call.param('load_id')} of district {district.lea_code}")
    return AdminJSON(representation(row, district.lea_code))


async def list_loads(call: Call) -> Response:
    district = await _district(call)
    wanted = call.query(LIST_QUERY)
    async with call.db() as conn:
        rows = await district_loads.recent(conn, district.id, wanted["limit"])
    return AdminJSON({"items": [representation(r, district.lea_code) for r in rows]})


def routes() -> list[Route]:
    return [
        operator_route("/districts/{lea}/loads", "POST", create_load, max_body_size=UPLOAD_LIMIT),
        operator_route("/districts/{lea}/loads", "GET", list_loads),
        operator_route("/districts/{lea}/loads/{load_id}", "GET", get_load),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: district data"
_ERROR = {
    "type": "object",
    "properties": {
        k: {"type": ["string", "integer", "null"]}
        for k in ("file", "line", "column", "value", "reason")
    },
}
LOAD = {
    "type": "object",
    "properties": {
        "load_id": {"type": "string", "format": "uuid"},
        "district": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["running", "succeeded", "validated", "unchanged", "rejected", "failed"],
        },
        "requested_by": {"type": "string"},
        "requested_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "source_name": {"type": "string"},
        "source_sha256": {"type": ["string", "null"]},
        "source_bytes": {"type": ["integer", "null"]},
        "format": {"type": ["string", "null"], "enum": ["csv", "pesc", None]},
        "mode": {"type": "string", "enum": ["snapshot", "merge"]},
        "dry_run": {"type": "boolean"},
        "counts": {
            "type": "object",
            "description": "rows per table, students_listed, "
            "students_new, students_current, students_not_current, and per table "
            "rows_written (inserted or changed) and rows_deleted (no longer in the files), "
            "sessions_renumbered (sessions the files number otherwise than the store, matched "
            "by school, year and term)",
        },
        "error_count": {"type": "integer"},
        "errors": {"type": "array", "items": _ERROR, "description": "The first 1,000."},
        "message": {"type": ["string", "null"]},
        "links": {"type": "object"},
    },
}
LISTED = {
    "type": "object",
    "properties": {k: v for k, v in LOAD["properties"].items() if k != "errors"},  # type: ignore[attr-defined]
}
ACCEPTED = {
    "type": "object",
    "properties": {
        k: LOAD["properties"][k]  # type: ignore[index]
        for k in ("load_id", "district", "status", "links")
    },
}
EXAMPLE_ID = "5b0c1f8e-2f6d-4c1a-9a55-0d1b6f0e2a11"
EXAMPLE: dict[str, Any] = {
    "load_id": EXAMPLE_ID,
    "district": "920",
    "status": "rejected",
    "requested_by": "operator:op-5f2c",
    "requested_at": "2026-06-01T02:00:00Z",
    "finished_at": "2026-06-01T02:00:04Z",
    "source_name": "wake-2026-06-01.zip",
    "source_sha256": "9f2b" + "0" * 60,
    "source_bytes": 1843221,
    "format": "csv",
    "mode": "snapshot",
    "dry_run": False,
    "counts": {"rows": {"students": 1000, "course_records": 19873}, "students_listed": 1000},
    "error_count": 1,
    "errors": [
        {
            "file": "wake-2026-06-01.zip:course_records.csv",
            "line": 4012,
            "column": "grade",
            "value": "Z",
            "reason": "not a grade (A, B+, C-, F, 93, P, W or IP)",
        }
    ],
    "message": "1 errors; nothing was written",
    "links": {"self": f"{PREFIX}/districts/920/loads/5b0c1f8e-2f6d-4c1a-9a55-0d1b6f0e2a11"},
}


def _create() -> dict[str, Any]:
    op = docs.operation(
        "createDistrictLoad",
        _TAG,
        "Load a district's data from a CSV bundle (zip) or PESC transcripts",
        {
            "202": {
                "description": "Accepted: the load runs; poll its link for the outcome.",
                "headers": {"Location": {"description": "The load.", "schema": {"type": "string"}}},
                "content": {
                    "application/json": {
                        "schema": ACCEPTED,
                        "example": {
                            "load_id": EXAMPLE["load_id"],
                            "district": "920",
                            "status": "running",
                            "links": EXAMPLE["links"],
                        },
                    }
                },
            },
            "400": docs.problem("The body is empty."),
            "404": docs.not_found("district"),
            "413": docs.problem(f"The body is over {UPLOAD_LIMIT // 1024**2} MiB."),
            "415": docs.problem("Not application/zip or application/xml."),
            "422": docs.invalid({"mode": "One of snapshot, merge"}),
        },
        description="The file is the body. Validated whole first (every error with file, "
        "line or XPath, column, value and reason); applied in one transaction, or not at all. "
        "See docs/data-formats.md. Audited (`district.load`).",
        query=QUERY,
    )
    op["requestBody"] = {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}} for media in SUFFIXES
        },
    }
    return op


def paths() -> dict[str, Any]:
    lea = docs.path_param("lea", "The district's LEA code.", "920")
    load_id = docs.path_param("load_id", "The load's id.", EXAMPLE_ID, format="uuid")
    return {
        f"{PREFIX}/districts/{{lea}}/loads": {
            "parameters": [lea],
            "post": _create(),
            "get": docs.operation(
                "listDistrictLoads",
                _TAG,
                "The district's latest loads, newest first",
                {
                    "200": docs.ok(
                        "Newest first, without their errors.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": LISTED}},
                        },
                        {"items": [{k: v for k, v in EXAMPLE.items() if k != "errors"}]},
                    ),
                    "404": docs.not_found("district"),
                },
                query=LIST_QUERY,
            ),
        },
        f"{PREFIX}/districts/{{lea}}/loads/{{load_id}}": {
            "parameters": [lea, load_id],
            "get": docs.operation(
                "getDistrictLoad",
                _TAG,
                "One load: status, counts and the first 1,000 errors",
                {"200": docs.ok("The load.", LOAD, EXAMPLE), "404": docs.not_found("load")},
            ),
        },
    }
