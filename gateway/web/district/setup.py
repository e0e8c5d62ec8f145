"""What a district sees of its Electronic Release Setup: plain views of the control rows.

The views are built by pure functions from the rows that `gateway.control.credentials` and
`gateway.control.vendors` return, so what reaches a template is decided (and tested) here.
Secrets never reach a view: a consumer credential's secret is not stored at all, and an
outgoing connection's secrets are never decrypted for display. Every masked field shows the
same constant, so the mask says nothing about the secret (not even its length).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from gateway.control import credentials, vendors
from gateway.errors import NotFound
from gateway.urls import etranscripts_url, token_url

SECRET_MASK = vendors.MASK
# One answer for every "not yours" and "not there", so a URL reveals nothing about other
# districts' connections.
NO_SUCH_CONNECTION = "No such connection in this district."


@dataclass(frozen=True)
class Incoming:
    """A consumer credential of the district: how a consumer (e.g. CFNC) reaches it."""

    name: str
    client_id: str
    consumer: str
    status: str  # active, expired, revoked
    created_at: datetime
    last_used_at: datetime | None
    etranscripts_url: str
    token_url: str
    client_secret: str = SECRET_MASK


@dataclass(frozen=True)
class LastTest:
    """The outcome of the last connection test (issue 6 writes it; None until then)."""

    ok: bool | None
    at: datetime | None
    message: str

    @property
    def label(self) -> str:
        if self.ok is None:
            return "Not tested"
        return "Your connection is valid" if self.ok else "Connection failed"


@dataclass(frozen=True)
class Outgoing:
    """An outgoing connection to a transcript vendor, as the district may see it."""

    connection_id: UUID
    name: str
    auth_server: str
    auth_path: str
    upload_server: str
    upload_port: int
    upload_path: str
    consumer_key: str
    username: str
    last_test: LastTest
    consumer_secret: str = SECRET_MASK
    password: str = SECRET_MASK


def incoming(row: dict[str, Any], base_url: str, lea: str, now: datetime) -> Incoming:
    return Incoming(
        name=row["label"],
        client_id=row["client_id"],
        consumer=row["consumer"] or "—",
        status=credentials.effective_status(row, now),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        etranscripts_url=etranscripts_url(base_url, lea),
        token_url=token_url(base_url),
    )


def outgoing(row: dict[str, Any]) -> Outgoing:
    # Fields are picked one by one (no **row): a secret column added to the row later cannot
    # slip into a page by accident.
    return Outgoing(
        connection_id=row["connection_id"],
        name=row["name"],
        auth_server=row["auth_server"],
        auth_path=row["auth_path"],
        upload_server=row["upload_server"],
        upload_port=row["upload_port"],
        upload_path=row["upload_path"],
        consumer_key=row["consumer_key"],
        username=row["username"],
        last_test=LastTest(
            row["last_test_ok"], row["last_test_at"], row["last_test_message"] or ""
        ),
    )


def shown_in_setup(item: Incoming) -> bool:
    """A revoked credential is a deleted connection: gone from the table (its details page
    still answers, so that old links and disclosure rows can be followed)."""
    return item.status != "revoked"


async def incoming_list(conn: asyncpg.Connection, base_url: str, lea: str) -> list[Incoming]:
    now = datetime.now(UTC)
    rows = await credentials.list_credentials(conn, lea)
    views = (incoming(r, base_url, lea, now) for r in rows if r["kind"] == "consumer")
    return [v for v in views if shown_in_setup(v)]


async def incoming_one(
    conn: asyncpg.Connection, base_url: str, lea: str, client_id: str
) -> Incoming:
    try:
        row = await credentials.get(conn, client_id)
    except NotFound:
        raise NotFound(NO_SUCH_CONNECTION) from None
    if row["district"] != lea or row["kind"] != "consumer":
        raise NotFound(NO_SUCH_CONNECTION)
    return incoming(row, base_url, lea, datetime.now(UTC))


async def outgoing_list(conn: asyncpg.Connection, lea: str) -> list[Outgoing]:
    return [outgoing(r) for r in await vendors.list_connections(conn, lea)]


def parse_connection_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFound(NO_SUCH_CONNECTION) from None


async def outgoing_one(conn: asyncpg.Connection, lea: str, connection_id: str) -> Outgoing:
    try:
        row = await vendors.get(conn, parse_connection_id(connection_id))
    except NotFound:
        raise NotFound(NO_SUCH_CONNECTION) from None
    if row["lea_code"] != lea:
        raise NotFound(NO_SUCH_CONNECTION)
    return outgoing(row)
