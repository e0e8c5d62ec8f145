"""/admin/api/v1/districts/{lea}/outgoing and /admin/api/v1/outgoing/{connection_id}: a
district's connections to its transcript vendors.

The consumer secret and the password are write-only: they go in (encrypted at rest by the
repository) and come out only as a mask. On PUT an absent or empty secret keeps the stored one,
as in the console's editor, so a script can change a path without knowing the password.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON, created, project
from gateway.admin.schemas import Field, integer, string
from gateway.control import districts, vendors
from gateway.control.vendors import MASK, ConnectionInput
from gateway.errors import Conflict, NotFound

FIELDS = (
    "connection_id",
    "lea_code",
    "name",
    "auth_server",
    "auth_path",
    "auth_url",
    "upload_server",
    "upload_port",
    "upload_path",
    "upload_url",
    "consumer_key",
    "username",
    "grant_type",
    "last_test_at",
    "last_test_ok",
    "last_test_message",
    "created_at",
    "updated_at",
    "status",
    "retired_at",
    "batches",
    "batch_refusal",
)
_OUT_NAMES = {"lea_code": "district"}


def _secret(updating: bool, note: str) -> Field:
    """Required and non-empty on POST; on PUT absent, null or "" keeps the stored one (so no
    minLength there, and no default: absent is null)."""
    return string(
        1000,
        required=not updating,
        min_length=None if updating else 1,
        nullable=updating,
        write_only=True,
        description=note,
    )


def _server(field: str) -> Field:
    """Auth Server or Upload Server: an http(s) URL of a host, as `vendors.validate` checks."""
    return string(
        500,
        required=True,
        format="uri",
        pattern=vendors.SERVER_AS_TYPED,
        pattern_problem=f"A URL with scheme and host, e.g. {vendors.EXAMPLES[field]}",
        description="Scheme and host only.",
        example=vendors.EXAMPLES[field],
    )


def _path(field: str, **options: Any) -> Field:
    """Auth Path or Upload Path, as `vendors.validate` checks it."""
    return string(
        500,
        required=True,
        pattern=vendors.PATH_AS_TYPED,
        pattern_problem=f"A path, e.g. {vendors.EXAMPLES[field]}",
        **options,
    )


def _spec(*, updating: bool) -> dict[str, Field]:
    """The ten fields of the console's editor, and the grant type. Secrets are required on
    POST only; their meaning (URL shapes, path syntax) is checked by `vendors.validate`."""
    secret_note = "Write-only." + (" Absent, null or empty: unchanged." if updating else "")
    return {
        "name": string(200, required=True, example="Parchment"),
        "auth_server": _server("auth_server"),
        "auth_path": _path("auth_path", example="/oauth/token"),
        "upload_server": _server("upload_server"),
        "upload_port": integer(1, 65535, required=True, example=443),
        "upload_path": _path(
            "upload_path",
            description="As the vendor gives it; a missing leading / is added.",
            example="send-library-api/v1/pesc/highschool/transcript/1/3/0",
        ),
        "consumer_key": string(500, required=True, example="gateway-nc"),
        "consumer_secret": _secret(updating, secret_note),
        "username": string(100, required=True, example="ncdpi-920"),
        "password": _secret(updating, secret_note),
        "grant_type": Field(
            "string",
            enum=vendors.GRANT_TYPES,
            default="password",
            description="How the gateway gets the vendor's token (OAuth password grant, "
            "or client credentials).",
        ),
    }


ADD = _spec(updating=False)
UPDATE = _spec(updating=True)


# --- pure helpers ---------------------------------------------------------------------------


def connection_input(body: dict[str, Any]) -> ConnectionInput:
    """The checked body as the repository's input; a null secret on PUT means unchanged."""
    secrets = {k: body[k] or "" for k in ("consumer_secret", "password")}
    return ConnectionInput(**{**body, **secrets})


def parse_id(text: str) -> UUID:
    """A malformed id names no connection: 404, like an unknown one."""
    try:
        return UUID(text)
    except ValueError:
        raise NotFound("no such outgoing connection") from None


