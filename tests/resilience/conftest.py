"""What the red team's denial-of-service findings (issue 12) need: a consumer with a token for
its own district, an operator (API token and console session), and a way to read the audit
log back after a flush."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import credentials
from gateway.settings import Settings
from tests.conftest import PgDatabase, client_from, unique_lea
from tests.factories import CONSUMER_ACTOR, access_token, add_consumer, add_district, issue
from tests.secrets_seen import captured, remember


@dataclass(frozen=True)
class World:
    lea: str
    district_id: int
    client_id: str
    secret: str
    token: str
    operator_token: str


@pytest.fixture
async def world(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, control: asyncpg.Connection
) -> World:
    district = await add_district(owner_conn, unique_lea())
    consumer = await add_consumer(control)
    issued = await issue(control, district.lea_code, consumer)
    operator = await credentials.issue_operator(control, label="resilience", actor=CONSUMER_ACTOR)
    remember(operator.client_secret)
    token = await access_token(client, issued.client_id, issued.client_secret)
    operator_token = await access_token(client, operator.client_id, operator.client_secret)
    return World(
        district.lea_code,
        district.id,
        issued.client_id,
        issued.client_secret,
        token,
        operator_token,
    )


def fresh_address() -> str:
    """A documentation-range address nobody else uses: lockout is per address."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def fresh_client(app: Starlette, settings: Settings) -> httpx.AsyncClient:
    return client_from(app, settings, fresh_address())


async def audit_rows_with_request_id(database: PgDatabase, request_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database.owner_url)
    try:
        return list(
            await conn.fetch(
                "SELECT action, outcome, target, detail FROM audit_log WHERE request_id = $1",
                request_id,
            )
        )
    finally:
        await conn.close()


def log_since(mark: int) -> str:
    return captured()[mark:]
