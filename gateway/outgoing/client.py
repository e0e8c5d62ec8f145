"""The vendor's HTTP API: get a token, upload a transcript, check the upload endpoint.

The only module that opens sockets to vendors. Every call has strict timeouts (connect and
read, plus an overall deadline per request, so that a server dribbling bytes cannot hold a
worker), redirects are never followed (a bearer token must not travel to a second host), and
every transport error becomes a `VendorFailure` with a classified reason.

Secrets arrive as arguments at the moment of use and are kept in local variables; tokens live
in `TokenCache` (in memory, per worker process) and never reach a log line: `Token.value`
is left out of its repr.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit
from uuid import UUID

import httpx

from gateway.authlib_clients import AsyncOAuth2Client
from gateway.control.vendors import VendorSecrets, upload_url
from gateway.outgoing.failures import (
    Failure,
    VendorFailure,
    classify_exception,
    classify_token_answer,
)

USER_AGENT = "etranscript-gateway (outgoing release)"
# Reuse a token until this many seconds before the vendor said it expires.
_EXPIRY_MARGIN = 30.0
# When the vendor does not say (expires_in is RECOMMENDED, RFC 6749 §5.1), assume this long.
_DEFAULT_LIFETIME = 300.0
_MAX_REFERENCE = 200
# Keys under which vendors' upload answers name what they stored, most specific first.
_REFERENCE_KEYS = (
    "reference",
    "vendor_reference",
    "referenceId",
    "tracking_id",
    "trackingId",
    "document_id",
    "documentId",
    "confirmation",
    "id",
)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect, and to wait for the answer. `deadline`, their sum, bounds a whole
    exchange, so that a server dribbling one byte per read timeout cannot hold a worker."""

    connect: float = 5.0
    read: float = 5.0

    @property
    def deadline(self) -> float:
        return self.connect + self.read

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.read, write=self.read, pool=self.connect
        )


@dataclass(frozen=True)
class Endpoint:
    """What the client needs to know about an outgoing connection, secrets excepted."""

    connection_id: UUID
    name: str
    auth_url: str
    upload_url: str
    consumer_key: str
    username: str
    grant_type: str
    # The connection's updated_at: an edited connection never reuses an old token.
    version: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Endpoint:
        """From `gateway.control.vendors.get()` (or any row with the same columns)."""
        return cls(
            connection_id=row["connection_id"],
            name=row["name"],
            auth_url=f"{row['auth_server']}{row['auth_path']}",
            upload_url=upload_url(row["upload_server"], row["upload_port"], row["upload_path"]),
            consumer_key=row["consumer_key"],
            username=row["username"],
            grant_type=row["grant_type"],
            version=row["updated_at"],
        )

    @property
    def cache_key(self) -> tuple[UUID, datetime]:
        return (self.connection_id, self.version)

    @property
    def auth_host(self) -> str:
        return _host(self.auth_url, "the auth server")

    @property
    def upload_host(self) -> str:
        return _host(self.upload_url, "the upload server")


