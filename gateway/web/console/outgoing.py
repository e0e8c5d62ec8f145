"""Console: a district's outgoing connections to transcript vendors (the ten-field editor).

The repository validates and encrypts; this module shows its errors next to each field and
keeps what the operator typed, except the Consumer Secret and the Password: those are
write-only, never sent back to a browser, and left blank on edit to keep the stored ones.
The Test button: `gateway.web.console.connection_test` (routes) and
`gateway.web.connection_tests` (the background tests this process runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import districts, vendors
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.request_context import services
from gateway.settings import MasterKey
from gateway.web.auth import SessionUser
from gateway.web.connection_tests import ProbeState, connection_tests
from gateway.web.console.districts import district_url
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import actor_for, control_db, done, values
from gateway.web.pages import form, render

log = structlog.stdlib.get_logger("gateway.web")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"
    hint: str = ""
    inputmode: str = ""
    maxlength: int = 0

    @property
    def secret(self) -> bool:
        return self.type == "password"


_EG = vendors.EXAMPLES
FIELDS = (
    Field("name", "Name", hint="For example: Parchment", maxlength=200),
    Field("auth_server", "Auth Server", "url", f"Scheme and host, e.g. {_EG['auth_server']}"),
    Field("auth_path", "Auth Path", hint=f"e.g. {_EG['auth_path']}", maxlength=500),
    Field("upload_server", "Upload Server", "url", f"Scheme and host, e.g. {_EG['upload_server']}"),
    Field(
        "upload_port", "Upload Port", hint=f"1 to 65535: {_EG['upload_port']}", inputmode="numeric"
    ),
    Field(
        "upload_path",
        "Upload Path",
        hint=f"As the vendor gives it, e.g. {_EG['upload_path']}",
        maxlength=500,
    ),
    Field("consumer_key", "Consumer Key", maxlength=500),
    Field("consumer_secret", "Consumer Secret", "password"),
    Field("username", "User Name", hint="At most 100 characters"),
    Field("password", "Password", "password"),
)
GRANT_TYPES = [
    ("password", "Password (user name and password)"),
    ("client_credentials", "Client credentials"),
]
LABELS = {f.name: f.label for f in FIELDS} | {"grant_type": "Grant type"}
KEEP_HINT = "Leave blank to keep the current one."
PUBLIC_NAMES = (*(f.name for f in FIELDS if not f.secret), "grant_type")


def _submitted(data: FormData) -> vendors.ConnectionInput:
    text = values(data, *(f.name for f in FIELDS), "grant_type")
    return vendors.ConnectionInput(**text)


def _settings(request: Request) -> tuple[tuple[MasterKey, ...], bool]:
    """The master keys, and whether plain http is allowed (anywhere but production)."""
    settings = services(request).settings
    return settings.master_keys, settings.env != "production"


async def _connection_of(conn: asyncpg.Connection, lea: str, connection_id: UUID) -> dict[str, Any]:
    """The connection, if it belongs to this district (else 404, as if it did not exist)."""
    row = await vendors.get(conn, connection_id)
    if row["lea_code"] != lea.upper():
        raise NotFound("no such outgoing connection in this district")
    return row


def _editor(
    request: Request,
    district: dict[str, Any],
    *,
    entered: dict[str, Any],
    errors: dict[str, str] | None = None,
    connection: dict[str, Any] | None = None,
    test: ProbeState | None = None,
    status: int = 200,
) -> Response:
    base = district_url(district["lea_code"])
    # Only public fields go back into the form: a secret is never echoed, not even the one
    # that was just typed (it would sit in the page, the cache and the browser's history).
    shown = {name: str(entered.get(name, "")) for name in PUBLIC_NAMES}
    errors = errors or {}
    # The summary lists problems in the order of the form, not of the checks.
    ordered = {name: errors[name] for name in LABELS if name in errors} | errors
    return render(
        request,
        "admin/outgoing_form.html",
        status=status,
        district=district,
        connection=connection,
        test=test,
        fields=FIELDS,
        grant_types=GRANT_TYPES,
        keep_hint=KEEP_HINT,
        labels=LABELS,
        values=shown,
        errors=ordered,
        base=base,
        action=f"{base}/outgoing/{connection['connection_id']}"
        if connection
        else f"{base}/outgoing",
    )


async def outgoing_new(request: Request, user: SessionUser) -> Response:
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
    return _editor(request, district, entered={"grant_type": "password"})


async def outgoing_create(request: Request, user: SessionUser) -> Response:
    submitted = _submitted(await form(request))
    keys, allow_insecure = _settings(request)
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        try:
            await vendors.add(
                conn,
                keys,
                district["lea_code"],
                submitted,
                actor_for(request, user),
                allow_insecure=allow_insecure,
            )
        except ValidationFailed as exc:
            entered = vars(submitted)
            return _editor(request, district, entered=entered, errors=exc.errors, status=422)
    return done(district_url(district["lea_code"]), "outgoing-added")


async def outgoing_edit(request: Request, user: SessionUser) -> Response:
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        row = await _connection_of(conn, district["lea_code"], request.path_params["id"])
    test = connection_tests(request.app).state_of(row)
    return _editor(request, district, entered=row, connection=row, test=test)


async def outgoing_update(request: Request, user: SessionUser) -> Response:
    submitted = _submitted(await form(request))
    keys, allow_insecure = _settings(request)
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        row = await _connection_of(conn, district["lea_code"], request.path_params["id"])
        try:
            await vendors.update(
                conn,
                keys,
                row["connection_id"],
                submitted,
                actor_for(request, user),
                allow_insecure=allow_insecure,
            )
        except ValidationFailed as exc:
            return _editor(
                request,
                district,
                entered=vars(submitted),
                errors=exc.errors,
                connection=row,
                test=connection_tests(request.app).state_of(row),
                status=422,
            )
    return done(district_url(district["lea_code"]), "outgoing-updated")


async def outgoing_delete_confirm(request: Request, user: SessionUser) -> Response:
    """Delete, for a connection nothing refers to; Retire, for one that batches used (their
    reports name it, so it is kept): one confirmation page either way, never a dead end."""
    async with control_db(request) as conn:
        row = await _connection_of(conn, request.path_params["lea"], request.path_params["id"])
    return _confirm(request, row)


def _confirm(request: Request, row: dict[str, Any], status: int = 200) -> Response:
    base = district_url(row["lea_code"])
    target = f"{base}/outgoing/{row['connection_id']}"
    if row["batches"]:
        plural = "batch was" if row["batches"] == 1 else "batches were"
        return render(
            request,
            "admin/confirm.html",
            status=status,
            title=f"Retire outgoing connection “{row['name']}”?",
            lines=[
                f"{row['batches']} {plural} released through it, so it is kept: its batches and "
                "their eTranscript Batch Reports stay as they are.",
                "Retired, it stays listed with its history, and no new batch can be queued "
                "through it. Batches already queued finish.",
            ],
            action=f"{target}/retire",
            button="Retire connection",
            back=base,
            fields={},
        )
    return render(
        request,
        "admin/confirm.html",
        status=status,
        title=f"Delete outgoing connection “{row['name']}”?",
        lines=[
            f"Releases from {row['lea_code']} will no longer be sent to {row['upload_url']}.",
            "Its stored consumer secret and password are deleted with it.",
        ],
        action=f"{target}/delete",
        button="Delete connection",
        back=base,
        fields={},
    )


async def outgoing_delete(request: Request, user: SessionUser) -> Response:
    await form(request)
    async with control_db(request) as conn:
        row = await _connection_of(conn, request.path_params["lea"], request.path_params["id"])
        try:
            await vendors.remove(conn, row["connection_id"], actor_for(request, user))
        except Conflict:  # a batch used it after the page was shown: offer to retire it
            row = await _connection_of(conn, row["lea_code"], row["connection_id"])
            return _confirm(request, row, status=409)
    return done(district_url(row["lea_code"]), "outgoing-removed")


async def outgoing_retire(request: Request, user: SessionUser) -> Response:
    await form(request)
    async with control_db(request) as conn:
        row = await _connection_of(conn, request.path_params["lea"], request.path_params["id"])
        await vendors.retire(conn, row["connection_id"], actor_for(request, user))
    return done(district_url(row["lea_code"]), "outgoing-retired")


def routes() -> list[Route]:
    prefix = "/admin/districts/{lea}/outgoing"
    return [
        console_page(f"{prefix}/new", outgoing_new),
        console_page(prefix, outgoing_create, ["POST"]),
        console_page(prefix + "/{id:uuid}", outgoing_edit),
        console_page(prefix + "/{id:uuid}", outgoing_update, ["POST"]),
        console_page(prefix + "/{id:uuid}/delete", outgoing_delete_confirm),
        console_page(prefix + "/{id:uuid}/delete", outgoing_delete, ["POST"]),
        console_page(prefix + "/{id:uuid}/retire", outgoing_retire, ["POST"]),
    ]
