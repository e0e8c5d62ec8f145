"""One transcript request, traced: `gateway serve` with the standard OTEL_* variables pointing
at an OTLP receiver on loopback. The caller's traceparent is continued; the trace holds the
gateway's server span, the asyncpg spans of its queries, among them the disclosure insert,
and the request's log line carries the same trace_id. Without the variables, nothing."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from gateway.settings import load_settings
from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import PgDatabase
from tests.deploy.servers import running
from tests.factories import add_student
from tests.oauth.conftest import Pair
from tests.observability.otlp_receiver import OtlpReceiver, attributes
from tests.secrets_seen import remember

SERVER = 2  # opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER


def test_tracing_is_off_by_default_and_follows_the_standard_variables() -> None:
    assert load_settings({}, env_file=None).tracing is False
    on = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert load_settings(on, env_file=None).tracing is True
    assert load_settings({**on, "OTEL_SDK_DISABLED": "true"}, env_file=None).tracing is False
    assert load_settings({**on, "OTEL_TRACES_EXPORTER": "none"}, env_file=None).tracing is False


async def test_one_transcript_request_is_one_trace(
    database: PgDatabase, pair: Pair, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    student_id = f"8{secrets.randbelow(10**9):09d}"
    await add_student(owner_conn, pair.district_id, student_id)
    with OtlpReceiver() as receiver:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OTEL_"))},
            **cli_env(database),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within 0.1 s, not 5 s
            "OTEL_SERVICE_NAME": "gateway-under-test",
        }
        args = [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())]
        log = tmp_path / "serve.log"
        with running(args, env, log) as base:
            token = httpx.post(
                f"{base}/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(pair.client_id, pair.secret),
            ).json()["access_token"]
            remember(token)
            trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
            response = httpx.get(
                f"{base}/api/v1/districts/{pair.lea}/etranscripts/{student_id}",
                headers={
                    "Authorization": f"Bearer {token}",
                    "traceparent": f"00-{trace_id}-{parent}-01",
                },
            )
            assert response.status_code == 200, response.text
            deadline = time.monotonic() + 60
            while not any(
                "INSERT INTO disclosures" in str(attributes(s).get("db.statement", ""))
                for s in receiver.of_trace(trace_id)
            ):
                assert time.monotonic() < deadline, "no disclosure span reached the receiver"
                time.sleep(0.1)
            spans = receiver.of_trace(trace_id)
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    server = [s for s in spans if s.kind == SERVER]
    assert len(server) == 1 and server[0].parent_span_id.hex() == parent, "traceparent continued"
    # The path attribute is redacted like a log line: the student id never leaves the host.
    assert student_id not in json.dumps([attributes(s) for s in spans])
    queries = [s for s in spans if attributes(s).get("db.system") == "postgresql"]
    assert len(queries) >= 2
    assert {"service.name": "gateway-under-test", "service.version": "0.2.0"}.items() <= next(
        r for r in receiver.resources if r.get("service.name") == "gateway-under-test"
    ).items()
    (access,) = [
        line
        for line in lines
        if line.get("event") == "request" and line.get("trace_id") == trace_id
    ]
    assert access["status"] == 200
    assert {"service", "version", "host", "span_id"} <= set(access)
