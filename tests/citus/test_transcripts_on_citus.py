"""The transcript path on a Citus coordinator and its workers.

The whole consumer-API suite (tests/api/test_etranscripts.py) runs here unchanged, on
districts seeded onto the cluster: XSD-valid transcripts in both PESC versions, 404 for
another district's student, 403 for another LEA, 409 for a hold, a disclosure row per
response, and the database's own refusal. Then what only a cluster can show: the disclosure
row is on the worker that holds the district's shard, and only there, and the gateway's
requests ran as single-shard queries.
"""

from __future__ import annotations

import hashlib

import asyncpg
import httpx
import pytest

from tests.api.conftest import SeededDistrict
from tests.api.test_etranscripts import *  # noqa: F403 - the same suite, on the cluster
from tests.api.test_etranscripts import bearer, url
from tests.citus.conftest import shard_queries
from tests.citus_cluster import Node, node_url
from tests.conftest import PgDatabase

pytestmark = pytest.mark.citus

# It makes the disclosure insert fail with a test trigger, and Citus takes no triggers on a
# distributed table; that a transcript never leaves without its row is shown on PostgreSQL.
del test_no_transcript_leaves_without_its_row  # noqa: F821


async def placement(conn: asyncpg.Connection, table: str, district_id: int) -> tuple[int, Node]:
    """The shard of `table` holding `district_id`, and the worker it is placed on."""
    shard = await conn.fetchval(
        "SELECT get_shard_id_for_distribution_column($1::regclass, $2::integer)",
        table,
        district_id,
    )
    row = await conn.fetchrow(
        "SELECT nodename, nodeport FROM citus_shards WHERE shardid = $1", shard
    )
    assert row is not None
    return int(shard), Node(row["nodename"], row["nodeport"])


async def test_disclosure_row_lands_on_the_districts_shard(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    database: PgDatabase,
    owner_conn: asyncpg.Connection,
) -> None:
    district = districts[0]
    student = district.student()
    headers = await bearer(client, district)
    response = await client.get(url(district.lea, student["student_id"]), headers=headers)
    assert response.status_code == 200
    digest = hashlib.sha256(response.content).hexdigest()

    shard, worker = await placement(owner_conn, "disclosures", district.district_id)
    nodes = {
        Node(r["nodename"], r["nodeport"])
        for r in await owner_conn.fetch(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0"
        )
    }
    assert worker in nodes and len(nodes) >= 2
    found = {}
    for node in nodes:
        # Straight to each worker, as the superuser, past the coordinator.
        conn = await asyncpg.connect(node_url(database.superuser_url, node, "gateway_citus_test"))
        try:
            await conn.execute("SET citus.override_table_visibility = off")
            found[node] = await conn.fetchval(
                "SELECT count(*) FROM pg_class c WHERE c.relname = $1", f"disclosures_{shard}"
            ) and await conn.fetchval(
                f"SELECT count(*) FROM disclosures_{shard} WHERE document_sha256 = $1",  # noqa: S608
                digest,
            )
        finally:
            await conn.close()
    assert found[worker] == 1
    assert all(not found[n] for n in nodes - {worker})


async def test_the_districts_rows_are_co_located_on_one_worker(
    districts: tuple[SeededDistrict, SeededDistrict], owner_conn: asyncpg.Connection
) -> None:
    district = districts[0]
    workers = {
        (await placement(owner_conn, table, district.district_id))[1]
        for table in ("schools", "students", "course_records", "transcript_holds", "disclosures")
    }
    assert len(workers) == 1


async def test_requests_run_as_single_shard_queries(
    client: httpx.AsyncClient,
    districts: tuple[SeededDistrict, SeededDistrict],
    owner_conn: asyncpg.Connection,
    app_conn: asyncpg.Connection,
) -> None:
    headers = {d.lea: await bearer(client, d) for d in districts}
    held = next(s for s in districts[0].students if s["held"])
    one_before, many_before = await shard_queries(app_conn)
    answered = []
    for district in districts:
        for student in district.students[:5]:
            response = await client.get(
                url(district.lea, student["student_id"]), headers=headers[district.lea]
            )
            answered.append(response.status_code)
        other = districts[1] if district is districts[0] else districts[0]
        response = await client.get(
            url(district.lea, other.student()["student_id"]), headers=headers[district.lea]
        )
        answered.append(response.status_code)
    response = await client.get(
        url(districts[0].lea, held["student_id"]), headers=headers[districts[0].lea]
    )
    answered.append(response.status_code)
    one_after, many_after = await shard_queries(app_conn)
    assert set(answered) <= {200, 404, 409} and 200 in answered and 404 in answered
    assert answered[-1] == 409
    assert many_after == many_before, "a transcript request ran a multi-shard query"
    assert one_after - one_before >= len(answered)
