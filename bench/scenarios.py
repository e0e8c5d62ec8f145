"""What the benchmark measures: a registry of scenarios, each compared to a floor.

A scenario is a name, the floor it is compared to, and a function that prepares the
requests wrk replays (round-robin, from a file: see requestfile.py). Floors are scenarios
with `floor=None`; a scenario's ratio is its req/s over its floor's req/s with the same
number of workers in the same run.

To add one, write a `prepare(ctx) -> list[Request]` and append a `Scenario` to SCENARIOS, e.g.

    def transcript_requests(ctx: Context) -> list[Request]:
        rows = ctx.query("SELECT ... FROM students ... LIMIT 5000")  # owner role, no RLS
        tokens = {c.district: ctx.token(c) for c in ctx.credentials}
        return [Request("GET", f"/api/v1/districts/{lea}/etranscripts/{sid}",
                        {"Authorization": f"Bearer {tokens[lea]}"}) for lea, sid in ...]

    Scenario("transcript_fetch", floor="floor_query", needs_seed=True,
             summary="...", prepare=transcript_requests)

`prepare` runs once per server start (per worker count), after /readyz, so tokens it fetches
are fresh. Every request must answer 2xx: the harness probes a few before the load and
reports any non-2xx answer during it as an error.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

import asyncpg

from bench.errors import BenchError
from bench.provision import Credential, Seeded
from bench.requestfile import Request

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Context:
    """What a scenario may use to prepare its requests."""

    base_url: str  # http://127.0.0.1:PORT of the server under test
    credentials: Sequence[Credential]  # consumer credentials, one per district
    seeded: Seeded | None  # None: no synthetic students (needs_seed scenarios are skipped)
    owner_url: str  # the database as gateway_owner (bypasses RLS: for picking test data)

    def token(self, credential: Credential, scope: str | None = None) -> str:
        """An access token for `credential` from the server under test."""
        form = "grant_type=client_credentials" + (f"&scope={quote_plus(scope)}" if scope else "")
        status, body = send(self.base_url, token_request(credential, form))
        if status != 200:
            raise BenchError(f"token for {credential.client_id}: {status} {body[:200]!r}")
        return str(json.loads(body)["access_token"])

    def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows of one parameterised query on the benchmark database, as the owner role."""

        async def go() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.owner_url, timeout=10)
            try:
                return [dict(r) for r in await conn.fetch(sql, *args, timeout=60)]
            finally:
                await conn.close()

        return asyncio.run(go())


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str  # one line for the README and the report
    prepare: Callable[[Context], Sequence[Request]]
    floor: str | None = None  # the floor it is compared to; None: this is a floor
    needs_seed: bool = False  # skipped (with a note) when no synthetic data was loaded
    # How it is driven: "wrk" against the gateway; "pgbench" (the database alone, see
    # pgbench.py: `prepare` returns no requests); "peer" (wrk against node oidc-provider).
    kind: str = "wrk"
    # Further baselines it is reported against (a ratio each), besides its floor.
    compare_to: tuple[str, ...] = ()

    @property
    def is_floor(self) -> bool:
        return self.floor is None


def basic_authorization(credential: Credential) -> str:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic."""
    pair = f"{quote_plus(credential.client_id)}:{quote_plus(credential.client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def token_request(credential: Credential, form: str = "grant_type=client_credentials") -> Request:
    return Request(
        "POST",
        "/oauth2/token",
        {"Authorization": basic_authorization(credential), "Content-Type": FORM},
        form,
    )


def send(base_url: str, request: Request, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send one prepared request (for probes and set-up; the load itself is wrk's)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request(request.method, request.path, request.body or None, dict(request.headers))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the scenarios -----------------------------------------------------------------------


def floor_static(_: Context) -> list[Request]:
    return [Request("GET", "/_floor/static")]


def floor_query(_: Context) -> list[Request]:
    return [Request("GET", "/_floor/query")]


def token_basic(ctx: Context) -> list[Request]:
    """Client credentials grant with client_secret_basic, rotating over every credential."""
    if not ctx.credentials:
        raise BenchError("token_basic needs at least one credential")
    return [token_request(c) for c in ctx.credentials]


_STUDENTS = """
SELECT d.district_id, d.lea_code, s.student_id
  FROM students s JOIN districts d USING (district_id)
 WHERE d.lea_code = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM transcript_holds h WHERE h.district_id = s.district_id
                   AND h.student_id = s.student_id AND h.released_at IS NULL)
 ORDER BY md5(s.student_id)
 LIMIT $2
