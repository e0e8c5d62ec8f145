"""/admin/api/v1/consumers: the organisations (CFNC, ...) that receive districts' credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON, created, items, project
from gateway.admin.schemas import string
from gateway.control import consumers

FIELDS = ("name", "description", "status", "created_at")
LIST_FIELDS = (*FIELDS, "active_credentials")

ADD = {
    "name": string(200, required=True, description="Unique; credentials name it.", example="CFNC"),
    "description": string(
        1000, default="", example="College Foundation of North Carolina: admissions transcripts"
    ),
}


async def list_consumers(call: Call) -> Response:
    call.query({})
    async with call.db() as conn:
        rows = await consumers.list_all(conn)
    return AdminJSON(items(rows, LIST_FIELDS))


async def add_consumer(call: Call) -> Response:
    body = await call.body(ADD)
    async with call.db() as conn:
        row = await consumers.add(conn, body["name"], call.actor, body["description"].strip())
    return created(project(row, FIELDS), f"{PREFIX}/consumers/{quote(row['name'], safe='')}")


async def get_consumer(call: Call) -> Response:
    """Consumers are known by name: credentials and `?consumer=` filters name them too."""
    async with call.db() as conn:
        row = await consumers.get_by_name(conn, call.param("name"))
    return AdminJSON(project(row, FIELDS))


def routes() -> list[Route]:
    return [
        operator_route("/consumers", "GET", list_consumers),
        operator_route("/consumers", "POST", add_consumer),
        operator_route("/consumers/{name}", "GET", get_consumer),
    ]


# --- /openapi.json --------------------------------------------------------------------------

_TAG = "Admin: consumers"


def paths() -> dict[str, Any]:
    listed = {"items": [{**rep.CONSUMER_EXAMPLE, "active_credentials": 115}]}
    return {
        f"{PREFIX}/consumers": {
            "get": docs.operation(
                "listConsumers",
                _TAG,
                "List consumers",
                {"200": docs.ok("Consumers by name.", rep.listing(rep.CONSUMER_LISTED), listed)},
            ),
            "post": docs.operation(
                "addConsumer",
                _TAG,
                "Register a consumer (such as CFNC)",
                {
                    "201": docs.created("Registered.", rep.CONSUMER, rep.CONSUMER_EXAMPLE),
                    "409": docs.conflict("The name is taken.", "consumer 'CFNC' already exists"),
                    "422": docs.invalid({"name": "Required"}),
                },
                body=(ADD, {"name": "CFNC", "description": rep.CONSUMER_EXAMPLE["description"]}),
            ),
        },
        f"{PREFIX}/consumers/{{name}}": {
            "parameters": [docs.path_param("name", "The consumer's name.", "CFNC")],
            "get": docs.operation(
                "getConsumer",
                _TAG,
                "One consumer",
                {
                    "200": docs.ok("The consumer.", rep.CONSUMER, rep.CONSUMER_EXAMPLE),
                    "404": docs.not_found("consumer"),
                },
            ),
        },
    }
