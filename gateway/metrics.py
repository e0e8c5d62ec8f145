"""Prometheus metrics. With several uvicorn workers, `gateway serve` sets
PROMETHEUS_MULTIPROC_DIR before they start and /metrics aggregates every worker's values."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "gateway_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "gateway_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
TOKENS_ISSUED = Counter("gateway_tokens_issued_total", "Access tokens issued.")
AUTH_FAILURES = Counter(
    "gateway_client_auth_failures_total", "Failed client authentications.", ["reason"]
)
AUDIT_DROPPED = Counter(
    "gateway_audit_events_dropped_total",
    "Audit events that could not be written (refused: Postgres refused that row; overflow: the"
    " queue was full while the database was away). Alert on any increase.",
    ["reason"],
)
DISCLOSURES = Counter(
    "gateway_disclosures_total", "Disclosure log rows written.", ["event", "channel"]
)


def render(multiproc_dir: str | None) -> tuple[bytes, str]:
    """The exposition text: this process's registry, or every worker's when multiprocess."""
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
