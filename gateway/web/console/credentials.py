"""Console: every key/secret pair, filtered by district and consumer; rotate (the new secret
is shown once, like the Information to Share) and revoke (after a confirmation page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import consumers, credentials
from gateway.errors import BadRequest, Conflict
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import actor_for, claim_form, control_db, done, notice
from gateway.web.console.share import share_page
from gateway.web.pages import field, form, render

# How long the secret in use keeps working after a rotation, so the consumer can switch over.
OVERLAPS = {
    "0": ("None: the current secret stops working now", timedelta(0)),
    "3600": ("1 hour", timedelta(hours=1)),
    "86400": ("24 hours", timedelta(hours=24)),
    "604800": ("7 days", timedelta(days=7)),
}
DEFAULT_OVERLAP = "86400"
STATUSES = [("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired")]


def _filters(request: Request) -> dict[str, str]:
    query = request.query_params
    return {
        "district": query.get("district", "").strip().upper()[:10],
        "consumer": query.get("consumer", "").strip()[:200],
        "status": query.get("status", ""),
    }


async def credential_list(request: Request, user: SessionUser) -> Response:
    chosen = _filters(request)
    async with control_db(request) as conn:
        rows = await credentials.list_credentials(
            conn, chosen["district"] or None, chosen["consumer"] or None
        )
        names = [c["name"] for c in await consumers.list_all(conn)]
    if chosen["status"]:
        rows = [r for r in rows if r["status"] == chosen["status"]]
    return render(
        request,
        "admin/credentials.html",
        credentials=rows,
        filters=chosen,
        consumers=[(n, n) for n in names],
        statuses=STATUSES,
        overlaps=[(value, label) for value, (label, _) in OVERLAPS.items()],
        default_overlap=DEFAULT_OVERLAP,
        notice=notice(request),
    )


async def credential_rotate(request: Request, user: SessionUser) -> Response:
    data = await form(request)
    choice = OVERLAPS.get(field(data, "overlap"))
    if choice is None:
        raise BadRequest("Choose how long the current secret keeps working.")
    label, overlap = choice
    async with control_db(request) as conn, conn.transaction():
        # A reload of the new secret's page posts this form again: rotate once only.
        if not await claim_form(request, conn, data):
            return done("/admin/credentials", "credential-already-rotated")
        issued = await credentials.rotate(
            conn, request.path_params["client_id"], overlap=overlap, actor=actor_for(request, user)
        )
    note = (
        "The previous secret no longer works."
        if not overlap
        else f"The previous secret keeps working for {label}, then stops."
    )
    return share_page(
        request,
        issued,
        title=f"New secret for {issued.client_id}",
        save_url="/admin/credentials",
        note=note,
    )


async def _active(request: Request) -> dict[str, Any]:
    async with control_db(request) as conn:
        row = await credentials.get(conn, request.path_params["client_id"])
    if row["status"] != "active":
        raise Conflict(f"Credential {row['client_id']} is already revoked.")
    return row


async def credential_revoke_confirm(request: Request, user: SessionUser) -> Response:
    row = await _active(request)
    holder = row["consumer"] or "The holder"
    scope = f"{row['district']}'s transcripts" if row["district"] else "the admin API"
    return render(
        request,
        "admin/confirm.html",
        title=f"Revoke {row['client_id']}?",
        lines=[
            f"{holder} will lose access to {scope} at once: no new tokens, and tokens already"
            " issued stop working.",
            "This cannot be undone.",
        ],
        action=f"/admin/credentials/{row['client_id']}/revoke",
        button="Revoke credential",
        back="/admin/credentials",
        fields={},
    )


async def credential_revoke(request: Request, user: SessionUser) -> Response:
    await form(request)
    async with control_db(request) as conn:
        await credentials.revoke(
            conn, request.path_params["client_id"], actor=actor_for(request, user)
        )
    return done("/admin/credentials", "credential-revoked")


def routes() -> list[Route]:
    one = "/admin/credentials/{client_id}"
    return [
        console_page("/admin/credentials", credential_list),
        console_page(f"{one}/rotate", credential_rotate, ["POST"]),
        console_page(f"{one}/revoke", credential_revoke_confirm),
        console_page(f"{one}/revoke", credential_revoke, ["POST"]),
    ]
