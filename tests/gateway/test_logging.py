"""Log lines are JSON, carry the request id, and never carry a secret, token or student data."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import structlog

from gateway.logging import REDACTED, configure_logging, get_logger
from gateway.settings import Settings
from tests.secrets_seen import Tee


@pytest.fixture(autouse=True)
def restore_session_logging() -> Iterator[None]:
    yield
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=Tee())


def capture(tmp_path: Path) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(replace(Settings(), log_format="json", home=tmp_path), stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_sensitive_keys_and_token_shaped_values_are_masked(tmp_path: Path) -> None:
    stream = capture(tmp_path)
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz"
    secret = "etgs_" + "A" * 43
    get_logger("test").info(
        "login",
        client_secret=secret,
        password="pw",
        student_id="1234567890",
        last_name="Núñez",
        note=f"bearer {jwt} and {secret}",
        nested={"access_token": jwt, "ok": 1},
        client_id="cfnc-920",
    )
    (line,) = lines(stream)
    assert line["client_secret"] == REDACTED
    assert line["password"] == REDACTED
    assert line["student_id"] == REDACTED
    assert line["last_name"] == REDACTED
    assert jwt not in json.dumps(line) and secret not in json.dumps(line)
    assert line["nested"] == {"access_token": REDACTED, "ok": 1}
    assert line["client_id"] == "cfnc-920"
    assert line["level"] == "info" and "timestamp" in line


def test_request_id_is_bound_to_every_line(tmp_path: Path) -> None:
    stream = capture(tmp_path)
    structlog.contextvars.bind_contextvars(request_id="req-42")
    try:
        get_logger("test").warning("something")
    finally:
        structlog.contextvars.clear_contextvars()
    assert lines(stream)[0]["request_id"] == "req-42"


def test_standard_library_loggers_share_the_format(tmp_path: Path) -> None:
    import logging

    stream = capture(tmp_path)
    logging.getLogger("uvicorn.error").warning("started with token eyJabcdefgh.eyJx.sig")
    (line,) = lines(stream)
    assert line["logger"] == "uvicorn.error"
    assert "eyJabcdefgh" not in line["event"]