def name_taken(existing: list[dict[str, Any]], name: str, keep: UUID | None = None) -> bool:
    """Whether another connection of the district already has this name. Checked here so that
    the API answers 409; the repository's unique constraint still decides a race (as a 422)."""
    wanted = name.strip()
    return any(c["name"] == wanted and c["connection_id"] != keep for c in existing)


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """Masked here whatever the row holds: the repository masks too, but a secret must not
    depend on one layer remembering."""
    return {**project(row, FIELDS, _OUT_NAMES), "consumer_secret": MASK, "password": MASK}


def location(connection_id: Any) -> str:
    return f"{PREFIX}/outgoing/{connection_id}"


def _duplicate(name: str) -> Conflict:
    return Conflict(f"This district already has an outgoing connection named {name.strip()!r}.")


# --- handlers -------------------------------------------------------------------------------


def _insecure_allowed(call: Call) -> bool:
    # Plain http to a vendor only outside production (test vendors on loopback).
    return call.settings.env != "production"


async def list_outgoing(call: Call) -> Response:
    call.query({})
    async with call.db() as conn:
        district = await districts.get(conn, call.param("lea"))
        rows = await vendors.list_connections(conn, district["lea_code"])
    return AdminJSON({"items": [shown(r) for r in rows]})


async def add_outgoing(call: Call) -> Response:
    body = await call.body(ADD)
    async with call.db() as conn:
        district = await districts.get(conn, call.param("lea"))
        existing = await vendors.list_connections(conn, district["lea_code"])
        if name_taken(existing, body["name"]):
            raise _duplicate(body["name"])
        row = await vendors.add(
            conn,
            call.settings.master_keys,
            district["lea_code"],
            connection_input(body),
            call.actor,
            allow_insecure=_insecure_allowed(call),
        )
    return created(shown(row), location(row["connection_id"]))


async def get_outgoing(call: Call) -> Response:
    async with call.db() as conn:
        row = await vendors.get(conn, parse_id(call.param("connection_id")))
    return AdminJSON(shown(row))


async def update_outgoing(call: Call) -> Response:
    connection_id = parse_id(call.param("connection_id"))
    body = await call.body(UPDATE)
    async with call.db() as conn:
        current = await vendors.get(conn, connection_id)
        existing = await vendors.list_connections(conn, current["lea_code"])
        if name_taken(existing, body["name"], keep=connection_id):
            raise _duplicate(body["name"])
        row = await vendors.update(
            conn,
            call.settings.master_keys,
            connection_id,
            connection_input(body),
            call.actor,
            allow_insecure=_insecure_allowed(call),
        )
    return AdminJSON(shown(row))


async def delete_outgoing(call: Call) -> Response:
    """204, or 409 for a connection batches used: its detail says to retire it instead."""
    async with call.db() as conn:
        await vendors.remove(conn, parse_id(call.param("connection_id")), call.actor)
    return Response(status_code=204)


async def retire_outgoing(call: Call) -> Response:
    async with call.db() as conn:
        row = await vendors.retire(conn, parse_id(call.param("connection_id")), call.actor)
    return AdminJSON(shown(row))


async def reinstate_outgoing(call: Call) -> Response:
    async with call.db() as conn:
        row = await vendors.reinstate(conn, parse_id(call.param("connection_id")), call.actor)
    return AdminJSON(shown(row))