def _host(url: str, role: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{role} {parts.hostname}{port}"


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic() seconds


@dataclass(frozen=True)
class UploadAnswer:
    status: int
    reference: str | None
    retry_after: str | None


def client_basic(consumer_key: str, consumer_secret: str) -> str:
    """HTTP Basic client authentication as RFC 6749 §2.3.1 has it: each part
    form-urlencoded before base64, so a ':' in a key or secret cannot split it."""
    pair = f"{quote_plus(consumer_key)}:{quote_plus(consumer_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def token_form(endpoint: Endpoint, secrets: VendorSecrets) -> dict[str, str]:
    """The token request body: the password grant (RFC 6749 §4.3) carries the user's name
    and password; client credentials (§4.4) carries neither."""
    if endpoint.grant_type == "password":
        return {
            "grant_type": "password",
            "username": endpoint.username,
            "password": secrets.password,
        }
    return {"grant_type": "client_credentials"}


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def parse_token(body: Any, now: float) -> Token | None:
    """An RFC 6749 §5.1 answer as a Token, or None if it is not one."""
    if not isinstance(body, dict):
        return None
    value = body.get("access_token")
    if not isinstance(value, str) or not value:
        return None
    token_type = body.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        return None
    lifetime = body.get("expires_in")
    seconds = (
        float(lifetime)
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0
        else _DEFAULT_LIFETIME
    )
    # A short-lived token is still used once rather than never.
    usable = max(seconds - _EXPIRY_MARGIN, seconds / 2)
    return Token(value, now + usable)


def vendor_reference(response_headers: Mapping[str, str], body: Any) -> str | None:
    """What the vendor calls the document it stored: a JSON field, else the Location."""
    if isinstance(body, dict):
        for key in _REFERENCE_KEYS:
            value = body.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)[:_MAX_REFERENCE]
    location = response_headers.get("location")
    if location:
        return location[:_MAX_REFERENCE]
    return None


