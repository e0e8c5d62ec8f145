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
    "consumer-added": "Consumer added.",
    "credential-revoked": "Credential revoked: its tokens stop working at once.",
    "user-disabled": "User disabled: their sessions have ended.",
    "user-active": "User enabled.",
}


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
