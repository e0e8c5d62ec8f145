"""`gateway vendor ...`, `gateway release ...` and `gateway worker`, as an operator uses them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys

import asyncpg

from tenants.stores import StoreRegistry
from tests.cli.conftest import Invoke, cli_env
from tests.cli.conftest import gateway_cli as gateway_cli  # the fixture, for this folder
from tests.conftest import REPO, PgDatabase
from tests.outgoing.conftest import ReleaseDistrict, deliver, wrong_secret
from tests.outgoing.fake_vendor import CONSUMER_KEY, SEED_PATH, USERNAME, FakeVendor
from tests.secrets_seen import SEEN, Tee


def vendor_args(vendor: FakeVendor, lea: str, name: str) -> list[str]:
    return [
        "vendor", "add",
        "--district", lea,
        "--name", name,
        "--auth-server", vendor.base_url,
        "--auth-path", "/oauth/token",
        "--upload-server", vendor.base_url,
        "--upload-port", str(vendor.port),
        "--upload-path", "/upload",
        "--consumer-key", CONSUMER_KEY,
        "--username", USERNAME,
        "--json",
    ]  # fmt: skip


async def add_vendor(
    gateway_cli: Invoke, vendor: FakeVendor, lea: str, name: str, password: str | None = None
) -> dict[str, object]:
    secrets_in = f"{vendor.consumer_secret}\n{password or vendor.password}\n"
    result = await gateway_cli(*vendor_args(vendor, lea, name), input=secrets_in)
    added: dict[str, object] = json.loads(result.stdout)
    if password is None:  # as an operator does before a release: test it
        await gateway_cli("vendor", "test", str(added["connection_id"]))
    return added


async def test_vendor_add_list_test_and_remove(
    gateway_cli: Invoke, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    lea = release_district.lea
    added = await add_vendor(gateway_cli, vendor, lea, "Parchment CLI")
    assert added["consumer_secret"] == added["password"] == "••••••••"
    assert added["upload_url"] == f"{vendor.base_url}/upload"

    listed = json.loads((await gateway_cli("vendor", "list", "--district", lea, "--json")).stdout)
    assert "Parchment CLI" in [c["name"] for c in listed]
    assert vendor.consumer_secret not in json.dumps(listed)
    assert vendor.password not in json.dumps(listed)

    tested = await gateway_cli("vendor", "test", str(added["connection_id"]), "--json")
    assert json.loads(tested.stdout)["headline"] == "Your connection is valid"
    shown = await gateway_cli("vendor", "test", str(added["connection_id"]))
    assert shown.stdout.startswith("Your connection is valid")

    removed = await gateway_cli("vendor", "remove", str(added["connection_id"]), "--json")
    assert json.loads(removed.stdout)["name"] == "Parchment CLI"
    after = json.loads((await gateway_cli("vendor", "list", "--district", lea, "--json")).stdout)
    assert "Parchment CLI" not in [c["name"] for c in after]


async def test_vendor_values_as_documented_are_accepted_and_test_green(
    gateway_cli: Invoke, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    secrets_in = f"{vendor.consumer_secret}\n{vendor.password}\n"
    args = vendor_args(vendor, release_district.lea, "As documented")
    # http on port 80 to a vendor's host, and the path without its leading slash: as typed.
    elsewhere = [*args]
    elsewhere[elsewhere.index("--upload-server") + 1] = "http://transcripts.vendor.example"
    elsewhere[elsewhere.index("--upload-port") + 1] = "80"
    elsewhere[elsewhere.index("--upload-path") + 1] = SEED_PATH
    saved = json.loads((await gateway_cli(*elsewhere, input=secrets_in)).stdout)
    assert saved["upload_url"] == f"http://transcripts.vendor.example:80/{SEED_PATH}"

    args[args.index("--upload-path") + 1] = SEED_PATH
    args[args.index("--name") + 1] = "As documented, on loopback"
    added = json.loads((await gateway_cli(*args, input=secrets_in)).stdout)
    assert added["upload_url"] == f"{vendor.base_url}/{SEED_PATH}"
    tested = await gateway_cli("vendor", "test", str(added["connection_id"]), "--json")
    assert json.loads(tested.stdout)["headline"] == "Your connection is valid"


async def test_vendor_test_json_from_a_real_process_is_only_json(
    gateway_cli: Invoke, database: PgDatabase, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    added = await add_vendor(gateway_cli, vendor, release_district.lea, "Scripted")
    done = await asyncio.to_thread(
        run_cli, database, "vendor", "test", str(added["connection_id"]), "--json"
    )
    Tee().write(done.stdout.decode() + done.stderr.decode())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True  # nothing but the JSON on stdout


async def test_vendor_test_of_a_wrong_password_fails_with_the_reason_and_exit_1(
    gateway_cli: Invoke, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    added = await add_vendor(
        gateway_cli, vendor, release_district.lea, "Bad password", wrong_secret()
    )
    result = await gateway_cli("vendor", "test", str(added["connection_id"]), ok=False)
    assert result.exit_code == 1
    assert result.stdout.startswith("Connection failed")
    assert "reason: 401 from the auth server" in result.stdout


async def test_release_queue_status_watch_and_report(
    gateway_cli: Invoke,
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    lea = release_district.lea
    await add_vendor(gateway_cli, vendor, lea, "NSC CLI")
    students = release_district.free(3, skip=10)
    queued = await gateway_cli(
        "release", "queue", "--district", lea, "--connection", "NSC CLI",
        "--students", ",".join(students[:2]), "--students", students[2], "--json",
    )  # fmt: skip
    batch = json.loads(queued.stdout)
    batch_id = str(batch["batch_id"])
    assert (batch["status"], batch["item_count"]) == ("queued", 3)

    before = json.loads((await gateway_cli("release", "status", batch_id, "--json")).stdout)
    assert before["counts"] == {"queued": 3, "in_progress": 0, "delivered": 0, "failed": 0}

    # Follow it while a worker delivers.
    watching = asyncio.ensure_future(
        gateway_cli("release", "status", batch_id, "--watch", "--interval", "0.05", "--json")
    )
    await deliver(stores, app_conn, batch["batch_id"])
    watched = await watching
    assert json.loads(watched.stdout)["counts"]["delivered"] == 3
    assert "Batch" in watched.stderr  # the progress bar, on stderr

    report = await gateway_cli("release", "report", batch_id, "--csv")
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    assert [r["student_id"] for r in rows] == students
    assert {r["status"] for r in rows} == {"delivered"}
    assert all(r["vendor_reference"] for r in rows)

    people = await gateway_cli("release", "report", batch_id)
    assert "delivered" in people.stdout
    assert "NSC CLI" in people.stdout
    listed = json.loads((await gateway_cli("release", "list", "--district", lea, "--json")).stdout)
    mine = next(b for b in listed if b["batch_id"] == batch["batch_id"])
    assert (mine["status"], mine["delivered"], mine["failed"]) == ("finished", 3, 0)

    # The report is what the connection is kept for: it cannot be removed now.
    connection_id = str(batch["connection_id"])
    refused = await gateway_cli("vendor", "remove", connection_id, ok=False)
    assert refused.exit_code == 1
    assert "kept for their reports" in refused.stderr


def run_cli(database: PgDatabase, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`gateway ARGS...` as a process, as an operator runs it: logging not configured by
    pytest, and `gateway worker` free to configure it without taking over this session's."""
    env = {**os.environ, **cli_env(database)}
    command = "from gateway.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", command, "--env-file", "/nonexistent", *args],
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