class _Shared(httpx.AsyncBaseTransport):
    """A transport that sends through the worker's shared client: its connection pool, limits
    and TLS settings, for the short-lived OAuth 2 client of each token fetch. Closing the
    OAuth client leaves the shared one open (the base class's aclose does nothing)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._http.send(request, stream=True, follow_redirects=False)


def _rfc6749_basic(
    auth: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    # authlib's own client_secret_basic joins id and secret as they are; RFC 6749 §2.3.1
    # form-urlencodes each first, so a ':' in a consumer key cannot split the pair.
    headers["Authorization"] = client_basic(auth.client_id, auth.client_secret)
    return uri, headers, body


class VendorClient:
    """Calls to one or many vendors over one shared HTTP connection pool.

    Tokens come from authlib's httpx OAuth 2 client (`AsyncOAuth2Client.fetch_token`: the
    grant's form, the Accept header, the exchange), with two parts of ours plugged in: the
    §2.3.1 Basic encoding above, and the judgement of the answer (`judge` in `fetch_token`),
    so that a refusal is classified exactly as `failures.classify_token_answer` says rather
    than raised as authlib's generic OAuthError. Uploads and the connection test's OPTIONS
    are plain bearer requests on the shared client: authlib's client would only add a token
    store we do not want (tokens live in `TokenCache`, per connection version).
    """

    def __init__(self, http: httpx.AsyncClient, timeouts: Timeouts) -> None:
        self._http = http
        self._timeouts = timeouts
        self._through = _Shared(http)

    @staticmethod
    def new_http(timeouts: Timeouts, *, max_connections: int = 20) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=timeouts.httpx(),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": USER_AGENT},
        )

    async def _guard(self, what: str, call: Coroutine[Any, Any, Any]) -> Any:
        """Run one exchange under the overall deadline; transport errors classified."""
        try:
            async with asyncio.timeout(self._timeouts.deadline):
                return await call
        except (httpx.TransportError, TimeoutError) as exc:
            # `from None`: the httpx exception holds the request, headers included.
            raise VendorFailure(classify_exception(exc, what)) from None

    async def _send(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = await self._guard(
            what, self._http.request(method, url, **kwargs)
        )
        return response

    async def fetch_token(self, endpoint: Endpoint, secrets: VendorSecrets) -> Token:
        judged: list[Token] = []

        def judge(response: httpx.Response) -> httpx.Response:
            # authlib's compliance hook sees the raw answer before authlib parses it.
            body = _json(response)
            token = parse_token(body, time.monotonic()) if response.status_code == 200 else None
            if token is None:
                raise VendorFailure(classify_token_answer(response.status_code, body))
            judged.append(token)
            return response

        form = token_form(endpoint, secrets)
        async with AsyncOAuth2Client(
            client_id=endpoint.consumer_key,
            client_secret=secrets.consumer_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            transport=self._through,
            timeout=self._timeouts.httpx(),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as oauth:
            oauth.register_client_auth_method(("client_secret_basic", _rfc6749_basic))
            oauth.register_compliance_hook("access_token_response", judge)
            await self._guard(endpoint.auth_host, oauth.fetch_token(endpoint.auth_url, **form))
        return judged[0]

    async def upload(
        self, endpoint: Endpoint, token: Token, document: bytes, idempotency_key: str
    ) -> UploadAnswer:
        response = await self._send(
            endpoint.upload_host,
            "POST",
            endpoint.upload_url,
            content=document,
            headers={
                "Authorization": f"Bearer {token.value}",
                "Content-Type": "application/xml; charset=utf-8",
                "Accept": "application/json",
                # Fixed per item: the vendor stores a key once, so a retry never duplicates.
                "Idempotency-Key": idempotency_key,
            },
        )
        body = _json(response) if 200 <= response.status_code < 300 else None
        return UploadAnswer(
            response.status_code,
            vendor_reference(response.headers, body),
            response.headers.get("retry-after"),
        )

    async def check_upload(self, endpoint: Endpoint, token: Token) -> tuple[int, str | None]:
        """An authenticated OPTIONS on the upload URL (safe: it stores nothing, RFC 9110
        §9.3.7); the status code and Allow header, for `failures.probe_upload_status`."""
        response = await self._send(
            endpoint.upload_host,
            "OPTIONS",
            endpoint.upload_url,
            headers={"Authorization": f"Bearer {token.value}"},
        )
        return response.status_code, response.headers.get("allow")


SecretsSource = Callable[[UUID], Awaitable[VendorSecrets]]


class TokenCache:
    """Vendor tokens by connection, shared by a worker's concurrent deliveries.

    One fetch per connection at a time (the others wait for its token rather than each asking
    the vendor), and a refused login is remembered for `refusal_seconds`: a batch of 500 with a
    wrong password makes one failed login, not 500, which would lock the vendor account.
    """

    def __init__(
        self,
        client: VendorClient,
        secrets: SecretsSource,
        *,
        refusal_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secrets = secrets
        self._refusal_seconds = refusal_seconds
        self._clock = clock
        self._tokens: dict[tuple[UUID, datetime], Token] = {}
        self._refused: dict[tuple[UUID, datetime], tuple[Failure, float]] = {}
        self._locks: dict[tuple[UUID, datetime], asyncio.Lock] = {}
        self.fetches = 0  # for metrics and tests: how many times a vendor was asked

    def _valid(self, key: tuple[UUID, datetime]) -> Token | None:
        token = self._tokens.get(key)
        return token if token is not None and token.expires_at > self._clock() else None

    async def get(self, endpoint: Endpoint) -> Token:
        key = endpoint.cache_key
        token = self._valid(key)
        if token is not None:
            return token
        async with self._locks.setdefault(key, asyncio.Lock()):
            refused = self._refused.get(key)
            if refused is not None and refused[1] > self._clock():
                raise VendorFailure(refused[0])
            token = self._valid(key)  # fetched by another delivery while this one waited
            if token is None:
                token = await self._fetch(endpoint)
                self._tokens[key] = token
            return token

    async def _fetch(self, endpoint: Endpoint) -> Token:
        self.fetches += 1
        secrets = await self._secrets(endpoint.connection_id)
        try:
            return await self._client.fetch_token(endpoint, secrets)
        except VendorFailure as failed:
            if failed.failure.kind == "auth":
                until = self._clock() + self._refusal_seconds
                self._refused[endpoint.cache_key] = (failed.failure, until)
            raise
        finally:
            del secrets

    def invalidate(self, endpoint: Endpoint, token: Token) -> None:
        """Forget `token` after the vendor said it expired (if no newer one replaced it)."""
        if self._tokens.get(endpoint.cache_key) is token:
            del self._tokens[endpoint.cache_key]
