"""Classifying what went wrong with a vendor: pure functions, no sockets."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from gateway.outgoing.failures import (
    classify_exception,
    classify_token_answer,
    classify_upload_status,
    probe_upload_status,
)


def wrapped(inner: BaseException) -> httpx.ConnectError:
    """How httpx raises an OS error: httpx.ConnectError <- httpcore <- anyio's OSError <- it."""
    try:
        try:
            raise OSError("All connection attempts failed") from inner
        except OSError as middle:
            raise httpx.ConnectError("All connection attempts failed") from middle
    except httpx.ConnectError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (wrapped(socket.gaierror(-2, "Name or service not known")), "dns", True),
        (wrapped(ConnectionRefusedError(111, "Connect call failed")), "refused", True),
        (wrapped(ssl.SSLCertVerificationError("certificate verify failed")), "tls", False),
        (
            wrapped(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")),
            "tls",
            False,
        ),
        (httpx.ReadTimeout("timed out"), "timeout", True),
        (httpx.ConnectTimeout("timed out"), "timeout", True),
        (TimeoutError(), "timeout", True),
        (wrapped(ConnectionResetError(104, "reset")), "network", True),
        (
            wrapped(BaseExceptionGroup("all", [ConnectionRefusedError(111, "refused")])),
            "refused",
            True,
        ),
    ],
    ids=[
        "dns",
        "refused",
        "cert",
        "tls",
        "read-timeout",
        "connect-timeout",
        "deadline",
        "reset",
        "group",
    ],
)
def test_transport_errors_are_classified_by_their_cause(
    exc: BaseException, kind: str, retryable: bool
) -> None:
    failure = classify_exception(exc, "the auth server auth.vendor.example")
    assert (failure.kind, failure.retryable) == (kind, retryable)
    assert "auth.vendor.example" in failure.message


@pytest.mark.parametrize(
    ("status", "body", "kind", "says"),
    [
        (401, {"error": "invalid_client"}, "auth", "consumer key or secret was refused"),
        (400, {"error": "invalid_grant"}, "auth", "user name or password was refused"),
        (401, None, "auth", "401 from the auth server"),
        (503, {"error": "temporarily_unavailable"}, "http_5xx", "answered 503"),
        (200, {"token_type": "bearer"}, "token", "no access_token"),
        (404, "<html>not here</html>", "token", "answered 404"),
    ],
)
def test_token_endpoint_answers(status: int, body: object, kind: str, says: str) -> None:
    failure = classify_token_answer(status, body)
    assert failure.kind == kind
    assert says in failure.message
    assert failure.retryable == (kind == "http_5xx")


def test_a_vendors_free_text_error_is_not_repeated() -> None:
    failure = classify_token_answer(400, {"error": "user jane.doe@school.org not found"})
    assert "jane.doe" not in failure.message


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (200, None, False),
        (201, None, False),
        (401, "unauthorized", False),
        (403, "unauthorized", False),
        (409, "http_4xx", False),
        (422, "http_4xx", False),
        (429, "rate_limited", True),
        (500, "http_5xx", True),
        (503, "http_5xx", True),
        (302, "unexpected", False),
    ],
)
def test_upload_status_rule(status: int, kind: str | None, retryable: bool) -> None:
    failure = classify_upload_status(status)
    assert (failure.kind if failure else None) == kind
    assert (failure.retryable if failure else False) == retryable


def test_retry_after_seconds_are_kept_and_dates_ignored() -> None:
    seconds = classify_upload_status(503, "7")
    dated = classify_upload_status(503, "Wed, 21 Oct 2015 07:28:00 GMT")
    assert seconds is not None
    assert seconds.retry_after == 7.0
    assert dated is not None
    assert dated.retry_after is None


@pytest.mark.parametrize(
    ("status", "allow", "valid"),
    [
        (200, None, True),
        (204, "POST, OPTIONS", True),
        (204, "GET, HEAD", False),  # exists, but takes no uploads
        (405, "OPTIONS, post", True),  # no OPTIONS handler, but POST is allowed there
        (405, "GET, HEAD", False),
        (405, None, False),
        (404, None, False),
        (410, None, False),
        (401, None, False),
        (403, "POST", False),
        (301, None, False),
        (400, None, False),
        (500, None, False),
        (503, "POST", False),
    ],
)
def test_probe_rule_for_the_upload_endpoint(status: int, allow: str | None, valid: bool) -> None:
    assert (probe_upload_status(status, allow) is None) == valid
