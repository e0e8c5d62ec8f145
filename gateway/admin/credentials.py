"""/admin/api/v1/credentials: issue, import, rotate, revoke and list key/secret pairs.

A generated secret is in exactly two answers, issue and rotate, each marked `no-store`; it is
not kept anywhere the API can read it back (only its hash is stored). An imported secret
comes in through the body and never goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import NO_STORE, AdminJSON, created, project
from gateway.admin.schemas import fields_named, integer, moment_field, string
from gateway.control import credentials
from gateway.control.credentials import MAX_OVERLAP, IssuedSecret, effective_status
from gateway.crypto.client_secrets import MAX_SECRET_LENGTH
from gateway.errors import ValidationFailed
from gateway.urls import etranscripts_url, token_url

FIELDS = (
    "client_id",
    "kind",
    "label",
    "district",
    "consumer",
    "scopes",
    "status",
    "imported",
    "weak_secret",
    "expires_at",
    "created_at",
    "created_by",
    "last_used_at",
    "tokens_issued",
    "revoked_at",
    "usable_secrets",
    "overlap_ends",
)
# The body says `name` for the label operators recognise, as the console and CLI do.
_OUT_NAMES = {"label": "name"}
# Repository error keys (CLI option names) → body field names.
_IN_NAMES = {"expires": "expires_at", "secret": "client_secret", "overlap": "overlap_seconds"}
DEFAULT_OVERLAP = timedelta(hours=24)  # as `gateway credential rotate`

_EXPIRES = string(
    40,
    nullable=True,
    format="date-time",
    description="Last valid moment: an ISO 8601 date-time, or a date (valid through that day, "
    "UTC). Null or absent: no expiry.",
    example="2027-06-30T23:59:59Z",
)
_DISTRICT = string(10, required=True, description="LEA code of the district.", example="920")
_CONSUMER = string(200, required=True, description="Consumer name.", example="CFNC")

LIST_QUERY = {
    "district": string(10, description="Only this district's credentials (LEA code)."),
    "consumer": string(200, description="Only this consumer's credentials (name)."),
}
ISSUE = {
    "district": _DISTRICT,
    "consumer": _CONSUMER,
    "name": string(200, required=True, example="CFNC production"),
    "expires_at": _EXPIRES,
}
IMPORT = {
    "district": _DISTRICT,
    "consumer": _CONSUMER,
    "client_id": string(
        128,
        required=True,
        description="The client id already given out: 8-128 letters, digits, . _ ~ -",
        example="cfnc-920-legacy",
    ),
    "client_secret": string(
        MAX_SECRET_LENGTH,
        required=True,
        write_only=True,
        description="Stored only as an argon2id hash; flagged weak when short or repetitive.",
    ),
    "name": string(200, default="imported", example="From the previous gateway"),
    "expires_at": _EXPIRES,
}
ROTATE = {
    "overlap_seconds": integer(
        0,
        int(MAX_OVERLAP.total_seconds()),
        default=int(DEFAULT_OVERLAP.total_seconds()),
        description="How long the secrets in use now keep working (0 ends them at once).",
        example=3600,
    ),
}


# --- pure helpers ---------------------------------------------------------------------------


def shown(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {**project(row, FIELDS, _OUT_NAMES), "status": effective_status(row, now)}


def share(issued: IssuedSecret, base_url: str) -> dict[str, Any]:
    """The Information to Share with the consumer; the secret appears in this answer only."""
    return {
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
        "token_url": token_url(base_url),
        "etranscripts_url": etranscripts_url(base_url, issued.district)
        if issued.district
        else None,
        "district": issued.district,
        "consumer": issued.consumer,
        "expires_at": issued.expires_at,
    }


def expiry(body: dict[str, Any]) -> datetime | None:
    errors: dict[str, str] = {}
    moment = moment_field(body, "expires_at", errors, end_of_day=True)
    if errors:
        raise ValidationFailed(errors)
    return moment


def location(client_id: str) -> str:
    return f"{PREFIX}/credentials/{client_id}"


# --- handlers -------------------------------------------------------------------------------


async def list_credentials(call: Call) -> Response:
    query = call.query(LIST_QUERY)
    async with call.db() as conn:
        rows = await credentials.list_credentials(conn, query["district"], query["consumer"])
    now = datetime.now(UTC)
    return AdminJSON({"items": [shown(r, now) for r in rows]})


async def get_credential(call: Call) -> Response:
    async with call.db() as conn:
        row = await credentials.get(conn, call.param("client_id"))
    return AdminJSON(shown(row, datetime.now(UTC)))


async def issue_credential(call: Call) -> Response:
    body = await call.body(ISSUE)
    expires_at = expiry(body)
    async with call.db() as conn:
        with fields_named(_IN_NAMES):
            issued = await credentials.issue(
                conn,
                lea_code=body["district"],
                consumer=body["consumer"],
                label=body["name"],
                actor=call.actor,
                expires_at=expires_at,
            )
    info = {**share(issued, call.settings.issuer), "name": body["name"].strip()}
    return created(info, location(issued.client_id), secret=True)


async def import_credential(call: Call) -> Response:
    body = await call.body(IMPORT)
    expires_at = expiry(body)
    with fields_named(_IN_NAMES):
        # Hashed before a connection is taken: argon2 takes tens of milliseconds.
        imported = await credentials.hash_import(
            client_id=body["client_id"],
            secret=body["client_secret"],
            expires_at=expires_at,
            off_loop=call.services.slow_hashes.run,
        )
        async with call.db() as conn:
            result = await credentials.import_existing(
                conn,
                imported,
                lea_code=body["district"],
                consumer=body["consumer"],
                label=body["name"],
                actor=call.actor,
            )
    base = call.settings.issuer
    info = {
        **result,
        "name": body["name"].strip(),
        "token_url": token_url(base),
        "etranscripts_url": etranscripts_url(base, result["district"]),
    }
    return created(info, location(result["client_id"]))


async def rotate_credential(call: Call) -> Response:
    body = await call.optional_body(ROTATE)
    overlap = timedelta(seconds=body["overlap_seconds"])
    async with call.db() as conn:
        with fields_named(_IN_NAMES):
            issued = await credentials.rotate(
                conn, call.param("client_id"), overlap=overlap, actor=call.actor
            )
    info = {**share(issued, call.settings.issuer), "overlap_seconds": body["overlap_seconds"]}
    return AdminJSON(info, headers=NO_STORE)


async def revoke_credential(call: Call) -> Response:
    """No new tokens; tokens already issued stop working on every worker within moments."""
    client_id = call.param("client_id")
    async with call.db() as conn:
        await credentials.revoke(conn, client_id, actor=call.actor)
        row = await credentials.get(conn, client_id)
    return AdminJSON(shown(row, datetime.now(UTC)))


def routes() -> list[Route]:
    return [
        operator_route("/credentials", "GET", list_credentials),
        operator_route("/credentials", "POST", issue_credential),
        operator_route("/credentials/import", "POST", import_credential),
        operator_route("/credentials/{client_id}", "GET", get_credential),
        operator_route("/credentials/{client_id}", "DELETE", revoke_credential),
        operator_route("/credentials/{client_id}/rotate", "POST", rotate_credential),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: credentials"
_CLIENT_ID = docs.path_param("client_id", "The credential's client id.", "cfnc-920-3fa2c1d0")
_UNKNOWN = docs.not_found("credential")
_REVOKED = docs.conflict("The credential is revoked.", "credential cfnc-920-3fa2c1d0 is revoked")
_UNKNOWN_REFERENCE = docs.not_found("district or consumer")


def _collection() -> dict[str, Any]:
    listed = {"items": [rep.CREDENTIAL_EXAMPLE]}
    return {
        "get": docs.operation(
            "listCredentials",
            _TAG,
            "List key/secret pairs (never a secret)",
            {
                "200": docs.ok("Newest first.", rep.listing(rep.CREDENTIAL), listed),
                "422": docs.invalid({"distrct": "Unknown parameter"}),
            },
            query=LIST_QUERY,
        ),
        "post": docs.operation(
            "issueCredential",
            _TAG,
            "Issue a key/secret pair for one district and one consumer",
            {
                "201": docs.created(
                    "The Information to Share; the secret is in this answer only.",
                    rep.SHARE,
                    rep.SHARE_EXAMPLE,
                    secret=True,
                ),
                "404": _UNKNOWN_REFERENCE,
                "422": docs.invalid({"expires_at": "The expiry date must be in the future"}),
            },
            description="The secret is 256 random bits, stored only as a hash. Its tokens read "
            "the named district only. Audited.",
            body=(ISSUE, {"district": "920", "consumer": "CFNC", "name": "CFNC production"}),
        ),
    }


def _import() -> dict[str, Any]:
    example = {
        "district": "920",
        "consumer": "CFNC",
        "client_id": "cfnc-920-legacy",
        "client_secret": "the-secret-given-out-before",
        "name": "From the previous gateway",
    }
    return {
        "post": docs.operation(
            "importCredential",
            _TAG,
            "Keep a key/secret pair the department already gave out",
            {
                "201": docs.created("Imported.", rep.IMPORTED, rep.IMPORTED_EXAMPLE),
                "404": _UNKNOWN_REFERENCE,
                "409": docs.conflict(
                    "The client id is in use.", "client id cfnc-920-legacy is already in use"
                ),
                "422": docs.invalid({"client_id": "8-128 characters: letters, digits, . _ ~ -"}),
            },
            description="The secret is of unknown strength, so it is hashed with argon2id and "
            "flagged weak when short or repetitive. It is never returned. Audited.",
            body=(IMPORT, example),
        )
    }


def _item() -> dict[str, Any]:
    one = docs.ok("The credential.", rep.CREDENTIAL, rep.CREDENTIAL_EXAMPLE)
    revoked = {
        **rep.CREDENTIAL_EXAMPLE,
        "status": "revoked",
        "revoked_at": "2026-03-01T12:00:00+00:00",
    }
    return {
        "parameters": [_CLIENT_ID],
        "get": docs.operation(
            "getCredential",
            _TAG,
            "One key/secret pair (never its secret)",
            {"200": one, "404": _UNKNOWN},
        ),
        "delete": docs.operation(
            "revokeCredential",
            _TAG,
            "Revoke a key/secret pair",
            {
                "200": docs.ok("Revoked.", rep.CREDENTIAL, revoked),
                "404": _UNKNOWN,
                "409": _REVOKED,
            },
            description="No new tokens, and tokens already issued are refused on every worker "
            "within a second (not when they expire). Audited.",
        ),
    }


def _rotate() -> dict[str, Any]:
    return {
        "parameters": [_CLIENT_ID],
        "post": docs.operation(
            "rotateCredential",
            _TAG,
            "Give a key/secret pair a new secret",
            {
                "200": docs.ok(
                    "The new secret, in this answer only.",
                    rep.ROTATED,
                    rep.ROTATED_EXAMPLE,
                    secret=True,
                ),
                "404": _UNKNOWN,
                "409": _REVOKED,
                "422": docs.invalid({"overlap_seconds": "An integer from 0 to 2592000"}),
            },
            description="The secrets in use now keep working for `overlap_seconds` (default "
            "24 hours, at most 30 days; 0 ends them at once), so the consumer can switch without "
            "an outage. The body may be left out. Audited.",
            body=(ROTATE, {"overlap_seconds": 3600}),
            body_optional=True,
        ),
    }


def paths() -> dict[str, Any]:
    return {
        f"{PREFIX}/credentials": _collection(),
        f"{PREFIX}/credentials/import": _import(),
        f"{PREFIX}/credentials/{{client_id}}": _item(),
        f"{PREFIX}/credentials/{{client_id}}/rotate": _rotate(),
    }
