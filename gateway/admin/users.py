"""/admin/api/v1/users: web accounts for operators and district staff.

A user added here has no password: the answer carries a one-time set-password link (valid
three days) for the operator to pass on, the same as `gateway user add --invite`. Passwords
never travel through the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import NO_STORE, AdminJSON, created, items, project
from gateway.admin.schemas import Field, string
from gateway.control import users

FIELDS = ("email", "role", "district", "status", "has_password", "created_at", "last_login_at")

ADD = {
    "email": string(
        320,
        required=True,
        format="email",
        pattern=users.EMAIL_AS_TYPED,
        pattern_problem="An email address",
        example="registrar@wcpss.net",
    ),
    "role": Field("string", required=True, enum=users.ROLES, example="district"),
    "district": string(
        10,
        nullable=True,
        description="LEA code; required for a district user, absent for an operator.",
        example="920",
    ),
}


def invite_url(base_url: str, token: str) -> str:
    return f"{base_url}/invite/{token}"


def location(email: str) -> str:
    return f"{PREFIX}/users/{quote(email, safe='@')}"


async def list_users(call: Call) -> Response:
    call.query({})
    async with call.db() as conn:
        rows = await users.list_users(conn)
    return AdminJSON(items(rows, FIELDS))


async def add_user(call: Call) -> Response:
    body = await call.body(ADD)
    async with call.db() as conn:
        row = await users.add(
            conn,
            email=body["email"],
            role=body["role"],
            lea_code=body["district"],
            password=None,
            actor=call.actor,
            off_loop=call.services.slow_hashes.run,
        )
        token = await users.create_invite(conn, row["email"], call.actor)
    shown = {**project(row, FIELDS), "invite_url": invite_url(call.settings.issuer, token)}
    return created(shown, location(row["email"]), secret=True)


async def get_user(call: Call) -> Response:
    async with call.db() as conn:
        row = await users.get(conn, call.param("email"))
    return AdminJSON(project(row, FIELDS))


async def invite_user(call: Call) -> Response:
    """A new one-time set-password link (a lost invite, a forgotten password)."""
    await call.optional_body({})
    async with call.db() as conn:
        row = await users.get(conn, call.param("email"))
        token = await users.create_invite(conn, row["email"], call.actor)
    shown = {"email": row["email"], "invite_url": invite_url(call.settings.issuer, token)}
    return AdminJSON(shown, headers=NO_STORE)


async def disable_user(call: Call) -> Response:
    """Disabling also ends the user's sessions everywhere (in the repository's transaction)."""
    await call.optional_body({})
    async with call.db() as conn:
        row = await users.set_status(conn, call.param("email"), "disabled", call.actor)
    return AdminJSON(project(row, FIELDS))


def routes() -> list[Route]:
    return [
        operator_route("/users", "GET", list_users),
        operator_route("/users", "POST", add_user),
        operator_route("/users/{email}", "GET", get_user),
        operator_route("/users/{email}/invite", "POST", invite_user),
        operator_route("/users/{email}/disable", "POST", disable_user),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: users"
_EMAIL = docs.path_param("email", "The user's sign-in email.", "registrar@wcpss.net")
_UNKNOWN = docs.not_found("user")


def paths() -> dict[str, Any]:
    disabled = {**rep.USER_EXAMPLE, "status": "disabled"}
    invite = {
        "email": rep.USER_EXAMPLE["email"],
        "invite_url": rep.USER_INVITED_EXAMPLE["invite_url"],
    }
    return {
        f"{PREFIX}/users": {
            "get": docs.operation(
                "listUsers",
                _TAG,
                "List web users (never a password hash)",
                {
                    "200": docs.ok(
                        "Operators first.", rep.listing(rep.USER), {"items": [rep.USER_EXAMPLE]}
                    )
                },
            ),
            "post": docs.operation(
                "addUser",
                _TAG,
                "Add a web user, with a one-time set-password link",
                {
                    "201": docs.created(
                        "Added; pass the invite link on (it works once, for 3 days).",
                        rep.USER_INVITED,
                        rep.USER_INVITED_EXAMPLE,
                        secret=True,
                    ),
                    "404": docs.not_found("district"),
                    "409": docs.conflict(
                        "The email has an account.", "a user registrar@wcpss.net already exists"
                    ),
                    "422": docs.invalid({"district": "A district user needs a district"}),
                },
                description="A district user sees their own district's pages, read-only; an "
                "operator maintains every district. Audited.",
                body=(ADD, {"email": "registrar@wcpss.net", "role": "district", "district": "920"}),
            ),
        },
        f"{PREFIX}/users/{{email}}": {
            "parameters": [_EMAIL],
            "get": docs.operation(
                "getUser",
                _TAG,
                "One web user",
                {"200": docs.ok("The user.", rep.USER, rep.USER_EXAMPLE), "404": _UNKNOWN},
            ),
        },
        f"{PREFIX}/users/{{email}}/invite": {
            "parameters": [_EMAIL],
            "post": docs.operation(
                "inviteUser",
                _TAG,
                "A new one-time set-password link",
                {
                    "200": docs.ok(
                        "The link, in this answer only.", rep.INVITE, invite, secret=True
                    ),
                    "404": _UNKNOWN,
                },
                description="For a lost invite or a forgotten password. Audited. No body.",
            ),
        },
        f"{PREFIX}/users/{{email}}/disable": {
            "parameters": [_EMAIL],
            "post": docs.operation(
                "disableUser",
                _TAG,
                "Disable a web user",
                {"200": docs.ok("Disabled.", rep.USER, disabled), "404": _UNKNOWN},
                description="Their sessions end at once, everywhere. Audited. No body.",
            ),
        },
    }
