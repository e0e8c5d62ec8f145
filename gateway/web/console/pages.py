"""The state operators' console at /admin: districts with their incoming and outgoing
connections, consumers, credentials, users and the audit log.

One module per page family (`districts`, `district_data`, `incoming`, `outgoing`, `batches`, `consumers`,
`credentials`, `users`, `audit`); this one only gathers their routes. Every route is built by
`endpoint.console_page`, which applies the operator guard before the handler (anyone else gets
404 on a page, 403 on a write); every POST goes through `form(request)` (CSRF), and every
change is audited by the repository in the change's own transaction.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.web.console import (
    audit,
    batches,
    connection_test,
    consumers,
    credentials,
    district_data,
    districts,
    incoming,
    outgoing,
    users,
)


def routes() -> list[BaseRoute]:
    return [
        *districts.routes(),
        *district_data.routes(),
        *incoming.routes(),
        *connection_test.routes(),
        *outgoing.routes(),
        *batches.routes(),
        *consumers.routes(),
        *credentials.routes(),
        *users.routes(),
        *audit.routes(),
    ]