"""


def transcripts_over(district_count: int | None) -> Callable[[Context], list[Request]]:
    """GET transcripts of students spread over `district_count` districts (None: every district
    holding a credential), each with its own district's bearer token, in a shuffled order."""

    def prepare(ctx: Context) -> list[Request]:
        chosen = sorted(ctx.credentials, key=lambda c: c.district)[:district_count]
        if not chosen:
            raise BenchError("transcript scenarios need credentials")
        rows = ctx.query(_STUDENTS, [c.district for c in chosen], 6000)
        if not rows:
            raise BenchError("no students without a hold in the credentialed districts")
        # Tokens only for the districts the sample reaches (at national scale, thousands),
        # a few at a time.
        by_district = {c.district: c for c in chosen}
        wanted = sorted({r["lea_code"] for r in rows})
        with ThreadPoolExecutor(max_workers=8) as pool:
            tokens = dict(
                zip(wanted, pool.map(lambda d: ctx.token(by_district[d]), wanted), strict=True)
            )
        return [
            Request(
                "GET",
                f"/api/v1/districts/{r['lea_code']}/etranscripts/{r['student_id']}",
                {"Authorization": f"Bearer {tokens[r['lea_code']]}"},
            )
            for r in rows
        ]

    return prepare


def students_sample(ctx: Context, district_count: int | None = None) -> list[dict[str, Any]]:
    """The same students the transcript scenarios fetch (district_id, lea_code, student_id)."""
    chosen = sorted(ctx.credentials, key=lambda c: c.district)[:district_count]
    return ctx.query(_STUDENTS, [c.district for c in chosen], 6000)


def no_requests(_: Context) -> list[Request]:
    return []


def peer_token(_: Context) -> list[Request]:
    """Filled in by the harness: the peer's client is made when the peer starts."""
    return []


SCENARIOS: list[Scenario] = [
    Scenario(
        "floor_static",
        "GET /_floor/static: the smallest JSON answer through the whole stack (edge middleware included)",
        floor_static,
    ),
    Scenario(
        "floor_query",
        "GET /_floor/query: one `SELECT 1` through the asyncpg pool",
        floor_query,
    ),
    Scenario(
        "floor_pgbench",
        "pgbench: the transcript path's own SQL (tenant BEGIN, record read, disclosure INSERT, COMMIT) as the app role",
        no_requests,
        needs_seed=True,
        kind="pgbench",
    ),
    Scenario(
        "peer_oidc_provider",
        "node oidc-provider 9.13, 1 process: client_credentials, client_secret_basic, ES256 JWT access tokens",
        peer_token,
        kind="peer",
    ),
    Scenario(
        "token_basic",
        "POST /oauth2/token, client_credentials with client_secret_basic, credentials round-robin",
        token_basic,
        floor="floor_static",
        compare_to=("peer_oidc_provider",),
    ),
    Scenario(
        "transcript_3",
        "GET a PESC 1.3.0 transcript (and write its disclosure row), students of 3 districts",
        transcripts_over(3),
        floor="floor_query",
        needs_seed=True,
        compare_to=("floor_pgbench",),
    ),
    Scenario(
        "transcript_all",
        "GET a PESC 1.3.0 transcript (and write its disclosure row), students of every district with a credential",
        transcripts_over(None),
        floor="floor_query",
        needs_seed=True,
        compare_to=("floor_pgbench",),
    ),
]


def by_name() -> dict[str, Scenario]:
    found = {s.name: s for s in SCENARIOS}
    if len(found) != len(SCENARIOS):
        raise BenchError("two scenarios share a name")
    for s in SCENARIOS:
        if s.floor is not None and (s.floor not in found or not found[s.floor].is_floor):
            raise BenchError(f"scenario {s.name}: {s.floor!r} is not a floor scenario")
        if any(c not in found for c in s.compare_to):
            raise BenchError(f"scenario {s.name}: unknown baseline in {s.compare_to}")
    return found


def select(names: Sequence[str] | None) -> list[Scenario]:
    """The scenarios asked for, in registry order, with the floors they need."""
    registry = by_name()
    if not names:
        return list(SCENARIOS)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise BenchError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(registry)}")
    wanted = set(names) | {registry[n].floor for n in names if registry[n].floor}
    wanted |= {c for n in names for c in registry[n].compare_to}
    return [s for s in SCENARIOS if s.name in wanted]
