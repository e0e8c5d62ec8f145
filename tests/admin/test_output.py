"""What the admin API sends: only the named fields, in JSON that asyncpg's types fit into."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from ipaddress import ip_address
from uuid import UUID

import pytest

from gateway.admin.output import AdminJSON, created, jsonable, project


def test_project_keeps_only_the_named_fields_so_new_columns_never_leak() -> None:
    row = {"client_id": "c1", "label": "x", "secret_hash": "abc", "consumer_secret_enc": b"\x00"}
    assert project(row, ("client_id", "label"), {"label": "name"}) == {
        "client_id": "c1",
        "name": "x",
    }


def test_dates_ids_and_addresses_become_strings() -> None:
    moment = datetime(2026, 1, 5, 14, 3, tzinfo=UTC)
    ident = UUID("0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10")
    body = AdminJSON(
        {"at": moment, "day": date(2026, 1, 5), "id": ident, "from": ip_address("10.0.0.1")}
    ).body
    assert json.loads(body) == {
        "at": "2026-01-05T14:03:00+00:00",
        "day": "2026-01-05",
        "id": str(ident),
        "from": "10.0.0.1",
    }
    with pytest.raises(TypeError):
        jsonable(b"bytes are never sent")


def test_a_created_answer_names_its_location_and_is_not_stored_when_it_holds_a_secret() -> None:
    plain = created({"a": 1}, "/x/1")
    assert plain.status_code == 201
    assert plain.headers["location"] == "/x/1"
    assert "cache-control" not in plain.headers
    secret = created({"client_secret": "s"}, "/x/2", secret=True)
    assert secret.headers["cache-control"] == "no-store"
