"""No answer of the admin API but the one-time ones (issue, rotate, add user, invite) ever
contains a secret, a hash, an invite token or a vendor password."""

from __future__ import annotations

import re

import asyncpg
import httpx
from starlette.routing import Route

from gateway.admin import api
from tests.admin.conftest import API, Operator, Setup
from tests.admin.workload import do_everything
from tests.outgoing.fake_vendor import FakeVendor


def readable_urls(values: dict[str, str]) -> list[str]:
    """Every GET route of the admin API, its path parameters filled from `values`."""
    urls = []
    for route in api.routes():
        assert isinstance(route, Route)
        if "GET" in (route.methods or ()):
            urls.append(re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], route.path))
    return urls


async def test_no_listing_or_reading_contains_a_secret(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    vendor: FakeVendor,
    control: asyncpg.Connection,
) -> None:
    work = await do_everything(client, operator, setup, vendor)
    hashes = await control.fetch(
        "SELECT s.secret_hash FROM credential_secrets s JOIN credentials c USING (credential_id)"
        " WHERE c.district_id = $1 OR c.client_id = $2",
        setup.district_id,
        operator.client_id,
    )
    never = [*work.secrets, operator.secret, operator.token, *(h["secret_hash"] for h in hashes)]
    assert len(work.secrets) >= 8

    values = {
        "lea": setup.lea,
        "client_id": work.client_id,
        "connection_id": work.connection_id,
        "email": work.email,
        "name": setup.consumer,
        "batch_id": str(work.batch_id),
        "load_id": work.load_id,
    }
    urls = readable_urls(values)
    assert f"{API}/audit" in urls
    for url in urls:
        response = await client.get(
            url,
            params={"limit": 1000} if url.endswith("/audit") else None,
            headers=operator.headers,
        )
        assert response.status_code == 200, (url, response.text)
        for secret in never:
            assert secret not in response.text, f"a secret in the answer of GET {url}"
