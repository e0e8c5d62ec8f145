"""What the admin API sends: JSON with dates, UUIDs and addresses as strings, and only the
fields each resource names.

Responses are built from explicit field lists rather than from whole rows, so a column added to
a table later (a hash, a ciphertext) never reaches a client by accident.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any
from uuid import UUID

from starlette.responses import JSONResponse

# RFC 9111 §5.2.2.5: responses that carry a one-time secret must not be stored by any cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def jsonable(value: Any) -> Any:
    """`json.dumps` default for the types asyncpg returns."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | IPv4Address | IPv6Address):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class AdminJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=jsonable
        ).encode("utf-8")


def project(
    row: Mapping[str, Any], fields: Sequence[str], names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The named fields of `row`, some under the API's name (`names`: row key → API name)."""
    names = names or {}
    return {names.get(key, key): row.get(key) for key in fields}


def items(rows: Sequence[Mapping[str, Any]], fields: Sequence[str], **extra: Any) -> dict[str, Any]:
    """A listing: `{"items": [...]}`, an object so that paging fields can join it later."""
    return {"items": [project(r, fields) for r in rows], **extra}


def created(content: Any, location: str, *, secret: bool = False) -> AdminJSON:
    headers = {"Location": location, **(NO_STORE if secret else {})}
    return AdminJSON(content, status_code=201, headers=headers)
