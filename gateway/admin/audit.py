"""/admin/api/v1/audit: who did what, when, from where, and how it ended; newest first.

The reading (conditions, keyset paging) is `gateway.control.audit_log`, shared with the
console; this face only checks the query string and shapes the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON
from gateway.admin.schemas import Field, integer, moment_field, string
from gateway.control.audit_log import AuditFilter, AuditPage, read_audit
from gateway.control.districts import LEA_CODE
from gateway.errors import ValidationFailed

OUTCOMES = ("success", "failure", "denied")
ACTOR_TYPES = ("operator", "cli", "consumer", "district_user", "system", "anonymous")
MAX_LIMIT = 1000

QUERY = {
    "action": string(100, description="Exactly this action.", example="credential.issue"),
    "district": string(10, description="LEA code of the district concerned.", example="920"),
    "actor": string(
        320,
        description="Who acted: an operator credential's client id, a CLI user, a consumer's "
        "client id, a web user's email.",
    ),
    "actor_type": Field(
        "string",
        enum=ACTOR_TYPES,
        description="operator: the admin API and console; cli: the gateway command; consumer: "
        "the token endpoint (for any client, operator credentials included).",
    ),
    "outcome": Field("string", enum=OUTCOMES),
    "since": string(
        40, description="From this moment (ISO 8601); a date: from the start of that day, UTC."
    ),
    "until": string(40, description="Before this moment; a date: through that day, UTC."),
    "limit": integer(1, MAX_LIMIT, default=100),
    "before": integer(
        1, 2**63 - 1, description="Events older than this audit id (a page's next_before)."
    ),
}
FILTERS = ("action", "district", "actor", "actor_type", "outcome", "since", "until")


# --- pure -----------------------------------------------------------------------------------


def audit_filter(query: Mapping[str, Any]) -> AuditFilter:
    """The checked query string as a filter; 422 naming every bad parameter."""
    clean = dict(query)
    errors: dict[str, str] = {}
    clean["since"] = moment_field(clean, "since", errors)
    clean["until"] = moment_field(clean, "until", errors, end_of_day=True)
    if clean["district"] is not None:
        clean["district"] = clean["district"].strip().upper()
        if not LEA_CODE.match(clean["district"]):
            errors["district"] = "An LEA code: 3 to 10 capital letters or digits"
    if errors:
        raise ValidationFailed(errors)
    return AuditFilter(**{name: clean[name] for name in FILTERS})


def page(found: AuditPage, limit: int) -> dict[str, Any]:
    return {"items": found.rows, "limit": limit, "next_before": found.older}


# --- I/O ------------------------------------------------------------------------------------


async def list_audit(call: Call) -> Response:
    query = call.query(QUERY)
    wanted = audit_filter(query)
    async with call.db() as conn:
        found = await read_audit(conn, wanted, before=query["before"], limit=query["limit"])
    return AdminJSON(page(found, query["limit"]))


def routes() -> list[Route]:
    return [operator_route("/audit", "GET", list_audit)]


def paths() -> dict[str, Any]:
    return {
        f"{PREFIX}/audit": {
            "get": docs.operation(
                "listAuditEvents",
                "Admin: audit log",
                "Search the audit log, newest first",
                {
                    "200": docs.ok("One page of events.", rep.AUDIT_PAGE, rep.AUDIT_PAGE_EXAMPLE),
                    "422": docs.invalid({"since": "An ISO 8601 date (YYYY-MM-DD) or date-time"}),
                },
                description="Every operator action (console, CLI, this API), every token request "
                "and every sign-in, with who, when, from where and the outcome. Filters combine; "
                "page with limit and before (next_before): a cursor, so deep pages cost what the first does.",
                query=QUERY,
            )
        }
    }
