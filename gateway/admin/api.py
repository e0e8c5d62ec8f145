"""The admin JSON API under /admin/api/v1: districts, consumers, credentials, outgoing vendor
connections (and their test), batch releases, district data loads, web users and the audit log, for scripts and
other state systems.

Authenticated with an operator credential (client credentials with the `admin` scope, from
`gateway credential issue-operator`); every write goes through the control-plane repositories,
which audit it under the operator's client id in the same transaction. Each resource module
holds its specs, handlers, routes and documentation; this module puts them together for
`gateway.app`.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from gateway.admin import (
    audit,
    batches,
    connection_test,
    consumers,
    credentials,
    districts,
    loads,
    outgoing,
    users,
)

_RESOURCES = (
    districts,
    loads,
    consumers,
    credentials,
    outgoing,
    connection_test,
    batches,
    users,
    audit,
)


def routes() -> list[BaseRoute]:
    return [route for resource in _RESOURCES for route in resource.routes()]


def openapi_paths() -> dict[str, Any]:
    """Extra paths for /openapi.json (merged by `gateway.api.openapi`)."""
    paths: dict[str, Any] = {}
    for resource in _RESOURCES:
        paths.update(resource.paths())
    return paths
