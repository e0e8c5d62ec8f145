"""Prometheus metrics. With several uvicorn workers, `gateway serve` sets
PROMETHEUS_MULTIPROC_DIR before they start and /metrics aggregates every worker's values."""

from __future__ import annotations

import platform

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from gateway import __version__

# Always 1; the labels say what is running (a dashboard joins on them across a rollout).
BUILD_INFO = Gauge(
    "gateway_build_info",
    "The running release.",
    ["version", "python"],
    multiprocess_mode="max",
)
BUILD_INFO.labels(__version__, platform.python_version()).set(1)

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

# The release worker (`gateway worker`): what a vendor answered and how long it took.
RELEASE_OUTCOMES = Counter(
    "gateway_release_items_total",
    "Release item attempts settled, by outcome (delivered; retry: a failure tried again"
    " later; failed; lost: the lease had gone to another worker).",
    ["outcome"],
)
VENDOR_LATENCY = Histogram(
    "gateway_release_vendor_duration_seconds",
    "Time a vendor took to take one transcript (token and upload), by result.",
    ["result"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0),
)
# Read from the queue at each scrape of the worker's /metrics (see gateway.outgoing.health).
QUEUE_DEPTH = Gauge(
    "gateway_release_queue_items",
    "Release items in the queue, by state (queued: waiting or due; in_progress: leased).",
    ["state"],
    multiprocess_mode="max",
)
QUEUE_AGE = Gauge(
    "gateway_release_queue_oldest_age_seconds",
    "How long the oldest item of each state has been in it (0 when none is).",
    ["state"],
    multiprocess_mode="max",
)


def render(multiproc_dir: str | None) -> tuple[bytes, str]:
    """The exposition text: this process's registry, or every worker's when multiprocess."""
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
