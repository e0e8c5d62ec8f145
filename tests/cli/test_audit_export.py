"""`gateway audit export`: JSON Lines a SIEM can ingest, oldest first, incremental by id."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from gateway.audit import AuditEvent, record
from tests.cli.conftest import Invoke
from tests.factories import CONSUMER_ACTOR


async def test_export_is_json_lines_and_resumes_after_an_id(
    gateway_cli: Invoke, control: asyncpg.Connection, tmp_path: Path
) -> None:
    first = await control.fetchval("SELECT coalesce(max(audit_id), 0) FROM audit_log")
    for n in range(3):
        await record(control, AuditEvent(CONSUMER_ACTOR, "export.test", target=f"t{n}"))
    out = tmp_path / "audit.jsonl"
    result = await gateway_cli("audit", "export", "--after-id", str(first), "--output", str(out))
    events = [json.loads(line) for line in out.read_text().splitlines()]
    ours = [e for e in events if e["action"] == "export.test"]
    assert [e["target"] for e in ours] == ["t0", "t1", "t2"]
    ids = [e["audit_id"] for e in events]
    assert ids == sorted(ids) and ids[0] > first
    assert {"occurred_at", "actor_type", "actor", "outcome", "source_addr", "detail"} <= set(
        ours[0]
    )
    assert f"last audit_id {ids[-1]}" in result.stderr
    # The next pull starts after the last id written: nothing is sent twice.
    again = await gateway_cli("audit", "export", "--after-id", str(ids[-1]))
    assert all(json.loads(line)["audit_id"] > ids[-1] for line in again.stdout.splitlines())
