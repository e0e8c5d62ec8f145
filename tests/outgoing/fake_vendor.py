"""A transcript vendor on loopback: a token endpoint and an upload endpoint, with faults.

A real HTTP server (a small Starlette app under uvicorn, in a thread, on a free 127.0.0.1
port), so the gateway's client meets real sockets, timeouts and status codes.

    POST /oauth/token   RFC 6749 password or client-credentials grant, client authentication
                        by HTTP Basic (form-urlencoded parts, §2.3.1). Wrong key/secret:
                        401 invalid_client; wrong user name/password: 401 invalid_grant.
    POST /upload        Bearer token; stores the body under its Idempotency-Key. A repeated
                        key answers 200 with the first reference and stores nothing. Every call
                        is counted (`upload_calls`), so tests can tell retries from duplicates.
    OPTIONS /upload     Bearer token; 204 (or `options_status`, after `options_delay`).
    SEED_PATH           the same upload endpoint at the path a vendor's documentation gave.
    GET /status         exists, but not for POST: OPTIONS answers 405 with Allow: GET.

Faults (`Faults`) are switched per test with `reset(Faults(...))`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.secrets_seen import remember

CONSUMER_KEY = "district-920-gateway"
# The Upload Path exactly as a vendor's documentation wrote it: no leading slash.
SEED_PATH = "send-library-api/v1/pesc/highschool/transcript/1/3/0"
USERNAME = "wcpss-registrar"


@dataclass
class Faults:
    token_delay: float = 0.0  # seconds before the token endpoint answers
    upload_failures: int = 0  # the first N uploads answer 500
    upload_status: int | None = None  # every upload answers this instead (e.g. 422)
    slow_uploads: int = 0  # the first N stored uploads answer only after upload_delay
    upload_delay: float = 0.0
    every_upload_delay: float = 0.0  # each upload waits this long (to keep work in flight)
    expire_after: int | None = None  # after N stored documents, every token so far expires
    options_status: int = 204
    options_delay: float = 0.0  # seconds before OPTIONS answers (a timeout)


@dataclass(frozen=True)
class Received:
    key: str
    reference: str
    body: bytes
    token: str
    at: float


@dataclass
class _State:
    faults: Faults = field(default_factory=Faults)
    tokens: set[str] = field(default_factory=set)
    documents: dict[str, Received] = field(default_factory=dict)
    token_calls: int = 0
    upload_calls: int = 0
    replays: int = 0
    failures_left: int = 0
    slow_left: int = 0
    expired: bool = False


def free_port() -> int:
    """A port with nothing listening (for 'connection refused')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FakeVendor:
    def __init__(self) -> None:
        # Random per run, remembered so the final test checks they never reached a log.
        self.consumer_secret = "cs-" + secrets.token_urlsafe(18)
        self.password = "pw-" + secrets.token_urlsafe(12)
        remember(self.consumer_secret, self.password)
        self._lock = threading.Lock()
        self._state = _State()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/upload", self._upload, methods=["POST"]),
                Route("/upload", self._options, methods=["OPTIONS"]),
                Route(f"/{SEED_PATH}", self._upload, methods=["POST"]),
                Route(f"/{SEED_PATH}", self._options, methods=["OPTIONS"]),
                Route("/status", self._status, methods=["GET"]),
            ]
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        server = self._server

        def serve() -> None:
            # uvloop, not asyncio's selector loop: a selector loop serving from a second thread
            # answered each POST ~45 ms late here (against ~1 ms from another process).
            loop = uvloop.new_event_loop()
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="fake-vendor", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake vendor did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self, faults: Faults | None = None) -> None:
        with self._lock:
            chosen = faults or Faults()
            self._state = _State(
                faults=chosen,
                failures_left=chosen.upload_failures,
                slow_left=chosen.slow_uploads,
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what tests read -------------------------------------------------------------------

    @property
    def documents(self) -> dict[str, Received]:
        with self._lock:
            return dict(self._state.documents)

    @property
    def upload_calls(self) -> int:
        with self._lock:
            return self._state.upload_calls

    @property
    def token_calls(self) -> int:
        with self._lock:
            return self._state.token_calls

    @property
    def replays(self) -> int:
        with self._lock:
            return self._state.replays

    # --- endpoints -------------------------------------------------------------------------

    def _client_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        key, _, secret = decoded.partition(":")
        return (unquote_plus(key), unquote_plus(secret)) == (
            CONSUMER_KEY,
            self.consumer_secret,
        )

    async def _token(self, request: Request) -> Response:
        with self._lock:
            self._state.token_calls += 1
            delay = self._state.faults.token_delay
        if delay:
            await asyncio.sleep(delay)
        form = await request.form()
        if not self._client_ok(request):
            return JSONResponse(
                {"error": "invalid_client"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="vendor"'},
            )
        grant = form.get("grant_type")
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, self.password):
                return JSONResponse({"error": "invalid_grant"}, status_code=401)
        elif grant != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = "vt-" + secrets.token_urlsafe(24)
        remember(token)
        with self._lock:
            self._state.tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self._lock:
            return token if token in self._state.tokens else None

    @staticmethod
    def _expired() -> Response:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def _options(self, request: Request) -> Response:
        if self._bearer(request) is None:
            return self._expired()
        with self._lock:
            status = self._state.faults.options_status
            delay = self._state.faults.options_delay
        if delay:
            await asyncio.sleep(delay)
        return Response(status_code=status, headers={"Allow": "POST, OPTIONS"})

    async def _status(self, _request: Request) -> Response:
        return JSONResponse({"status": "up"})

    async def _upload(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._state.upload_calls += 1
            pause = self._state.faults.every_upload_delay
        if pause:
            await asyncio.sleep(pause)
        token = self._bearer(request)
        if token is None:
            return self._expired()
        key = request.headers.get("idempotency-key", "").strip('"')
        if not key:
            return JSONResponse({"error": "Idempotency-Key required"}, status_code=400)
        with self._lock:
            state = self._state
            if state.failures_left > 0:
                state.failures_left -= 1
                return JSONResponse({"error": "temporarily unavailable"}, status_code=500)
            if state.faults.upload_status is not None:
                return JSONResponse({"error": "refused"}, status_code=state.faults.upload_status)
            first = state.documents.get(key)
            if first is not None:
                state.replays += 1
                return JSONResponse({"reference": first.reference, "replayed": True})
            reference = f"V-{len(state.documents) + 1:06d}-{secrets.token_hex(2)}"
            state.documents[key] = Received(key, reference, body, token, time.monotonic())
            limit = state.faults.expire_after
            if limit is not None and not state.expired and len(state.documents) >= limit:
                state.expired = True
                state.tokens.clear()
            slow = state.slow_left > 0
            if slow:
                state.slow_left -= 1
            delay = state.faults.upload_delay
        if slow:
            # Stored, but answered too late: the client times out and must retry safely.
            await asyncio.sleep(delay)
        return JSONResponse({"reference": reference}, status_code=201)
