"""Structured logging: structlog, one JSON object per line, request id bound per request.

Redaction is a processor, not a convention: whatever a caller passes, keys that name secrets,
tokens or student data are masked, and string values that look like a bearer token (a JWT) or
one of our client secrets are masked too. The standard library's loggers (uvicorn, asyncpg)
go through the same processors so every line on stdout has one shape.
"""

from __future__ import annotations

import logging
import re
import socket
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway import __version__
from gateway.settings import Settings
from gateway.tracing import trace_context

REDACTED = "[redacted]"

# Substrings of event keys whose values are never logged.
_SENSITIVE_KEY_PARTS = (
    "secret",
    "password",
    "passwd",
    "token",
    "authorization",
    "cookie",
    "assertion",
    "birth",
    "first_name",
    "last_name",
    "student",
    "ssn",
    "private",
)
# A compact JWS (three base64url segments, header starting {"), and our secret prefixes.
_TOKEN_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SECRET_PATTERN = re.compile(r"\b(?:etgs|etgw|etgi)_[A-Za-z0-9_-]{16,}")
# What the gateway knows carries student data, whatever key it is logged under (a `url=`, an
# error message): the student id in a transcript path, and query or form fields that name a
# student or carry a name or birth date.
_STUDENT_PATH = re.compile(r"(/etranscripts/)[^/?#\s\"']+")
_PERSONAL_FIELD = re.compile(
    r"((?:student(?:_id)?|first_name|last_name|middle_name|birth_?date|date_of_birth|ssn)"
    r"[\"']?\s*[=:]\s*[\"']?)[^&\s\"',;}]+",
    re.I,
)
# Postgres error details quote the values of a violated key: student ids, names.
_KEY_VALUES = re.compile(
    r"(Key \([^)]*\)=\()[^\n]*?(\)( already exists| is not present|\.|$))", re.M
)


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SENSITIVE_KEY_PARTS)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        value = _KEY_VALUES.sub(rf"\1{REDACTED}\2", value)
        value = _STUDENT_PATH.sub(rf"\1{REDACTED}", value)
        value = _PERSONAL_FIELD.sub(rf"\1{REDACTED}", value)
        return _SECRET_PATTERN.sub(REDACTED, _TOKEN_PATTERN.sub(REDACTED, value))
    if isinstance(value, dict):
        return {k: REDACTED if _is_sensitive(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_text(value: str) -> str:
    """A string with what the gateway knows is sensitive masked (also for span attributes)."""
    scrubbed: str = _scrub(value)
    return scrubbed


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys and token-shaped values."""
    for key in list(event_dict):
        if key in ("event", "level", "timestamp", "logger"):
            event_dict[key] = _scrub(event_dict[key])
        elif _is_sensitive(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def _identity() -> Any:
    """structlog processor: which service, release and host wrote the line (a SIEM that
    gathers many hosts' logs needs all three)."""
    fields = {
        "service": "etranscript-gateway",
        "version": __version__,
        "host": socket.gethostname(),
    }

    def add(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in fields.items():
            event_dict.setdefault(key, value)
        return event_dict

    return add


def configure_logging(settings: Settings, stream: Any = None) -> None:
    """Configure structlog and the standard library once, at start-up."""
    level = getattr(logging, settings.log_level, logging.INFO)
    # Tracebacks are rendered before redaction, so that they are scrubbed too.
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _identity(),
        trace_context,
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would print raw paths and query strings (student ids, names);
    # the gateway writes its own access line with the route template instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx logs every request's full URL at INFO (vendor uploads, tests): not our lines to keep.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
