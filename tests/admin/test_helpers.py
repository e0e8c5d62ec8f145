"""The small pure decisions inside the handlers, without a server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.admin import credentials, outgoing
from gateway.admin.endpoint import require_operator
from gateway.control.credentials import IssuedSecret, effective_status
from gateway.errors import NotFound
from gateway.oauth.errors import InsufficientScope

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_an_active_credential_past_its_expiry_shows_as_expired() -> None:
    past, future = NOW - timedelta(seconds=1), NOW + timedelta(days=1)
    assert effective_status({"status": "active", "expires_at": past}, NOW) == "expired"
    assert effective_status({"status": "active", "expires_at": future}, NOW) == "active"
    assert effective_status({"status": "active", "expires_at": None}, NOW) == "active"
    assert effective_status({"status": "revoked", "expires_at": past}, NOW) == "revoked"


def test_an_operator_credential_has_no_etranscripts_url() -> None:
    issued = IssuedSecret("operator-1a2b3c4d", "etgs_x", uuid.uuid4(), None, None, None)
    shared = credentials.share(issued, "https://gw.example")
    assert shared["token_url"] == "https://gw.example/oauth2/token"
    assert shared["etranscripts_url"] is None


def test_a_connection_may_keep_its_own_name_but_not_take_anothers() -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    existing: list[dict[str, Any]] = [
        {"name": "Parchment", "connection_id": mine},
        {"name": "NSC", "connection_id": other},
    ]
    assert outgoing.name_taken(existing, " Parchment ")
    assert not outgoing.name_taken(existing, "Parchment", keep=mine)
    assert outgoing.name_taken(existing, "NSC", keep=mine)
    assert not outgoing.name_taken(existing, "parchment"), "names are case-sensitive, as stored"


def test_a_malformed_connection_id_is_not_found() -> None:
    with pytest.raises(NotFound):
        outgoing.parse_id("../etc")
    ident = uuid.uuid4()
    assert outgoing.parse_id(str(ident)) == ident


def test_a_null_secret_on_update_means_unchanged() -> None:
    body = {field: "x" for field in outgoing.UPDATE}
    made = outgoing.connection_input({**body, "consumer_secret": None, "password": ""})
    assert (made.consumer_secret, made.password) == ("", "")


def _context(kind: str, district: object = None) -> Any:
    return SimpleNamespace(credential=SimpleNamespace(kind=kind), district=district)


def test_only_operator_credentials_pass_even_with_the_admin_scope() -> None:
    require_operator(_context("operator"))
    with pytest.raises(InsufficientScope):
        require_operator(_context("consumer", district=object()))
    with pytest.raises(InsufficientScope):
        require_operator(_context("operator", district=object()))