def routes() -> list[Route]:
    return [
        operator_route("/districts/{lea}/outgoing", "GET", list_outgoing),
        operator_route("/districts/{lea}/outgoing", "POST", add_outgoing),
        operator_route("/outgoing/{connection_id}", "GET", get_outgoing),
        operator_route("/outgoing/{connection_id}", "PUT", update_outgoing),
        operator_route("/outgoing/{connection_id}", "DELETE", delete_outgoing),
        operator_route("/outgoing/{connection_id}/retire", "POST", retire_outgoing),
        operator_route("/outgoing/{connection_id}/reinstate", "POST", reinstate_outgoing),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: outgoing connections"
_LEA = docs.path_param("lea", "The district's LEA code.", "920")
_ID = docs.path_param(
    "connection_id",
    "The connection's id.",
    str(rep.OUTGOING_EXAMPLE["connection_id"]),
    format="uuid",
)
_ONE = docs.ok("The connection, secrets masked.", rep.OUTGOING, rep.OUTGOING_EXAMPLE)
_UNKNOWN = docs.not_found("outgoing connection")
_TAKEN = docs.conflict(
    "The district already has a connection of that name.",
    "This district already has an outgoing connection named 'Parchment'.",
)
_INVALID = docs.invalid(
    {
        "auth_server": "A URL with scheme and host, e.g. https://auth.vendor.example",
        "upload_path": "A path, e.g. /v1/transcripts or send-library-api/v1/pesc/highschool/transcript/1/3/0",
        "password": "Required",
    }
)


def _district_connections() -> dict[str, Any]:
    return {
        "parameters": [_LEA],
        "get": docs.operation(
            "listOutgoingConnections",
            _TAG,
            "A district's outgoing vendor connections",
            {
                "200": docs.ok(
                    "By name; secrets masked.",
                    rep.listing(rep.OUTGOING),
                    {"items": [rep.OUTGOING_EXAMPLE]},
                ),
                "404": docs.not_found("district"),
            },
        ),
        "post": docs.operation(
            "addOutgoingConnection",
            _TAG,
            "Add an outgoing vendor connection to a district",
            {
                "201": docs.created("Added; secrets masked.", rep.OUTGOING, rep.OUTGOING_EXAMPLE),
                "404": docs.not_found("district"),
                "409": _TAKEN,
                "422": _INVALID,
            },
            description="All ten fields are required. Servers are scheme and host only (https; "
            "http only outside production); paths start with /. The consumer secret and "
            "the password are encrypted at rest and never returned. Audited.",
            body=(ADD, rep.OUTGOING_INPUT_EXAMPLE),
        ),
    }


def _connection() -> dict[str, Any]:
    update_example = {
        k: v
        for k, v in rep.OUTGOING_INPUT_EXAMPLE.items()
        if k not in ("consumer_secret", "password")
    }
    return {
        "parameters": [_ID],
        "get": docs.operation(
            "getOutgoingConnection", _TAG, "One outgoing connection", {"200": _ONE, "404": _UNKNOWN}
        ),
        "put": docs.operation(
            "updateOutgoingConnection",
            _TAG,
            "Replace an outgoing connection's fields",
            {"200": _ONE, "404": _UNKNOWN, "409": _TAKEN, "422": _INVALID},
            description="Every field but the two secrets is required; an absent, null or empty "
            "consumer_secret or password keeps the stored one. Clears the last test result. "
            "Audited (names of the changed fields only).",
            body=(UPDATE, update_example),
        ),
        "delete": docs.operation(
            "deleteOutgoingConnection",
            _TAG,
            "Delete an outgoing connection",
            {
                "204": {"description": "Deleted."},
                "404": _UNKNOWN,
                "409": docs.conflict(
                    "Batches were released through it; it is kept for their reports: retire it.",
                    "3 batches were released through 'Parchment', so it is kept for their "
                    "reports. Retire it instead: it stays listed with its history, and no new "
                    "batch can use it (`gateway vendor retire 0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10`"
                    ", the Retire button, or POST /admin/api/v1/outgoing/"
                    "0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10/retire).",
                ),
            },
            description="Only a connection no batch used (`batches` is 0). Audited.",
        ),
    }


def _lifecycle(verb: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "parameters": [_ID],
        "post": docs.operation(
            f"{verb}OutgoingConnection",
            _TAG,
            summary,
            {"200": _ONE, "404": _UNKNOWN},
            description=description + " Idempotent; audited. No body.",
        ),
    }


def paths() -> dict[str, Any]:
    return {
        f"{PREFIX}/districts/{{lea}}/outgoing": _district_connections(),
        f"{PREFIX}/outgoing/{{connection_id}}": _connection(),
        f"{PREFIX}/outgoing/{{connection_id}}/retire": _lifecycle(
            "retire",
            "Retire an outgoing connection",
            "Kept, with its batches and their reports; no new batch can be queued through it "
            "(batches already queued finish).",
        ),
        f"{PREFIX}/outgoing/{{connection_id}}/reinstate": _lifecycle(
            "reinstate",
            "Reinstate a retired outgoing connection",
            "It must pass a new connection test before a batch uses it.",
        ),
    }
