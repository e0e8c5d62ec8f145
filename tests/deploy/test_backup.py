"""The runbook's backup and restore (docs/operations.md), done for real: pg_dump of the
control database, DROP DATABASE, pg_restore, and the same transcript and the same disclosure
log and audit trail come back, under the same master key."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gateway.app import create_app
from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, migrate
from tests.conftest import PgDatabase, client_from
from tests.factories import access_token, add_consumer, add_district, add_student, issue
from tests.secrets_seen import remember

NAME = "gateway_backup"


def pg_tool(name: str) -> str:
    """The embedded server's own tool (same major version as the server), else PATH's."""
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found: install PostgreSQL's client tools")
    return found


def on(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


VOLATILE = {"document_id", "created_at", "generated_at", "DocumentID", "CreatedDateTime"}


def stable(value: Any) -> Any:
    """The transcript without what differs on every rendering (its id and time)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


async def transcript(
    database: PgDatabase, urls: Any, tmp: Path, lea: str, client_id: str, secret: str
) -> Any:
    settings = database.settings(tmp, token_rate_per_second=1000.0, token_rate_burst=1000)
    settings = settings.with_database(urls.app_url, urls.owner_url)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        client_from(app, settings, "203.0.113.50") as client,
    ):
        token = await access_token(client, client_id, secret)
        response = await client.get(
            f"/api/v1/districts/{lea}/etranscripts/912345678",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        await app.state.services.audit.flush()
        return response.json()


async def logs(superuser: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conn = await asyncpg.connect(on(superuser, NAME))
    try:
        disclosures = [dict(r) for r in await conn.fetch("SELECT * FROM disclosures ORDER BY 1")]
        audit = [dict(r) for r in await conn.fetch("SELECT * FROM audit_log ORDER BY audit_id")]
    finally:
        await conn.close()
    return disclosures, audit


async def test_dump_drop_restore_brings_back_the_transcript_and_the_logs(
    database: PgDatabase, tmp_path: Path
) -> None:
    urls = (
        await bootstrap(database.superuser_url, [NAME], password=database.password, fresh=True)
    )[NAME]
    await migrate(urls.owner_url, [CONTROL, DISTRICT])
    owner = await asyncpg.connect(urls.owner_url)
    app_conn = await asyncpg.connect(urls.app_url)
    try:
        district = await add_district(owner, "B0001")
        await add_student(owner, district.id, "912345678")
        issued = await issue(app_conn, district.lea_code, await add_consumer(app_conn))
    finally:
        await owner.close()
        await app_conn.close()
    remember(issued.client_secret)
    args = (database, urls, tmp_path, district.lea_code, issued.client_id, issued.client_secret)
    before = await transcript(*args)
    disclosures, audit = await logs(database.superuser_url)
    assert len(disclosures) == 1 and audit

    dump = tmp_path / "control.dump"
    subprocess.run(
        [pg_tool("pg_dump"), "--format=custom", f"--file={dump}", on(database.superuser_url, NAME)],
        check=True,
        capture_output=True,
    )
    admin = await asyncpg.connect(database.superuser_url)
    try:
        await admin.execute(f"DROP DATABASE {NAME} WITH (FORCE)")
    finally:
        await admin.close()
    subprocess.run(
        [
            pg_tool("pg_restore"),
            "--create",
            f"--dbname={on(database.superuser_url, 'postgres')}",
            str(dump),
        ],
        check=True,
        capture_output=True,
    )

    after = await transcript(*args)
    assert "Lovelace" in json.dumps(stable(after)), "the student's record itself is compared"
    assert json.dumps(stable(after), sort_keys=True) == json.dumps(stable(before), sort_keys=True)
    restored_disclosures, restored_audit = await logs(database.superuser_url)
    # Everything recorded before the backup is back, unchanged; the fetch after the restore
    # added its own disclosure row, as every release does.
    assert restored_disclosures[:1] == disclosures and len(restored_disclosures) == 2
    assert restored_audit[: len(audit)] == audit
