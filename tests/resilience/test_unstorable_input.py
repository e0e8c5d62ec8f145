"""A NUL (or an unpaired surrogate) anywhere in a request is a 400 at the edge, never a 500, and
the audit log keeps recording what comes next (issue 12, findings 2 and 3: every trigger the
red team found, reproduced)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Scope

from gateway.input_guard import check_head
from gateway.settings import Settings
from tests.conftest import PgDatabase
from tests.resilience.conftest import (
    World,
    audit_rows_with_request_id,
    fresh_client,
    log_since,
)
from tests.secrets_seen import captured
from tests.web.test_admin_pages import sign_in_operator

Trigger = Callable[[httpx.AsyncClient, World], Awaitable[httpx.Response]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def path_district(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.get("/api/v1/districts/600%00/etranscripts/x", headers=bearer(w.token))


async def path_student(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.get(
        f"/api/v1/districts/{w.lea}/etranscripts/a%00b", headers=bearer(w.token)
    )


async def transcript_query(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.get(
        f"/api/v1/districts/{w.lea}/etranscripts/x",
        params={"recipient": "a\x00b"},
        headers=bearer(w.token),
    )


async def token_client_id(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.post(
        "/oauth2/token",
        content=b"grant_type=client_credentials&client_id=abc%00def&client_secret=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def token_long_client_id_after_lockout(client: httpx.AsyncClient, w: World) -> httpx.Response:
    for _ in range(6):  # lock this address for this client id first
        await client.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": w.client_id,
                "client_secret": "no",
            },
        )
    long_id = "c" * 130 + "\x00"
    return await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": long_id, "client_secret": "x"},
    )


async def token_basic(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=("ab%00c", "secret")
    )


async def login_email(client: httpx.AsyncClient, w: World) -> httpx.Response:
    from tests.web.test_login import csrf

    page = await client.get("/login")
    return await client.post(
        "/login", data={"csrf_token": csrf(page.text), "email": "a\x00@x.org", "password": "p"}
    )


async def admin_api_batches(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.get(
        "/admin/api/v1/batches", params={"district": "6\x0000"}, headers=bearer(w.operator_token)
    )


async def admin_api_credentials_json(client: httpx.AsyncClient, w: World) -> httpx.Response:
    body = json.dumps({"district": w.lea, "consumer": "x\x00", "label": "l"})
    return await client.post(
        "/admin/api/v1/credentials",
        content=body.encode(),
        headers={**bearer(w.operator_token), "Content-Type": "application/json"},
    )


async def admin_api_lone_surrogate(client: httpx.AsyncClient, w: World) -> httpx.Response:
    return await client.post(
        "/admin/api/v1/credentials",
        content=b'{"district": "' + w.lea.encode() + b'", "consumer": "\\ud800", "label": "l"}',
        headers={**bearer(w.operator_token), "Content-Type": "application/json"},
    )


TRIGGERS: dict[str, Trigger] = {
    "path district": path_district,
    "path student id": path_student,
    "transcript query": transcript_query,
    "token form client_id": token_client_id,
    "token 131-char client_id after lockout": token_long_client_id_after_lockout,
    "token Basic client_id": token_basic,
    "login email": login_email,
    "admin API batches filter": admin_api_batches,
    "admin API credential JSON": admin_api_credentials_json,
    "admin API lone surrogate": admin_api_lone_surrogate,
}

CONSOLE_PAGES = [
    "/admin/audit?actor=a%00b",
    "/admin/credentials?consumer=a%00b",
    "/admin/districts?q=a%00b",
    "/admin/batches?district=6%0000",
    "/districts/{lea}/disclosures?consumer=a%00b",
    "/districts/{lea}/disclosures?student=a%00b",
    "/districts/{lea}/setup/incoming/a%00b",
]


async def audit_still_records(
    app: Starlette, settings: Settings, database: PgDatabase, client_id: str
) -> None:
    """A wrong-secret token request after the trigger is in the audit log (read back)."""
    request_id = f"after-{uuid.uuid4().hex}"
    async with fresh_client(app, settings) as other:
        answer = await other.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, "wrong"),
            headers={"X-Request-Id": request_id},
        )
    assert answer.status_code == 401
    await app.state.services.audit.flush()
    rows = await audit_rows_with_request_id(database, request_id)
    assert [(r["action"], r["outcome"]) for r in rows] == [("token.issue", "failure")]


@pytest.mark.parametrize("name", list(TRIGGERS))
async def test_each_nul_trigger_is_a_400_and_the_audit_keeps_recording(
    name: str,
    world: World,
    gateway_app: Starlette,
    app_settings: Settings,
    database: PgDatabase,
) -> None:
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        response = await TRIGGERS[name](client, world)
    assert response.status_code == 400, response.text
    if response.url.path.startswith("/oauth2/"):
        assert response.json()["error"] == "invalid_request"  # RFC 6749 §5.2
    elif response.url.path.startswith(("/api/", "/admin/api/")):
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 400
    await gateway_app.state.services.audit.flush()
    logged = log_since(mark)
    assert "unhandled_error" not in logged and "Traceback" not in logged
    assert "audit_flush_failed" not in logged
    await audit_still_records(gateway_app, app_settings, database, world.client_id)


@pytest.mark.parametrize("url", CONSOLE_PAGES)
async def test_console_filters_with_a_nul_are_a_400_page(
    url: str,
    world: World,
    gateway_app: Starlette,
    app_settings: Settings,
    control: asyncpg.Connection,
    database: PgDatabase,
) -> None:
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        await sign_in_operator(client, control)
        response = await client.get(url.format(lea=world.lea))
    assert response.status_code == 400
    assert "unhandled_error" not in log_since(mark)
    await audit_still_records(gateway_app, app_settings, database, world.client_id)


def scope(
    path: str = "/", query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> Scope:
    return {"type": "http", "path": path, "query_string": query, "headers": headers or []}


def test_the_head_check_covers_path_query_and_headers() -> None:
    assert check_head(scope("/api/v1/districts/600/etranscripts/x", b"recipient=ok")) is None
    assert check_head(scope("/a\x00b")) is not None
    assert check_head(scope("/", b"a=%00")) is not None
    assert check_head(scope("/", b"a%00=1")) is not None
    assert check_head(scope("/", headers=[(b"user-agent", b"x\x00y")])) is not None
    refused = check_head(scope("/oauth2/token", b"x=%00"))
    assert refused is not None and refused.render()[0]["error"] == "invalid_request"
