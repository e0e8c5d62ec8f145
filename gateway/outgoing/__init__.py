"""Outgoing vendor connections: test them, and release transcripts through them in batches.

    failures.py   what went wrong with a vendor, as data (pure)          Failure, VendorFailure
    retry.py      backoff with jitter up to a limit (pure)               RetryPolicy
    report.py     the Batch Report: counts and lines (pure) and reads    load_report, list_batches
    client.py     the vendor's HTTP API: token, upload, check; tokens    VendorClient, TokenCache
    probe.py      the connection test, stored and audited                check_connection
    records.py    district data of a release, via the tenant transaction
    batches.py    queue, claim, lease, settle: the control-plane SQL     queue_batch, BatchRequest
    delivery.py   one item: read, render, upload, disclose, settle       Delivery
    worker.py     slots that claim and deliver; the lease sweeper        Worker, WorkerConfig

For the web pages:

    result = await check_connection(svc.stores.control, svc.settings.master_keys, id, actor)
    report = await load_report(conn, batch_id, district_id=None or the user's district)
    rows = await list_batches(conn, district_id=...)
    batch = await queue_batch(conn, svc.stores, district, BatchRequest(...), actor)
"""

from __future__ import annotations

from gateway.outgoing.batches import BatchRequest, queue_batch
from gateway.outgoing.client import Timeouts
from gateway.outgoing.failures import Failure, VendorFailure
from gateway.outgoing.probe import ProbeResult, check_connection
from gateway.outgoing.report import BatchReport, ReportLine, list_batches, load_report
from gateway.outgoing.retry import RetryPolicy
from gateway.outgoing.worker import Worker, WorkerConfig

__all__ = [
    "BatchReport",
    "BatchRequest",
    "Failure",
    "ProbeResult",
    "ReportLine",
    "RetryPolicy",
    "Timeouts",
    "VendorFailure",
    "Worker",
    "WorkerConfig",
    "check_connection",
    "list_batches",
    "load_report",
    "queue_batch",
]
