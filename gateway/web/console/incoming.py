"""Console: a district's incoming connections (consumer credentials).

New → the credential is generated and the *Information to Share* is shown on the POST
response, the only time the secret ever appears (it is stored as a hash only); the form's
one-time token makes a reload of that page harmless (it redirects, issuing nothing). Save keeps it;
Cancel revokes it at once. Delete asks first, then revokes: the consumer loses access at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import consumers, credentials, districts
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.web.auth import SessionUser
from gateway.web.console.districts import district_url
from gateway.web.console.endpoint import console_page
from gateway.web.console.forms import Refused, form_state
from gateway.web.console.request import actor_for, claim_form, control_db, done, values
from gateway.web.console.share import share_page
from gateway.web.pages import form, render

LABELS = {"name": "Name", "consumer": "Consumer"}
# Cancel undoes a creation the operator just made; anything older goes through Delete.
CANCEL_WINDOW = timedelta(hours=1)


async def _consumer_options(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [
        (c["name"], c["name"]) for c in await consumers.list_all(conn) if c["status"] == "active"
    ]


async def incoming_new(request: Request, user: SessionUser) -> Response:
    return await _new_page(request)


async def _new_page(request: Request, refused: Refused | None = None) -> Response:
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        options = await _consumer_options(conn)
    return render(
        request,
        "admin/incoming_new.html",
        **form_state(refused),
        district=district,
        consumers=options,
        base=district_url(district["lea_code"]),
        labels=LABELS,
    )


async def incoming_create(request: Request, user: SessionUser) -> Response:
    data = await form(request)
    entered = values(data, "name", "consumer")
    errors = {} if entered["consumer"] else {"consumer": "Choose a consumer"}
    if not entered["name"].strip():
        errors["name"] = "Name is required"
    if errors:
        return await _new_page(request, Refused(errors, entered))
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        base = district_url(district["lea_code"])
        try:
            async with conn.transaction():
                # A reload of the Information to Share posts this form again: no second pair.
                if not await claim_form(request, conn, data):
                    return done(base, "incoming-already-created")
                issued = await credentials.issue(
                    conn,
                    lea_code=district["lea_code"],
                    consumer=entered["consumer"],
                    label=entered["name"],
                    actor=actor_for(request, user),
                )
        except ValidationFailed as exc:
            return await _new_page(request, Refused(exc.errors, entered))
        except NotFound:  # the district exists (above): it is the consumer that does not
            return await _new_page(request, Refused({"consumer": "No such consumer"}, entered))
    return share_page(
        request,
        issued,
        title="Information to Share",
        save_url=f"{base}?notice=incoming-saved",
        cancel_url=f"{base}/incoming/{issued.client_id}/cancel",
    )


async def _credential_of(conn: asyncpg.Connection, lea: str, client_id: str) -> dict[str, Any]:
    """The credential, if it belongs to this district (else 404, as if it did not exist)."""
    row = await credentials.get(conn, client_id)
    if row["district"] != lea.upper():
        raise NotFound(f"no credential {client_id} in district {lea}")
    return row


def _cancellable(row: dict[str, Any], email: str) -> bool:
    fresh = datetime.now(UTC) - row["created_at"] < CANCEL_WINDOW
    return bool(fresh and row["created_by"] == f"operator:{email}" and row["status"] == "active")


async def incoming_cancel(request: Request, user: SessionUser) -> Response:
    """Cancel on the Information to Share: the credential just made is revoked (and audited)."""
    await form(request)
    lea, client_id = request.path_params["lea"], request.path_params["client_id"]
    async with control_db(request) as conn:
        row = await _credential_of(conn, lea, client_id)
        if not _cancellable(row, user.web_user.email):
            raise Conflict("This connection is no longer new: delete it from the district page.")
        await credentials.revoke(conn, client_id, actor=actor_for(request, user))
    return done(district_url(row["district"]), "incoming-cancelled")


async def incoming_delete_confirm(request: Request, user: SessionUser) -> Response:
    lea, client_id = request.path_params["lea"], request.path_params["client_id"]
    async with control_db(request) as conn:
        row = await _credential_of(conn, lea, client_id)
    if row["status"] != "active":
        raise Conflict(f"Credential {client_id} is already revoked.")
    base = district_url(row["district"])
    return render(
        request,
        "admin/confirm.html",
        title=f"Delete incoming connection “{row['label']}”?",
        lines=[
            f"{row['consumer']} will lose access to {row['district']}'s transcripts at once:"
            f" client ID {client_id} gets no new tokens, and tokens already issued stop working.",
            "This cannot be undone; a new connection would have a new key/secret pair.",
        ],
        action=f"{base}/incoming/{client_id}/delete",
        button="Delete and revoke access",
        back=base,
        fields={},
    )


async def incoming_delete(request: Request, user: SessionUser) -> Response:
    await form(request)
    lea, client_id = request.path_params["lea"], request.path_params["client_id"]
    async with control_db(request) as conn:
        row = await _credential_of(conn, lea, client_id)
        await credentials.revoke(conn, client_id, actor=actor_for(request, user))
    return done(district_url(row["district"]), "incoming-deleted")


def routes() -> list[Route]:
    prefix = "/admin/districts/{lea}/incoming"
    return [
        console_page(f"{prefix}/new", incoming_new),
        console_page(prefix, incoming_create, ["POST"]),
        console_page(prefix + "/{client_id}/cancel", incoming_cancel, ["POST"]),
        console_page(prefix + "/{client_id}/delete", incoming_delete_confirm),
        console_page(prefix + "/{client_id}/delete", incoming_delete, ["POST"]),
    ]
