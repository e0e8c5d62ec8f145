"""The bench cannot call a run clean when the server answered errors.

`bench/server.py` once read the status counters with a regular expression that broke on route
labels holding braces (`/api/v1/districts/{lea}/etranscripts/{student_id}`): non-2xx transcript
answers went unseen. These tests hold the parser and the whole measurement to the truth.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import asyncpg
import pytest

from bench.measurement import Target, measure_once
from bench.provision import Credential
from bench.report import ERRORS, ScenarioResult
from bench.requestfile import Request, write_requests
from bench.scenarios import send, token_request
from bench.server import GatewayServer, parse_status_counts
from bench.wrk import LoadShape
from tests.cli.conftest import cli_env
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_consumer, add_district, add_student, issue

ROUTE = "/api/v1/districts/{lea}/etranscripts/{student_id}"


def test_labels_with_braces_and_quotes_are_counted() -> None:
    text = (
        "# HELP gateway_http_requests_total HTTP requests answered.\n"
        "# TYPE gateway_http_requests_total counter\n"
        f'gateway_http_requests_total{{method="GET",route="{ROUTE}",status="404"}} 3.0\n'
        f'gateway_http_requests_total{{method="GET",route="{ROUTE}",status="200"}} 1.0\n'
        'gateway_http_requests_total{method="GET",route="/a\\"}b",status="500"} 2.0\n'
        'gateway_http_requests_total{method="GET",route="/metrics",status="200"} 9.0\n'
        f'gateway_http_requests_created{{method="GET",route="{ROUTE}",status="404"}} 1.7e9\n'
    )
    counts = parse_status_counts(text)
    assert counts == {(ROUTE, "404"): 3, (ROUTE, "200"): 1, ('/a"}b', "500"): 2}


def test_exposition_without_the_counter_is_an_error_not_zero_errors() -> None:
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="gateway_http_requests_total"):
        parse_status_counts("# HELP other_total x\n# TYPE other_total counter\nother_total 1.0\n")


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
async def test_a_scenario_with_a_known_share_of_404s_reports_errors(
    database: PgDatabase,
    owner_conn: asyncpg.Connection,
    control: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    # One real student and three unknown ones: three answers in four are 404 on a route whose
    # label holds braces. The server's own counters must show them, by status.
    district = await add_district(owner_conn, unique_lea())
    await add_student(owner_conn, district.id, "9000000001")
    issued = await issue(control, district.lea_code, await add_consumer(control))
    credential = Credential(issued.client_id, issued.client_secret, district.lea_code)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    server = GatewayServer(env, tmp_path, 1, tmp_path / "serve.log")
    try:
        await asyncio.to_thread(server.wait_ready)
        status, body = await asyncio.to_thread(send, server.base_url, token_request(credential))
        assert status == 200, body
        token = json.loads(body)["access_token"]
        requests = [
            Request(
                "GET",
                f"/api/v1/districts/{district.lea_code}/etranscripts/{student}",
                {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            for student in ("9000000001", "9000000002", "9000000003", "9000000004")
        ]
        path = write_requests(tmp_path / "requests.tsv", requests)
        shape = LoadShape(threads=1, connections=2)
        measurement = await asyncio.to_thread(
            measure_once, Target(server, None), path, 1.0, shape, tmp_path / "wrk.log"
        )
        by_route = await asyncio.to_thread(server.status_counts)
    finally:
        await asyncio.to_thread(server.stop)
    assert by_route[ROUTE, "404"] > 0 and by_route[ROUTE, "200"] > 0
    assert measurement.statuses["404"] > 0 and measurement.statuses["200"] > 0
    # Round-robin over the file: about three 404s for each 200 (in-flight answers at the end
    # of the run may shift a few).
    assert measurement.statuses["404"] >= measurement.statuses["200"]
    result = ScenarioResult(1, "known_404s", "floor_query")
    result.measured(measurement)
    assert result.status == ERRORS
    assert result.non_2xx == measurement.statuses["404"]
    assert "404" in result.note
