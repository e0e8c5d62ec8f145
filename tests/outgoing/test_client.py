"""The client's pure parts: client authentication, the token form and answer, references."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from gateway.control.vendors import VendorSecrets
from gateway.errors import ValidationFailed
from gateway.outgoing.batches import BatchRequest, validate_request
from gateway.outgoing.client import (
    Endpoint,
    client_basic,
    parse_token,
    token_form,
    vendor_reference,
)

SECRETS = VendorSecrets(consumer_secret="s:e cret", password="p@ss word")


def endpoint(grant_type: str = "password") -> Endpoint:
    return Endpoint(
        connection_id=uuid4(),
        name="Parchment",
        auth_url="https://auth.vendor.example/oauth/token",
        upload_url="https://up.vendor.example:8443/v1/transcripts",
        consumer_key="key:1",
        username="registrar",
        grant_type=grant_type,
        version=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_basic_client_authentication_form_encodes_each_part() -> None:
    # RFC 6749 §2.3.1: a ':' in the key or secret cannot split the pair.
    header = client_basic("key:1", "s:e cret")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "key%3A1:s%3Ae+cret"


def test_password_grant_sends_user_and_password_and_client_credentials_does_not() -> None:
    assert token_form(endpoint("password"), SECRETS) == {
        "grant_type": "password",
        "username": "registrar",
        "password": "p@ss word",
    }
    assert token_form(endpoint("client_credentials"), SECRETS) == {
        "grant_type": "client_credentials"
    }


def test_token_answer_is_used_until_shortly_before_it_expires() -> None:
    answer = {"access_token": "vt-opaque-value", "token_type": "Bearer", "expires_in": 3600}
    token = parse_token(answer, 100.0)
    assert token is not None
    assert token.expires_at == 100.0 + 3600 - 30
    assert "vt-opaque-value" not in repr(token)


@pytest.mark.parametrize(
    "body",
    [None, {}, {"access_token": ""}, {"access_token": "t", "token_type": "mac"}, ["t"]],
)
def test_answers_that_are_not_bearer_tokens_are_refused(body: object) -> None:
    assert parse_token(body, 0.0) is None


def test_vendor_reference_from_the_body_or_the_location() -> None:
    assert vendor_reference({}, {"id": 42}) == "42"
    assert vendor_reference({}, {"reference": "R-1", "id": 42}) == "R-1"
    assert vendor_reference({"location": "/v1/transcripts/9"}, None) == "/v1/transcripts/9"
    assert vendor_reference({}, {"ok": True}) is None


def test_endpoint_hosts_name_the_server_not_the_path() -> None:
    assert endpoint().upload_host == "the upload server up.vendor.example:8443"
    assert endpoint().auth_host == "the auth server auth.vendor.example"


def test_batch_request_needs_exactly_one_selection_and_known_values() -> None:
    with pytest.raises(ValidationFailed) as both:
        validate_request(BatchRequest("Parchment", ("1",), 2025))
    assert "selection" in both.value.errors
    with pytest.raises(ValidationFailed) as neither:
        validate_request(BatchRequest("Parchment"))
    assert "selection" in neither.value.errors
    with pytest.raises(ValidationFailed) as bad:
        validate_request(BatchRequest("", ("not an id!",), legal_basis="because"))
    assert set(bad.value.errors) == {"students", "legal_basis", "connection"}
    clean = validate_request(BatchRequest(" Parchment ", (" 2 ", "1", "2", "")))
    assert (clean.connection, clean.student_ids) == ("Parchment", ("2", "1"))
