"""Console: the Test button of an outgoing connection.

POST /admin/outgoing/{id}/test starts `check_connection` as a background task (at most one
per connection) and answers at once: a 303 to the connection's page without JavaScript, a
202 to app.js's fetch. GET on the same URL is the small JSON status app.js polls; the probe
itself stores the result and writes the audit row.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.control import vendors
from gateway.outgoing.probe import check_connection
from gateway.request_context import services
from gateway.web.auth import SessionUser
from gateway.web.connection_tests import ProbeState, connection_tests
from gateway.web.console.districts import district_url
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import actor_for, control_db
from gateway.web.pages import form, redirect


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def test_url(connection_id: UUID) -> str:
    return f"/admin/outgoing/{connection_id}/test"


async def outgoing_test_start(request: Request, user: SessionUser) -> Response:
    """Start the test and answer at once (202 to app.js, else 303 to the connection's page)."""
    await form(request)
    connection_id: UUID = request.path_params["id"]
    async with control_db(request) as conn:
        row = await vendors.get(conn, connection_id)
    svc = services(request)
    actor = actor_for(request, user)
    await connection_tests(request.app).start(
        svc.stores.control,
        connection_id,
        lambda: check_connection(
            svc.stores.control, svc.settings.master_keys, connection_id, actor
        ),
    )
    if _wants_json(request):
        body = {**ProbeState("running").as_json(), "status_url": test_url(connection_id)}
        return JSONResponse(body, status_code=202, headers={"Cache-Control": "no-store"})
    return redirect(f"{district_url(row['lea_code'])}/outgoing/{connection_id}#connection-test")


async def outgoing_test_status(request: Request, user: SessionUser) -> Response:
    """{state: idle|running|done, ok, headline, reason, message, tested_at}, for app.js."""
    async with control_db(request) as conn:
        row = await vendors.get(conn, request.path_params["id"])
    state = connection_tests(request.app).state_of(row)
    return JSONResponse(state.as_json(), headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    return [
        console_page("/admin/outgoing/{id:uuid}/test", outgoing_test_status),
        console_page("/admin/outgoing/{id:uuid}/test", outgoing_test_start, ["POST"]),
    ]
