"""/admin/api/v1/districts: list with search, add, read one, suspend and resume."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON, created, items, project
from gateway.admin.schemas import Field, fields_named, string
from gateway.control import districts

FIELDS = ("lea_code", "name", "kind", "status", "store", "created_at", "updated_at")
LIST_FIELDS = (*FIELDS, "active_credentials")

LIST_QUERY = {
    "q": string(100, description="Part of the LEA code or of the name, any case."),
}
ADD = {
    "lea_code": string(
        10,
        required=True,
        pattern=districts.LEA_AS_TYPED,
        pattern_problem=districts.LEA_PROBLEM,
        description="3 to 10 capital letters or digits (NC: 920 Wake County, 92F a charter).",
        example="920",
    ),
    "name": string(200, required=True, example="Wake County Schools"),
    "kind": Field("string", enum=districts.KINDS, default="lea"),
}
# districts.validate names the code `lea` (the CLI's --lea); the body calls it lea_code.
_NAMES = {"lea": "lea_code"}


def location(lea_code: str) -> str:
    return f"{PREFIX}/districts/{lea_code}"


async def list_districts(call: Call) -> Response:
    query = call.query(LIST_QUERY)
    async with call.db() as conn:
        rows = await districts.list_all(conn, query["q"] or "")
    return AdminJSON(items(rows, LIST_FIELDS))


async def add_district(call: Call) -> Response:
    body = await call.body(ADD)
    async with call.db() as conn:
        with fields_named(_NAMES):
            row = await districts.add(
                conn, body["lea_code"], body["name"], body["kind"], call.actor
            )
    return created(project(row, FIELDS), location(row["lea_code"]))


async def get_district(call: Call) -> Response:
    async with call.db() as conn:
        row = await districts.get(conn, call.param("lea"))
    return AdminJSON(project(row, FIELDS))


async def _set_status(call: Call, status: str) -> Response:
    await call.optional_body({})  # nothing to say; anything said is an unknown field
    async with call.db() as conn:
        row = await districts.set_status(conn, call.param("lea"), status, call.actor)
    return AdminJSON(project(row, FIELDS))


async def suspend_district(call: Call) -> Response:
    """No tokens and no transcripts for the district; every worker hears of it at once."""
    return await _set_status(call, "suspended")


async def resume_district(call: Call) -> Response:
    return await _set_status(call, "active")


def routes() -> list[Route]:
    return [
        operator_route("/districts", "GET", list_districts),
        operator_route("/districts", "POST", add_district),
        operator_route("/districts/{lea}", "GET", get_district),
        operator_route("/districts/{lea}/suspend", "POST", suspend_district),
        operator_route("/districts/{lea}/resume", "POST", resume_district),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: districts"
_LEA = docs.path_param("lea", "The district's LEA code.", "920")
_ONE = docs.ok("The district.", rep.DISTRICT, rep.DISTRICT_EXAMPLE)
_UNKNOWN = docs.not_found("district")


def _status_change(verb: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "parameters": [_LEA],
        "post": docs.operation(
            f"{verb}District",
            _TAG,
            summary,
            {"200": _ONE, "404": _UNKNOWN},
            description=description,
        ),
    }


def paths() -> dict[str, Any]:
    listed = {"items": [{**rep.DISTRICT_EXAMPLE, "active_credentials": 2}]}
    return {
        f"{PREFIX}/districts": {
            "get": docs.operation(
                "listDistricts",
                _TAG,
                "List districts, optionally searched by LEA code or name",
                {
                    "200": docs.ok(
                        "Districts by LEA code.", rep.listing(rep.DISTRICT_LISTED), listed
                    ),
                    "422": docs.invalid({"q": "At most 100 characters"}),
                },
                query=LIST_QUERY,
            ),
            "post": docs.operation(
                "addDistrict",
                _TAG,
                "Register a district (an LEA or a charter school)",
                {
                    "201": docs.created("Registered.", rep.DISTRICT, rep.DISTRICT_EXAMPLE),
                    "409": docs.conflict("The LEA code is taken.", "district 920 already exists"),
                    "422": docs.invalid(
                        {"lea_code": "LEA code: 3 to 10 capital letters or digits, e.g. 920 or 92F"}
                    ),
                },
                body=(ADD, {"lea_code": "920", "name": "Wake County Schools", "kind": "lea"}),
            ),
        },
        f"{PREFIX}/districts/{{lea}}": {
            "parameters": [_LEA],
            "get": docs.operation(
                "getDistrict", _TAG, "One district", {"200": _ONE, "404": _UNKNOWN}
            ),
        },
        f"{PREFIX}/districts/{{lea}}/suspend": _status_change(
            "suspend",
            "Suspend a district",
            "The district's credentials get no tokens and its transcripts are not released; "
            "every worker hears of it within moments. Audited. No body.",
        ),
        f"{PREFIX}/districts/{{lea}}/resume": _status_change(
            "resume", "Resume a suspended district", "Audited. No body."
        ),
    }
