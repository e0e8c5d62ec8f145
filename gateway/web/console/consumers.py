"""Console: the consumers (such as CFNC) that districts' incoming connections are issued to."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import consumers
from gateway.errors import Conflict, ValidationFailed
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.forms import Refused, form_state
from gateway.web.console.request import actor_for, control_db, done, notice, values
from gateway.web.pages import form, render

LABELS = {"name": "Name", "description": "Description"}


async def consumer_list(request: Request, user: SessionUser) -> Response:
    return await _list_page(request)


async def _list_page(request: Request, refused: Refused | None = None) -> Response:
    async with control_db(request) as conn:
        rows = await consumers.list_all(conn)
    return render(
        request,
        "admin/consumers.html",
        **form_state(refused),
        consumers=rows,
        labels=LABELS,
        notice=notice(request),
    )


async def consumer_add(request: Request, user: SessionUser) -> Response:
    entered = values(await form(request), "name", "description")
    if len(entered["description"]) > 1000:
        return await _list_page(
            request, Refused({"description": "At most 1000 characters"}, entered)
        )
    try:
        async with control_db(request) as conn:
            await consumers.add(
                conn, entered["name"], actor_for(request, user), entered["description"].strip()
            )
    except ValidationFailed as exc:
        return await _list_page(request, Refused(exc.errors, entered))
    except Conflict:
        taken = {"name": "A consumer of this name already exists"}
        return await _list_page(request, Refused(taken, entered, 409))
    return done("/admin/consumers", "consumer-added")


def routes() -> list[Route]:
    return [
        console_page("/admin/consumers", consumer_list),
        console_page("/admin/consumers", consumer_add, ["POST"]),
    ]
