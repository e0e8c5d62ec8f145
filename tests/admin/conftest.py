"""An operator credential and its token, a consumer's token, and a fresh district: what every
admin API test starts from. And the fake vendor on loopback (tests/outgoing/fake_vendor.py)
for the connection test and batch releases."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import credentials
from gateway.outgoing import batches
from tests.conftest import unique_lea
from tests.factories import (
    CONSUMER_ACTOR,
    access_token,
    add_consumer,
    add_district,
    add_student,
    issue,
)
from tests.secrets_seen import remember

API = "/admin/api/v1"


@dataclass(frozen=True)
class Operator:
    client_id: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Setup:
    """A district (known to the gateway's directory) with one student, and a consumer, all
    fresh."""

    lea: str
    district_id: int
    consumer: str
    student_id: str


async def eventually(condition: Callable[[], bool], what: str, within: float = 2.0) -> None:
    """Workers hear of changes through the change feed, a moment after the commit."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {within} s"
        await asyncio.sleep(0.01)


async def wait_for_district(app: Starlette, lea: str) -> None:
    """The token endpoint reads districts from the directory only, so tests wait for it."""
    directory = app.state.services.directory
    await eventually(lambda: directory.cached(lea) is not None, f"district {lea} in the directory")


@pytest.fixture
async def operator(client: httpx.AsyncClient, control: asyncpg.Connection) -> Operator:
    issued = await credentials.issue_operator(control, label="admin api test", actor=CONSUMER_ACTOR)
    remember(issued.client_secret)
    token = await access_token(client, issued.client_id, issued.client_secret)
    return Operator(issued.client_id, issued.client_secret, token)


@pytest.fixture
async def setup(
    owner_conn: asyncpg.Connection, control: asyncpg.Connection, gateway_app: Starlette
) -> AsyncIterator[Setup]:
    district = await add_district(owner_conn, unique_lea())
    student_id = f"9{secrets.randbelow(10**9):09d}"
    await add_student(owner_conn, district.id, student_id)
    consumer = await add_consumer(control)
    await wait_for_district(gateway_app, district.lea_code)
    yield Setup(district.lea_code, district.id, consumer, student_id)
    await close_open_batches(control, district.id)


async def close_open_batches(control: asyncpg.Connection, district_id: int) -> None:
    """Batches queued here go nowhere (no worker runs in these tests); closed at the end so
    that the workers of later tests never find them in the shared queue."""
    await control.execute(
        "UPDATE release_items SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL,"
        " error_kind = 'test', last_error = 'closed by the test'"
        " WHERE district_id = $1 AND status IN ('queued', 'in_progress')",
        district_id,
    )
    await batches.finish_stale(control)


@pytest.fixture
async def consumer_token(
    client: httpx.AsyncClient, control: asyncpg.Connection, setup: Setup
) -> str:
    """A valid token of a district's consumer credential (scope etranscripts, not admin)."""
    issued = await issue(control, setup.lea, setup.consumer)
    return await access_token(client, issued.client_id, issued.client_secret)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def remember_shared(body: dict[str, Any]) -> None:
    """The one-time values of an answer (a client secret, an invite link and its token), for
    the end-of-run check that none of them reached a log line."""
    remember(body.get("client_secret"))
    url = body.get("invite_url")
    if isinstance(url, str):
        remember(url, url.rsplit("/", 1)[-1])
