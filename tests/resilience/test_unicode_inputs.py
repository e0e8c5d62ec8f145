"""Arbitrary unicode in every text input of the consumer API and the token endpoint (NUL and
lone surrogates included) is answered, never with a 500 (issue 12, finding 3).

Lone surrogates cannot be sent as UTF-8, so the generated text is encoded with
`surrogatepass` (what a hostile client can put on the wire: ED A0 80 for U+D800) and
percent-encoded by hand; the gateway decodes it with replacement or refuses it.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from gateway.settings import Settings
from tests.pesc.documents import NC_REQUEST
from tests.resilience.conftest import World, fresh_client, log_since
from tests.secrets_seen import captured

HOSTILE = st.sampled_from(["\x00", "\ud800", "\udfff", "\ufffd", "\u202e", "%", "\\"])
# exclude_categories=() keeps Cs (surrogates), which st.characters leaves out by default.
TEXT = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=()), HOSTILE), min_size=0, max_size=24
)
CHECKS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unauthorized_client",
}
QUERY_NAMES = (
    "recipient",
    "purpose",
    "legal_basis",
    "request_tracking_id",
    "birth_date",
    "last_name",
    "pesc_version",
)


def wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def segment(text: str) -> str:
    return quote(wire(text), safe="") or "x"


def form(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote_plus(k)}={quote_plus(wire(v))}" for k, v in fields.items()).encode()


def no_server_error(response: httpx.Response, mark: int) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert "unhandled_error" not in log_since(mark)


@CHECKS
@given(lea=TEXT, student=TEXT, values=st.lists(TEXT, min_size=7, max_size=7))
async def test_transcript_get_path_and_query(
    lea: str,
    student: str,
    values: list[str],
    world: World,
    gateway_app: Starlette,
    app_settings: Settings,
) -> None:
    query = "&".join(f"{n}={quote_plus(wire(v))}" for n, v in zip(QUERY_NAMES, values, strict=True))
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        for path_lea in (segment(lea), world.lea):
            response = await client.get(
                f"/api/v1/districts/{path_lea}/etranscripts/{segment(student)}?{query}",
                headers={"Authorization": f"Bearer {world.token}"},
            )
            no_server_error(response, mark)
            assert response.status_code in {400, 403, 404, 406}


@CHECKS
@given(
    text=TEXT, field=st.sampled_from(["DocumentID", "FirstName", "LastName", "OrganizationName"])
)
async def test_transcript_request_body(
    text: str, field: str, world: World, gateway_app: Starlette, app_settings: Settings
) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    body = NC_REQUEST.replace(f"<{field}>", f"<{field}>{escaped}", 1)
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        response = await client.post(
            f"/api/v1/districts/{world.lea}/etranscripts",
            content=wire(body),
            headers={"Authorization": f"Bearer {world.token}", "Content-Type": "application/xml"},
        )
    no_server_error(response, mark)
    assert response.status_code in {200, 400, 413, 422}


@CHECKS
@given(
    fields=st.dictionaries(
        st.sampled_from(["grant_type", "client_id", "client_secret", "scope"]), TEXT
    )
)
async def test_token_endpoint_form(
    fields: dict[str, str], gateway_app: Starlette, app_settings: Settings
) -> None:
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        response = await client.post(
            "/oauth2/token",
            content=form(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    no_server_error(response, mark)
    assert response.status_code in {400, 401}
    assert response.json()["error"] in TOKEN_ERRORS  # RFC 6749 §5.2


@CHECKS
@given(client_id=TEXT, secret=TEXT, scope=TEXT)
async def test_token_endpoint_basic(
    client_id: str, secret: str, scope: str, gateway_app: Starlette, app_settings: Settings
) -> None:
    # RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
    basic = base64.b64encode(
        quote_plus(wire(client_id)).encode() + b":" + quote_plus(wire(secret)).encode()
    )
    mark = len(captured())
    async with fresh_client(gateway_app, app_settings) as client:
        response = await client.post(
            "/oauth2/token",
            content=form({"grant_type": "client_credentials", "scope": scope}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {basic.decode()}",
            },
        )
    no_server_error(response, mark)
    assert response.status_code in {400, 401}
    assert response.json()["error"] in TOKEN_ERRORS