async def test_cohort_batch_delivered_by_gateway_worker_which_exits_when_idle(
    gateway_cli: Invoke,
    database: PgDatabase,
    app_conn: asyncpg.Connection,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    lea = release_district.lea
    await add_vendor(gateway_cli, vendor, lea, "Cohort CLI")
    cohorts: dict[int, int] = {}
    for s in release_district.students:
        cohorts[s["cohort_year"]] = cohorts.get(s["cohort_year"], 0) + 1
    year = min(cohorts, key=lambda y: cohorts[y])
    queued = await gateway_cli(
        "release", "queue", "--district", lea, "--connection", "Cohort CLI",
        "--cohort", str(year), "--json",
    )  # fmt: skip
    batch = json.loads(queued.stdout)
    assert batch["selection"] == {"kind": "cohort", "cohort_year": year, "count": cohorts[year]}

    done = await asyncio.to_thread(
        run_cli,
        database,
        *("worker", "--exit-when-idle", "--idle-poll", "0.05", "--concurrency", "4"),
    )

    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    Tee().write(output)  # checked for secrets by the run's last test
    assert done.returncode == 0, output
    assert "release_worker_stopped" in output
    assert [s[:6] for s in SEEN if s in output] == []
    status = json.loads(
        (await gateway_cli("release", "status", str(batch["batch_id"]), "--json")).stdout
    )
    assert status["status"] == "finished"
    assert status["done"] == cohorts[year]
    assert status["counts"]["delivered"] == len(vendor.documents) > 0


async def test_release_queue_refuses_unknown_students_and_connections(
    gateway_cli: Invoke, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    lea = release_district.lea
    await add_vendor(gateway_cli, vendor, lea, "Refusing CLI")
    unknown = await gateway_cli(
        "release", "queue", "--district", lea, "--connection", "Refusing CLI",
        "--students", "0000000000", ok=False,
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert "not students of district" in unknown.stderr
    both = await gateway_cli(
        "release", "queue", "--district", lea, "--connection", "Refusing CLI",
        "--students", "1", "--cohort", "2025", ok=False,
    )  # fmt: skip
    assert "either student ids or a cohort" in both.stderr
    missing = await gateway_cli(
        "release", "queue", "--district", lea, "--connection", "No such vendor",
        "--cohort", "2025", ok=False,
    )  # fmt: skip
    assert "no outgoing connection" in missing.stderr
