"""The state operators' console at /admin: districts with their incoming and outgoing
connections, consumers, credentials, users and the audit log.

One module per page family (`admin_districts`, `admin_district_data`, `admin_incoming`, `admin_outgoing`,
`admin_batches`, `admin_consumers`, `admin_credentials`, `admin_users`, `admin_audit`); this
one only gathers their routes. Every handler starts with the `operator(request)` guard (anyone else gets 404 on
a page, 403 on a write), every POST goes through `form(request)` (CSRF), and every change is
audited by the repository in the change's own transaction.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.web import (
    admin_audit,
    admin_batches,
    admin_connection_test,
    admin_consumers,
    admin_credentials,
    admin_district_data,
    admin_districts,
    admin_incoming,
    admin_outgoing,
    admin_users,
)


def routes() -> list[BaseRoute]:
    return [
        *admin_districts.routes(),
        *admin_district_data.routes(),
        *admin_incoming.routes(),
        *admin_connection_test.routes(),
        *admin_outgoing.routes(),
        *admin_batches.routes(),
        *admin_consumers.routes(),
        *admin_credentials.routes(),
        *admin_users.routes(),
        *admin_audit.routes(),
    ]
