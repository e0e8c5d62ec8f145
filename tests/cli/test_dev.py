"""`gateway dev` as a newcomer runs it: a real process, its embedded PostgreSQL, its demo file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from tests.secrets_seen import LOG, remember


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A generous bound on a loaded machine: the wait ends as soon as /readyz answers.
READY_WITHIN = 300.0


@contextmanager
def dev_process(home: Path, args: list[str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gateway ARGS... --port P` as a real process (its logs in HOME/stdout.log and
    stderr.log), once its /readyz answers 200; stopped with SIGTERM at the end. `args` says
    where --home goes: the tests use both places an operator may write it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    # Files, not pipes: a pipe nobody reads would fill up and stall the server.
    with (home / "stdout.log").open("wb") as out, (home / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=err,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_WITHIN
        try:
            while True:
                assert process.poll() is None, (home / "stderr.log").read_text()
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "gateway dev did not become ready"
                time.sleep(0.25)
            yield base, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)


@pytest.fixture(scope="module")
def dev_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    home = tmp_path_factory.mktemp("devhome")
    # --home after the command name, as the README writes it.
    with dev_process(home, ["dev", "--home", str(home)]) as (base, process):
        yield base, home, process


def test_demo_file_works_end_to_end(dev_server: tuple[str, Path, subprocess.Popen[bytes]]) -> None:
    base, home, _ = dev_server
    demo = json.loads((home / "demo-credentials.json").read_text())
    assert oct((home / "demo-credentials.json").stat().st_mode & 0o777) == "0o600"
    assert len(demo) >= 3
    for entry in demo:
        remember(entry["client_secret"])
        assert set(entry) >= {
            "district",
            "client_id",
            "client_secret",
            "token_url",
            "etranscripts_url",
            "sample_students",
        }
        assert entry["token_url"] == f"{base}/oauth2/token"
        token = httpx.post(
            entry["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(entry["client_id"], entry["client_secret"]),
        )
        assert token.status_code == 200, token.text
        access = token.json()["access_token"]
        remember(access)
        assert entry["sample_students"]
        for student in entry["sample_students"]:
            response = httpx.get(
                f"{entry['etranscripts_url']}/{student['student_id']}",
                params={"birth_date": student["birth_date"], "last_name": student["last_name"]},
                headers={"Authorization": f"Bearer {access}"},
            )
            assert response.status_code == 200, response.text
            assert b"HighSchoolTranscript" in response.content


def test_dev_accounts_sign_in(dev_server: tuple[str, Path, subprocess.Popen[bytes]]) -> None:
    base, home, _ = dev_server
    accounts = json.loads((home / "dev-users.json").read_text())
    operator = next(a for a in accounts if a["role"] == "operator")
    remember(operator["password"])
    with httpx.Client(base_url=base) as browser:
        page = browser.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = browser.post(
            "/login",
            data={
                "csrf_token": token,
                "email": operator["email"],
                "password": operator["password"],
            },
            headers={"Origin": base},
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/admin/districts"
        remember(browser.cookies.get("etg_session"))
        demo = json.loads((home / "demo-credentials.json").read_text())
        listing = browser.get("/admin/districts").text
        assert all(f"/admin/districts/{d['district']}" in listing for d in demo)


def gateway(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`gateway ARGS... --home HOME` as an operator runs it beside `gateway dev`: another process,
    no GATEWAY_* variables (so no GATEWAY_BASE_URL), run from some other folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args, "--home", str(home), "--json"],
        env=env,
        cwd=cwd or home,
        capture_output=True,
        text=True,
        check=True,
    )


def test_urls_printed_by_other_commands_are_the_ones_dev_serves(
    dev_server: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, home, _ = dev_server
    assert not base.endswith(":8000")
    assert json.loads((home / "served.json").read_text())["base_url"] == base
    demo = json.loads((home / "demo-credentials.json").read_text())
    lea = demo[0]["district"]
    student = demo[0]["sample_students"][0]["student_id"]

    issued = json.loads(
        gateway(
            home, "credential", "issue", "--district", lea, "--consumer", "CFNC", "--name", "t"
        ).stdout
    )
    rotated = json.loads(gateway(home, "credential", "rotate", issued["client_id"]).stdout)
    operator = json.loads(gateway(home, "credential", "issue-operator", "--name", "urls").stdout)
    for shown in (issued, rotated, operator):
        remember(shown["client_secret"])
        assert shown["token_url"] == f"{base}/oauth2/token"
    for shown in (rotated, operator):
        token = httpx.post(
            shown["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(shown["client_id"], shown["client_secret"]),
        )
        assert token.status_code == 200, token.text
        remember(token.json()["access_token"])
    access = httpx.post(
        rotated["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(rotated["client_id"], rotated["client_secret"]),
    ).json()["access_token"]
    remember(access)
    assert rotated["etranscripts_url"] == f"{base}/api/v1/districts/{lea}/etranscripts"
    answer = httpx.get(
        f"{rotated['etranscripts_url']}/{student}", headers={"Authorization": f"Bearer {access}"}
    )
    assert answer.status_code == 200, answer.text

    invited = json.loads(
        gateway(
            home, "user", "add", "--email", "new@dev.localhost", "--role", "operator", "--invite"
        ).stdout
    )
    remember(invited["invite_url"].rsplit("/", 1)[1])
    assert invited["invite_url"].startswith(f"{base}/invite/")
    page = httpx.get(invited["invite_url"])
    assert page.status_code == 200 and "password" in page.text.lower()


def test_sigterm_stops_the_embedded_postgres(
    dev_server: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    _, home, process = dev_server
    postmaster = int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
    assert psutil.pid_exists(postmaster)
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal: 128 + SIGTERM is the
    # conventional status of a process stopped that way.
    assert process.wait(timeout=30) in (0, 128 + signal.SIGTERM)
    for _ in range(100):
        if not psutil.pid_exists(postmaster):
            break
        time.sleep(0.1)
    assert not psutil.pid_exists(postmaster), "the embedded postgres outlived gateway dev"
    # The process logged JSON lines on stdout; none may carry a secret (checked at the end).
    logged = (home / "stdout.log").read_text()
    assert '"route": "/oauth2/token"' in logged
    LOG.write(logged)
