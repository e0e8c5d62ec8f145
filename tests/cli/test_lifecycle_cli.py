"""The operator lifecycle from the command line, end to end, with --json for scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.cli.conftest import Invoke, as_json
from tests.conftest import unique_lea
from tests.factories import token_response


async def test_operator_sets_up_a_district_for_cfnc_from_the_cli(
    gateway_cli: Invoke, client: httpx.AsyncClient
) -> None:
    lea = unique_lea()
    district = as_json(
        await gateway_cli(
            "district", "add", "--lea", lea, "--name", "Test County Schools", "--json"
        )
    )
    assert district["lea_code"] == lea and district["status"] == "active"
    consumer = f"CFNC {lea}"
    as_json(await gateway_cli("consumer", "add", "--name", consumer, "--json"))

    issued = as_json(
        await gateway_cli(
            "credential",
            "issue",
            "--district",
            lea,
            "--consumer",
            consumer,
            "--name",
            "CFNC production",
            "--json",
        )
    )
    assert set(issued) >= {"client_id", "client_secret", "token_url", "etranscripts_url"}
    assert issued["token_url"] == "http://127.0.0.1:8000/oauth2/token"
    assert (
        issued["etranscripts_url"] == f"http://127.0.0.1:8000/api/v1/districts/{lea}/etranscripts"
    )
    assert (
        await token_response(client, issued["client_id"], issued["client_secret"])
    ).status_code == 200

    listed = as_json(await gateway_cli("credential", "list", "--district", lea, "--json"))
    assert [c["client_id"] for c in listed] == [issued["client_id"]]
    assert issued["client_secret"] not in str(listed)
    assert listed[0]["status"] == "active"

    rotated = as_json(
        await gateway_cli("credential", "rotate", issued["client_id"], "--overlap", "1h", "--json")
    )
    assert rotated["client_secret"] != issued["client_secret"]
    assert rotated["old_secret_valid_for_seconds"] == 3600
    assert (
        await token_response(client, issued["client_id"], rotated["client_secret"])
    ).status_code == 200
    assert (
        await token_response(client, issued["client_id"], issued["client_secret"])
    ).status_code == 200

    revoked = as_json(await gateway_cli("credential", "revoke", issued["client_id"], "--json"))
    assert revoked["status"] == "revoked"
    listed = as_json(await gateway_cli("credential", "list", "--district", lea, "--json"))
    assert listed[0]["status"] == "revoked"

    suspended = as_json(await gateway_cli("district", "suspend", lea, "--json"))
    assert suspended["status"] == "suspended"
    table = await gateway_cli("district", "list", "--search", lea)
    assert lea in table.stdout and "suspended" in table.stdout


async def test_import_reads_the_secret_from_stdin_and_warns_when_weak(
    gateway_cli: Invoke, client: httpx.AsyncClient
) -> None:
    lea = unique_lea()
    await gateway_cli("district", "add", "--lea", lea, "--name", "Imported County")
    await gateway_cli("consumer", "add", "--name", f"CFNC {lea}")
    client_id = f"cfnc-{lea.lower()}-legacy"
    result = await gateway_cli(
        "credential",
        "import",
        "--district",
        lea,
        "--consumer",
        f"CFNC {lea}",
        "--client-id",
        client_id,
        input="hunter22\n",
    )
    assert "weak" in result.stderr
    assert "hunter22" not in result.stdout + result.stderr
    assert (await token_response(client, client_id, "hunter22")).status_code == 200


async def test_errors_are_clear_and_exit_nonzero(gateway_cli: Invoke) -> None:
    result = await gateway_cli(
        "credential",
        "issue",
        "--district",
        "ZZZ999",
        "--consumer",
        "nobody",
        "--name",
        "x",
        ok=False,
    )
    assert result.exit_code == 1
    assert "no district ZZZ999" in result.stderr
    bad = await gateway_cli("district", "add", "--lea", "not a code", "--name", "x", ok=False)
    assert bad.exit_code == 1 and "LEA code" in bad.stderr
    overlap = await gateway_cli("credential", "rotate", "whatever", "--overlap", "soon", ok=False)
    assert overlap.exit_code == 2 and "24h" in overlap.stderr


async def test_keys_rotate_and_list(gateway_cli: Invoke) -> None:
    # The --help example: the next key is published now and signs after the JWKS cache
    # lifetime (5 min) has passed; the old key signs until that same instant.
    rotated = as_json(await gateway_cli("keys", "rotate", "--json"))
    listed = as_json(await gateway_cli("keys", "list", "--json"))
    assert listed[0]["kid"] == rotated["kid"] and listed[0]["retired_at"] is None
    activates = datetime.fromisoformat(listed[0]["activates_at"])
    assert activates - datetime.now(UTC) > timedelta(minutes=5)
    retired = next(k for k in listed if k["kid"] == rotated["retired"])
    assert datetime.fromisoformat(retired["retired_at"]) == activates
    assert retired["publish_until"] is not None
    # --activate-now: the new key signs at once.
    now = as_json(await gateway_cli("keys", "rotate", "--activate-now", "--json"))
    assert datetime.fromisoformat(now["activates_at"]) <= datetime.now(UTC)
    assert "--activate-now" in (await gateway_cli("keys", "rotate", "--help")).stdout


async def test_help_teaches(gateway_cli: Invoke) -> None:
    text = (await gateway_cli("credential", "--help")).stdout
    for command in ("issue", "import", "rotate", "revoke", "list"):
        assert command in text
    assert "shown once" in text
    assert "--overlap" in (await gateway_cli("credential", "rotate", "--help")).stdout
