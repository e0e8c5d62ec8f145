"""What every console handler shares: who the operator is for the audit log, the control
database, the fixed notices shown after a redirect, and form errors for templates.

Handlers are routed by `endpoint.console_page`, which applies the operator guard first (404
on GET, 403 on any write for anyone else); they call `actor_for` when they change something: the repositories write the audit row in the same
transaction as the change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import asyncpg
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from gateway.audit import Actor
from gateway.control import form_tokens
from gateway.errors import BadRequest
from gateway.request_context import client_address, services
from gateway.web.auth import SessionUser
from gateway.web.pages import field, redirect

# Notices are chosen by a fixed key in the redirect URL: nothing a visitor types is echoed back.
NOTICES = {
    "district-added": "District added.",
    "district-suspended": "District suspended: it gets no tokens and serves no transcripts.",
    "district-active": "District resumed.",
    "incoming-saved": "Incoming connection saved.",
    "incoming-cancelled": "Cancelled: the new credential is revoked and cannot be used.",
    "incoming-deleted": "Incoming connection deleted: the consumer has lost access.",
    "outgoing-added": "Outgoing connection added.",
    "outgoing-updated": "Outgoing connection saved.",
    "outgoing-removed": "Outgoing connection deleted.",
    "outgoing-retired": "Outgoing connection retired: kept with its batch history, used by no new batch.",
    "consumer-added": "Consumer added.",
    "credential-revoked": "Credential revoked: its tokens stop working at once.",
    "user-disabled": "User disabled: their sessions have ended.",
    "user-active": "User enabled.",
    # A reload of a page that showed something once: the form was not acted on again.
    "incoming-already-created": "This form was already sent: the incoming connection it created "
    "is listed below. Its secret was shown once and cannot be shown again; if it was not saved, "
    "delete that connection and create a new one.",
    "credential-already-rotated": "This rotation was already done: its new secret was shown once "
    "and cannot be shown again; if it was not saved, rotate the credential again.",
    "user-already-invited": "This form was already sent: its set-password link was shown once "
    "and cannot be shown again; if it was not sent to the user, make a new link.",
}


async def claim_form(request: Request, conn: asyncpg.Connection, data: FormData) -> bool:
    """The form's one-time token (gateway/control/form_tokens.py), claimed in the caller's
    transaction: False when this form was already acted on (a reload re-posting it)."""
    token = field(data, form_tokens.FIELD)
    if not 16 <= len(token) <= 64:
        raise BadRequest("This form is out of date: reload the page and send it again.")
    user = request.user
    assert isinstance(user, SessionUser)  # operator() ran first
    return await form_tokens.claim(conn, user.session.csrf_token, token)


def actor_for(request: Request, user: SessionUser) -> Actor:
    """The operator as the audit log names them: email, source address, request id."""
    return Actor("operator", user.web_user.email, client_address(request), request.state.request_id)


@asynccontextmanager
async def control_db(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with services(request).stores.control.acquire() as conn:
        yield conn


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def done(path: str, key: str) -> RedirectResponse:
    """303 to a page that shows one of the fixed notices (POST-redirect-GET)."""
    assert key in NOTICES
    return redirect(f"{path}?notice={key}")


def values(data: FormData, *names: str) -> dict[str, str]:
    """The submitted text of the named fields, to fill the form again after an error."""
    return {name: field(data, name) for name in names}


def segment(value: str) -> str:
    """A value made safe to place in one URL path segment."""
    return quote(value, safe="")
