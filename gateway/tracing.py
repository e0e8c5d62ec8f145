"""Optional OpenTelemetry tracing: spans of every request (ASGI), query (asyncpg) and vendor
call (httpx), exported over OTLP/HTTP.

Off unless the operator installs the `otel` extra and names a collector with the standard
OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); Settings.tracing says
which. Everything else (headers, sampling, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
batching) the SDK reads from its own standard OTEL_* variables. A `traceparent` header
(W3C Trace Context) from the caller is honoured: the request's span continues that trace.

Every log line carries the current `trace_id` and `span_id` (structlog processor below), so
a log line and its trace find each other. Raw request paths carry student ids, so the span
attributes that hold the path or URL are redacted the way log lines are.
"""

from __future__ import annotations

import socket
from collections.abc import MutableMapping
from typing import Any

from starlette.middleware import Middleware

from gateway import __version__
from gateway.errors import ConfigurationError

try:
    from opentelemetry import trace as _trace
except ImportError:  # the otel extra is not installed: no trace ids, nothing to set up
    _trace = None  # type: ignore[assignment]

_URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full", "url.query")
_configured = False


def trace_context(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current span's trace_id and span_id, when there is one."""
    if _trace is not None:
        context = _trace.get_current_span().get_span_context()
        if context.is_valid:
            event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
            event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def _redact_url_attributes(span: Any, *_: Any) -> None:
    from gateway.logging import redact_text

    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, redact_text(value))


def start_tracing() -> None:
    """Install the tracer provider and instrument asyncpg and httpx, once per process."""
    global _configured
    if _configured:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    ours: dict[str, str] = {
        "service.name": "etranscript-gateway",
        "service.version": __version__,
        "host.name": socket.gethostname(),
    }
    # The operator's OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over our defaults.
    configured = Resource.create().attributes
    for key in list(ours):
        value = str(configured.get(key, ""))
        if value and not value.startswith("unknown_service"):
            del ours[key]
    resource = Resource.create(ours)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    assert _trace is not None
    _trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument(request_hook=_redact_url_attributes)
    _configured = True


def stop_tracing() -> None:
    """Send what is still buffered before the process exits."""
    if _configured and _trace is not None:
        provider = _trace.get_tracer_provider()
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


def middleware(enabled: bool) -> list[Middleware]:
    """OpenTelemetry's ASGI middleware (one server span per request, continuing the caller's
    traceparent), outermost, so that the edge's access line carries the trace id too."""
    if not enabled:
        return []
    if _trace is None:
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'etranscript-gateway[otel]', or unset it"
        )
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    start_tracing()
    return [Middleware(OpenTelemetryMiddleware, server_request_hook=_redact_url_attributes)]
