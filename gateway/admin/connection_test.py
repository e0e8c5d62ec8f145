"""POST /admin/api/v1/outgoing/{connection_id}/test: test an outgoing connection now.

The same test as `gateway vendor test` and the console's Test button (`check_connection`):
a token from the auth server, then an authenticated OPTIONS to the upload endpoint, with
strict timeouts, so the answer may take up to about 20 s. A failing vendor is a 200 with
`ok: false` and the reason; the result is stored on the connection and audited
(`outgoing.test`) under the operator credential.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import batch_representations as rep
from gateway.admin import docs
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.outgoing import parse_id
from gateway.admin.output import AdminJSON
from gateway.outgoing.probe import check_connection


async def test_connection(call: Call) -> Response:
    connection_id = parse_id(call.param("connection_id"))
    result = await check_connection(
        call.services.stores.control, call.settings.master_keys, connection_id, call.actor
    )
    return AdminJSON(rep.test_result(connection_id, result))


def routes() -> list[Route]:
    return [operator_route("/outgoing/{connection_id}/test", "POST", test_connection)]


def paths() -> dict[str, Any]:
    connection_id = docs.path_param(
        "connection_id", "The connection's id.", rep.TEST_EXAMPLE["connection_id"], format="uuid"
    )
    return {
        f"{PREFIX}/outgoing/{{connection_id}}/test": {
            "parameters": [connection_id],
            "post": docs.operation(
                "testOutgoingConnection",
                "Admin: outgoing connections",
                "Test an outgoing connection: token, then the upload endpoint",
                {
                    "200": docs.ok(
                        "The outcome, valid or failed with its reason.",
                        rep.TEST_RESULT,
                        rep.TEST_EXAMPLE,
                    ),
                    "404": docs.not_found("outgoing connection"),
                },
                description="Gets a token from auth server + auth path with the connection's "
                "grant, then sends an authenticated OPTIONS to the upload URL (nothing is "
                "uploaded). Timeouts: 5 s to connect, 5 s per read, so up to about 20 s. The "
                "result is stored on the connection (last_test_*) and audited. No body.",
            ),
        }
    }
