"""One of every write the admin API offers, done by one operator, remembering what it saw:
the secrets that went in or came out once, and each request's id and expected audit action."""

from __future__ import annotations

import io
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tenants.loading.template import write_template
from tenants.loading.uploads import wait_all
from tests.admin.conftest import API, Operator, Setup, remember_shared
from tests.conftest import unique_lea
from tests.outgoing.fake_vendor import CONSUMER_KEY, USERNAME, FakeVendor
from tests.secrets_seen import remember


@dataclass
class Work:
    operator: Operator
    setup: Setup
    secrets: list[str] = field(default_factory=list)
    # request id → the audit action it must have written
    actions: dict[str, str] = field(default_factory=dict)
    client_id: str = ""
    connection_id: str = ""
    email: str = ""
    new_lea: str = ""
    batch_id: int = 0
    load_id: str = ""
    # (method, URL path, status, JSON body) of every write, to compare with /openapi.json
    answers: list[tuple[str, str, int, Any]] = field(default_factory=list)

    async def call(
        self, client: httpx.AsyncClient, action: str, method: str, path: str, **kwargs: Any
    ) -> dict[str, Any]:
        request_id = f"req-{secrets.token_hex(8)}"
        headers = {**kwargs.pop("headers", {}), **self.operator.headers, "X-Request-ID": request_id}
        response = await client.request(method, API + path, headers=headers, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        self.actions[request_id] = action
        body: dict[str, Any] = response.json() if response.content else {}
        self.answers.append((method, API + path, response.status_code, body))
        remember_shared(body)
        for key in ("client_secret", "invite_url"):
            if key in body:
                self.secrets.append(body[key])
                if key == "invite_url":
                    self.secrets.append(body[key].rsplit("/", 1)[-1])
        return body

    def sent(self, *values: str) -> None:
        remember(*values)
        self.secrets.extend(values)


async def do_everything(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, vendor: FakeVendor
) -> Work:
    work = Work(operator, setup)
    lea = setup.lea
    work.new_lea = unique_lea()
    body = {"lea_code": work.new_lea, "name": "Workload County"}
    await work.call(client, "district.add", "POST", "/districts", json=body)
    await work.call(client, "district.suspend", "POST", f"/districts/{work.new_lea}/suspend")
    await work.call(client, "district.resume", "POST", f"/districts/{work.new_lea}/resume")
    consumer = {"name": f"Workload {secrets.token_hex(4)}"}
    await work.call(client, "consumer.add", "POST", "/consumers", json=consumer)

    issue = {"district": lea, "consumer": setup.consumer, "name": "workload"}
    work.client_id = (
        await work.call(client, "credential.issue", "POST", "/credentials", json=issue)
    )["client_id"]
    rotate = {"overlap_seconds": 0}
    await work.call(
        client, "credential.rotate", "POST", f"/credentials/{work.client_id}/rotate", json=rotate
    )
    imported_secret = f"imported-{secrets.token_hex(12)}"
    work.sent(imported_secret)
    imported = {
        "district": lea,
        "consumer": setup.consumer,
        "client_id": f"imported-{secrets.token_hex(6)}",
        "client_secret": imported_secret,
    }
    await work.call(client, "credential.import", "POST", "/credentials/import", json=imported)
    await work.call(client, "credential.revoke", "DELETE", f"/credentials/{imported['client_id']}")

    work.sent(vendor.consumer_secret, vendor.password)
    connection = {
        "name": "Workload vendor",
        "auth_server": vendor.base_url,
        "auth_path": "/oauth/token",
        "upload_server": vendor.base_url,
        "upload_port": vendor.port,
        "upload_path": "/upload",
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": vendor.consumer_secret,
        "username": USERNAME,
        "password": vendor.password,
    }
    added = await work.call(
        client, "outgoing.add", "POST", f"/districts/{lea}/outgoing", json=connection
    )
    work.connection_id = added["connection_id"]
    renamed = {**connection, "name": "Workload vendor (renamed)", "password": ""}
    await work.call(
        client, "outgoing.update", "PUT", f"/outgoing/{work.connection_id}", json=renamed
    )
    spare = {**connection, "name": "Workload spare"}
    spare_id = (
        await work.call(client, "outgoing.add", "POST", f"/districts/{lea}/outgoing", json=spare)
    )["connection_id"]
    await work.call(client, "outgoing.remove", "DELETE", f"/outgoing/{spare_id}")
    # A batch follows a valid test of the connection as it is now (after the rename).
    await work.call(client, "outgoing.test", "POST", f"/outgoing/{work.connection_id}/test")
    release = {"connection_id": work.connection_id, "student_ids": [setup.student_id]}
    work.batch_id = (
        await work.call(client, "release.queue", "POST", f"/districts/{lea}/batches", json=release)
    )["batch_id"]
    retire = f"/outgoing/{work.connection_id}/retire"
    await work.call(client, "outgoing.retire", "POST", retire)
    await work.call(
        client, "outgoing.reinstate", "POST", f"/outgoing/{work.connection_id}/reinstate"
    )

    work.email = f"workload-{secrets.token_hex(4)}@example.org"
    user = {"email": work.email, "role": "district", "district": lea}
    # One request writes two rows (user.add, then user.invite); the first is what we check.
    await work.call(client, "user.add", "POST", "/users", json=user)
    await work.call(client, "user.invite", "POST", f"/users/{work.email}/invite")
    await work.call(client, "user.disable", "POST", f"/users/{work.email}/disable")

    folder = Path(tempfile.mkdtemp(prefix="workload-bundle-"))
    write_template(folder / "bundle", example=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted((folder / "bundle").iterdir()):
            archive.write(file, file.name)
    shutil.rmtree(folder)
    work.load_id = (
        await work.call(
            client,
            "district.load",
            "POST",
            f"/districts/{lea}/loads",
            params={"mode": "merge"},
            content=buffer.getvalue(),
            headers={"Content-Type": "application/zip"},
        )
    )["load_id"]
    await wait_all()  # the load runs on after its 202; its audit row comes at the end
    return work
